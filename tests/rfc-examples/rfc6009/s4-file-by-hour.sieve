# RFC 6009 section 4 (envelope-deliverby example: file by the deadline's hour)
require ["envelope", "envelope-deliverby", "relational", "date",
         "variables", "fileinto"];

# If the message didn't make it in time, file it according to when it
# should have been received
if envelope :matches :zone "+0000" "bytimeabsolute" "*T*:*:*" {
   set "bdate" "${0}";
   set "bhour" "${2}";
   if currentdate :zone "+0000" :value "lt" "iso8601" "${bdate}" {
      fileinto "missed-${bhour}";
   }
}
