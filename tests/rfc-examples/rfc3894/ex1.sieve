# RFC 3894 section 3 (example of :copy)
require ["copy", "fileinto"];
fileinto :copy "incoming";
