require ["relational", "comparator-i;ascii-numeric"];
if header :value "gt" :comparator "i;ascii-numeric" "X-Spam-Score" "4" { discard; }
if address :count "ge" :comparator "i;ascii-numeric" ["to", "cc"] "2" { keep; }
if header :value "le" "x-priority" ["1", "2"] { keep; }
