# RFC 5235 section 5 (Examples: spamtestplus)
require ["spamtestplus", "fileinto", "relational",
         "comparator-i;ascii-numeric"];

if spamtest :value "eq"
            :comparator "i;ascii-numeric" "0"
{
    fileinto "INBOX.unclassified";
}
elsif spamtest :percent :value "eq"
               :comparator "i;ascii-numeric" "0"
{
    fileinto "INBOX.not-spam";
}
elsif spamtest :percent :value "lt"
               :comparator "i;ascii-numeric" "37"
{
    fileinto "INBOX.spam-trap";
}
else
{
    discard;
}
