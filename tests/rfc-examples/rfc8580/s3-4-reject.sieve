# RFC 8580 section 3.4 (reject generates no message of its own: :fcc is not allowed)
require ["reject", "fcc"];

if size :over 100K {
    reject :fcc "foo" text:
Your message is too big.  If you want to send me a big attachment,
put it on a public web site and send me a URL.
.
    ;
}
