# RFC 5703 section 4.1 (header :mime :type example)
require ["mime", "fileinto"];

if header :mime :type "Content-Type" "image"
{
    fileinto "INBOX.images";
}
