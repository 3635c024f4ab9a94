# RFC 5703 section 4.3 (exists :mime example)
require ["mime", "fileinto"];

if exists :mime :anychild "content-md5"
{
    fileinto "INBOX.md5";
}
