# RFC 6609 section 3.4 (Example 1, global script "spam_tests")
require ["reject"];

if anyof (header :contains "Subject" "$$",
          header :contains "Subject" "Make money")
{
    reject "Not wanted";
}
