# RFC 9042 section 4.3 (:mailboxid with :fcc of RFC 8580)
require ["enotify", "fcc", "mailboxid"];

notify :fcc "INBOX.Sent"
       :mailboxid "F6352ae03-b7f5-463c-896f-d8b48ee3"
       :message "You got mail!"
       "mailto:ken@example.com";
