if header :is "X-Multi" text:
line one
..dot-stuffed
line three
.
{ keep; }
if header :is "X-Esc" "a\"b\\c\q" { stop; }
# comment
/* block
   comment */
if size :under 1M { keep; }
if size :over 0 { keep; }
