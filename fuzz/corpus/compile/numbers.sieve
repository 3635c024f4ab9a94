if size :over 4294967295 { keep; }
if size :under 18446744073709551615 { keep; }
if size :over 1G { keep; }
if size :under 99999999999999999999999 { keep; }
