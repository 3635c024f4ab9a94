# RFC 5235 section 5 (Examples: virustest)
require ["virustest", "fileinto", "relational",
         "comparator-i;ascii-numeric"];

if virustest :value "eq"
             :comparator "i;ascii-numeric" "0"
{
    fileinto "INBOX.unclassified";
}
if virustest :value "eq"
             :comparator "i;ascii-numeric" "4"
{
    fileinto "INBOX.quarantine";
}
elsif virustest :value "eq"
                :comparator "i;ascii-numeric" "5"
{
    discard;
}
