require ["imap4flags", "fileinto", "variables"];
setflag "\\Seen";
addflag "flagvar" ["\\Flagged", "$Label1"];
removeflag "\\Seen";
if hasflag :contains "flagvar" "Label" { fileinto :flags "\\Answered" "Flagged"; }
keep :flags "${flagvar}";
