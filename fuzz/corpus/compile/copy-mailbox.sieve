require ["copy", "fileinto", "mailbox"];
fileinto :copy :create "Archive/2023";
redirect :copy "archive@example.com";
if mailboxexists "Junk" { fileinto "Junk"; }
