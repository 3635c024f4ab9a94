# RFC 8580 section 3.2 (vacation with :fcc and the options of section 3: :specialuse, :create, :flags; tags before the reason as RFC 5228 requires)
require ["vacation", "fcc", "mailbox", "special-use", "imap4flags"];

vacation :days 7
         :from "hemingway@example.com"
         :specialuse "\\Sent" :create
         :fcc "INBOX.Sent" :flags ["\\Seen"] "Gone Fishin'";
