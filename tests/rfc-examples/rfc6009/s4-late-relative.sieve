# RFC 6009 section 4 (envelope-deliverby example: deadline passed, by bytimerelative); "# do whatever" made fileinto "late" (and "fileinto" required) so that the result shows
require ["envelope", "envelope-deliverby", "relational",
         "comparator-i;ascii-numeric", "fileinto"];

# Check to see if this message didn't make it in the time allotted by
# the originator.
if anyof (envelope :contains "bytimerelative" "-",
          envelope :value "eq" :comparator "i;ascii-numeric"
                   "bytimerelative" "0")
{
   fileinto "late";
}
