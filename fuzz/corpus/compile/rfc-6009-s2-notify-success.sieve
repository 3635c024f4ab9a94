# RFC 6009 section 2 (envelope-dsn example: were SUCCESS notifications asked for?); "# do whatever" made fileinto "success" (and "fileinto" required) so that the result shows
require ["envelope", "envelope-dsn", "fileinto"];

# Check whether SUCCESS notifications were requested,
# irrespective of any other requests that were made
if envelope "notify" "SUCCESS"
{
   fileinto "success";
}
