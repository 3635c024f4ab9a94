# RFC 6609 section 3.4 (Example 1, personal script "mailing_lists")
require ["fileinto"];

if header :is "Sender" "owner-ietf-mta-filters@imc.example.com"
{
    fileinto "lists.sieve";
}
elsif header :is "Sender" "owner-ietf-imapext@imc.example.com"
{
    fileinto "lists.imapext";
}
