# RFC 5703 section 7 (extracttext example; "foreverypart" and "fileinto" are required and a fileinto
# that shows ${subject} and ${msgcontent} replaces the comment of the last block)
require ["mime", "variables", "extracttext", "foreverypart", "fileinto"];

if header :contains "from" "boss@example.org"
{
  # :matches is used to get the value of the Subject header
  if header :matches "Subject" "*"
  {
    set "subject" "${1}";
  }

  # extract the first 100 characters of the first text/* part
  foreverypart
  {
    if header :mime :type :is "Content-Type" "text"
    {
      extracttext :first 100 "msgcontent";
      break;
    }
  }

  # if it's not a 'for your information' message
  if not header :contains "subject" "FYI:"
  {
    fileinto "${subject}: ${msgcontent}";
  }
}
