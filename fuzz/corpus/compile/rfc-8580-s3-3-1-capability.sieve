# RFC 8580 section 3.3.1 (notify_method_capability "fcc")
require ["enotify", "fcc"];

if notify_method_capability "xmpp:" "fcc" "yes" {
    notify :fcc "INBOX.Sent"
           :message "You got mail"
           "xmpp:ken@example.com?message;subject=SIEVE";
} else {
    notify :fcc "INBOX.Sent"
           :message "You got mail!"
           "mailto:ken@example.com";
}
