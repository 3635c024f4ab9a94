# special-use (RFC 8579): the examples of sections 3 and 4 (section 3's
# also requires "imapsieve", which Tamis does not provide), and :specialuse
# on :fcc (RFC 8580).
require ["fileinto", "special-use", "mailbox", "environment", "variables",
         "vacation", "enotify", "fcc", "imap4flags"];

fileinto :specialuse "\\Junk" "Spam";
fileinto :specialuse "\\Junk" :create "Spam";

if environment :contains "imap.mailbox" "*" {
    set "mailbox" "${1}";
}

if allof(
    environment "imap.cause" "COPY",
    specialuse_exists "${mailbox}" "\\Junk") {
    redirect "spam-report@example.org";
}

if specialuse_exists ["\\Sent", "\\Drafts"] { keep; }
set "use" "\\Sent";
vacation :fcc "Sent" :specialuse "${use}" :create :flags "\\Seen" "away";
notify :fcc "Sent" :specialuse "\\Sent" "mailto:a@example.com";
