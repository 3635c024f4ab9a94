# RFC 8580 section 3.3 (notify with :fcc)
require ["enotify", "fcc"];

notify :fcc "INBOX.Sent"
       :message "You got mail!"
       "mailto:ken@example.com";
