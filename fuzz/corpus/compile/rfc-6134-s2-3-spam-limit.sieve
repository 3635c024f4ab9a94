# RFC 6134 section 2.3 (example 1: a known sender may score higher in spamtest)
require ["envelope", "extlists", "fileinto", "spamtest",
         "relational", "comparator-i;ascii-numeric"];
if envelope :list "from" ":addrbook:default"
  { /* Known: allow high spam score */
    if spamtest :value "ge" :comparator "i;ascii-numeric" "8"
      {
        fileinto "spam";
      }
  }
elsif spamtest :value "ge" :comparator "i;ascii-numeric" "3"
  { /* Unknown: less tolerance in spam score */
    fileinto "spam";
  }
