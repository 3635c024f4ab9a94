# RFC 5429 section 2.2 (reject example)
require ["reject"];

if size :over 100K {
    reject text:
Your message is too big.  If you want to send me a big attachment,
put it on a public web site and send me a URL.
.
;
}
