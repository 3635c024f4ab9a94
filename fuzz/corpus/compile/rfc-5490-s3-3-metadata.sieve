# RFC 5490 section 3.3 (metadata test example; the ";" that ends the vacation command, missing after the text: block in the RFC, is added)
require ["mboxmetadata", "vacation"];

if metadata :is "INBOX"
   "/private/vendor/vendor.isode/auto-replies" "on" {

    vacation text:
I'm away on holidays till March 2009.
Expect a delay.
.
;
}
