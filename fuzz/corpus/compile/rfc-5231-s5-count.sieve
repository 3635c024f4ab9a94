# RFC 5231 section 5 (examples of :count; the RFC prints the tests alone, each wrapped here in an if)
require ["relational", "comparator-i;ascii-numeric", "fileinto"];
if address :count "ge" :comparator "i;ascii-numeric"
                   ["to", "cc"] ["3"] { fileinto "ge-3"; }
if anyof ( address :count "ge" :comparator "i;ascii-numeric"
                      ["to"] ["3"],
           address :count "ge" :comparator "i;ascii-numeric"
                      ["cc"] ["3"] ) { fileinto "either-ge-3"; }
if header :count "ge" :comparator "i;ascii-numeric"
                   ["received"] ["3"] { fileinto "received-ge-3"; }
if header :count "ge" :comparator "i;ascii-numeric" ["received", "subject"]
                   ["3"] { fileinto "received-subject-ge-3"; }
if header :count "ge" :comparator "i;ascii-numeric"
                   ["to", "cc"] ["3"] { fileinto "to-cc-ge-3"; }
