require ["spamtest", "virustest", "relational", "comparator-i;ascii-numeric"];
if spamtest :value "ge" :comparator "i;ascii-numeric" "5" { discard; }
if virustest :value "eq" :comparator "i;ascii-numeric" "5" { discard; }
