require ["reject", "ereject"];
if header :contains "subject" "spam" { reject "No thanks."; }
if size :over 10M { ereject "Too big"; }
