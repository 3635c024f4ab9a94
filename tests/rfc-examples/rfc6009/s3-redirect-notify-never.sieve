# RFC 6009 section 3 (redirect-dsn example: a private copy without DSNs)
require ["copy", "redirect-dsn"];

# Make a private copy of messages from user@example.com
if address "from" "user@example.com"
{
   redirect :copy :notify "NEVER" "elsewhere@example.com";
}
