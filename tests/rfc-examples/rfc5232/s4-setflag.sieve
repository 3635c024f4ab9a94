# RFC 5232 section 4 (setflag example; the require line is added)
require ["imap4flags", "fileinto", "variables"];
if header :contains "from" "boss@frobnitzm.example.edu" {
    setflag "flagvar" "\\Flagged";
    fileinto :flags "${flagvar}" "INBOX.From Boss";
}
