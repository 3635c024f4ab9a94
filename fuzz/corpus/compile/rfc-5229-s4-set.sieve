# RFC 5229 section 4 (the set action; a require line and a final fileinto that shows the value are added)
require ["variables", "fileinto"];
set "honorific"  "Mr";
set "first_name" "Wile";
set "last_name"  "Coyote";
set "vacation" text:
Dear ${HONORIFIC} ${last_name},
I'm out, please leave a message after the meep.
.
;
if string :is "${vacation}" "Dear Mr Coyote,
I'm out, please leave a message after the meep.
" { fileinto "expanded"; }
