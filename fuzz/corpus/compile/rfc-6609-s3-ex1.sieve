# RFC 6609 section 3.4 (Example 1, the user's main script)
require ["include"];

include :personal "always_allow";
include :global "spam_tests";
include :personal "spam_tests";
include :personal "mailing_lists";
