require ["subaddress", "envelope", "fileinto"];
if envelope :detail "to" "fuzz" { fileinto "Fuzz"; }
if address :user :is "from" "alice" { keep; }
if address :detail :matches "from" "li*" { keep; }
