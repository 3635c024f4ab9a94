# RFC 6009 section 2 (envelope-dsn example: ORCPT in example.com); "# do whatever" made fileinto "orcpt" (and "fileinto" required) so that the result shows
require ["envelope", "envelope-dsn", "fileinto"];

# See if the orcpt is an RFC822 address in the example.com
# domain
if envelope :matches "orcpt" "rfc822;*@example.com"
{
   fileinto "orcpt";
}
