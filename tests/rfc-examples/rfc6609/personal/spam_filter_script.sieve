# RFC 6609 section 3.4 (Example 2, personal script "spam_filter_script")
require ["variables", "include"];
global ["test", "test_mailbox"];

if header :contains "Subject" "${test}"
{
    set "test_mailbox" "spam-${test}";
}
