# File messages whose Subject mentions "hello" into the Greetings folder;
# everything else takes the implicit keep (INBOX).
require "fileinto";

if header :contains "Subject" "hello" {
    fileinto "Greetings";
}
