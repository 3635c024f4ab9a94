# RFC 6009 section 4 (envelope-deliverby example: bytimeabsolute against currentdate); "# do whatever" made fileinto "compared" (and "fileinto" required) so that the result shows
require ["envelope", "envelope-deliverby", "relational", "date",
         "variables", "fileinto"];

# Check to see if this message didn't make it in the time allotted by
# the originator.
if currentdate :matches "iso8601" "*" {
   set "cdate" "${0}";
   if envelope :value "ge" "bytimeabsolute" "${cdate}" {
      fileinto "compared";
   }
}
