# RFC 5703 section 5: replace [:mime] [:subject string] [:from string]
#                            <replacement: string>
require ["replace", "variables"];
replace "plain text";
replace :mime text:
Content-Type: text/html; charset=utf-8

<p>removed</p>
.
;
replace :subject "Inhalt entfernt" "x";
replace :from "Filter <filter@example.net>" "x";
replace :from "a@example.net, B <b@example.net>" "x";
set "f" "filter@example.net";
replace :mime :subject "Removed" :from "${f}" "Content-Type: text/plain

${f}";
