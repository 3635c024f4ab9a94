# RFC 6009 section 5 (redirect-deliverby example: a copy with a deadline at 20:00 today)
require ["copy", "redirect-deliverby", "date", "variables",
         "relational", "comparator-i;ascii-numeric"];

# Send a copy to my cell phone to be delivered before 10PM
if currentdate :value "lt"
               :comparator "i;ascii-numeric" "hour" "22"
{
   if currentdate :matches "date" "*" {set "date" "${0}";}
   if currentdate :matches "zone" "*" {set "zone" "${0}";}
   redirect :copy :bytimeabsolute "${date}T20:00:00${zone}"
            :bymode "return" "cellphone@example.com";
}
