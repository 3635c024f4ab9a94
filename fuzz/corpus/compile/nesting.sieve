if anyof(not allof(true, false), anyof(false, not not true)) {
  if true { if false { keep; } else { if true { discard; } } }
}
if not anyof(header :is "a" "b", header :is "c" "d") { keep; }
