# RFC 6609 section 3.4 (Example 1, personal script "spam_tests")
require ["reject"];

if header :contains "Subject" "XXXX"
{
    reject "Not wanted";
}
elsif header :is "From" "money@example.com"
{
    reject "Not wanted";
}
