# RFC 5703 section 6: enclose <:subject string> <:headers string-list> string
require ["enclose", "variables"];
enclose "text";
enclose :subject "Warning" "text";
enclose :headers "To" "text";
enclose :headers ["From", "Date", "To", "X-Scan: suspicious"] :subject "W" text:
The enclosed message was quarantined.
.
;
set "h" "Cc";
enclose :subject "${h}" :headers ["${h}"] "${h}";
