# RFC 5703 section 4.1 (header :mime :anychild :contenttype example)
require ["mime", "fileinto"];

if header :mime :anychild :contenttype
          "Content-Type" "text/html"
{
    fileinto "INBOX.html";
}
