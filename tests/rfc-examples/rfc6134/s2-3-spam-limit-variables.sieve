# RFC 6134 section 2.3 (example 1 again, with a variable for the limit)
require ["envelope", "extlists", "fileinto", "spamtest",
         "variables", "relational", "comparator-i;ascii-numeric"];
if envelope :list "from" ":addrbook:default" {
  set "lim" "8";  /* Known: allow high spam score */
} else {
  set "lim" "3";  /* Unknown: less tolerance in spam score */
}
if spamtest :value "ge" :comparator "i;ascii-numeric" "${lim}" {
  fileinto "spam";
}
