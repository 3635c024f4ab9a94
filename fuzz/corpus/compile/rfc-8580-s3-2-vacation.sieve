# RFC 8580 section 3.2 (vacation with :fcc; the RFC writes ":fcc" after the reason, which RFC 5228 section 2.6.2 does not allow, so it comes first here)
require ["vacation", "fcc", "mailbox", "imap4flags"];

vacation :days 7
         :from "hemingway@example.com"
         :fcc "INBOX.Sent" "Gone Fishin'";
