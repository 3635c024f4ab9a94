# RFC 6009 section 5 (redirect-deliverby example: a copy that times out after 10 minutes)
require ["copy", "redirect-deliverby"];

# Send a copy to my cell phone, time out after 10 minutes
if address "from" "user@example.com"
{
   redirect :copy :bytimerelative 600 "cellphone@example.com";
}
