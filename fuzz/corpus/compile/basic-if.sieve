# Core commands and tests (RFC 5228)
if header :contains "subject" "hello" {
    keep;
} elsif address :domain :is "from" "example.org" {
    discard;
} else {
    redirect "bob@example.com";
}
