# RFC 6009 section 2 (envelope-dsn example: only FAILURE notifications); "# do whatever" made fileinto "only-failure" (and "fileinto" required) so that the result shows
require ["envelope", "envelope-dsn", "relational",
         "comparator-i;ascii-numeric", "fileinto"];

# Check whether only FAILURE notifications were requested
if allof ( envelope "notify" "FAILURE",
           envelope :comparator "i;ascii-numeric"
                    :count "eq" "notify" "1"
         )
{
   fileinto "only-failure";
}
