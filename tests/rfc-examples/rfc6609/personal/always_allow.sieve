# RFC 6609 section 3.4 (Example 1, personal script "always_allow")
if header :is "From" "boss@example.com"
{
    keep;
}
elsif header :is "From" "ceo@example.com"
{
    keep;
}
