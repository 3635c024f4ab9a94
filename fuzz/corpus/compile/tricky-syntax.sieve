if header :is "a" ["b",
"c"]{keep;}if true{stop;}
IF HEADER :IS "A" "B" { KEEP; }
require "fileinto";
if header :contains "subject" "${unterminated" { keep; }
"string"; :tag; 12; [];
