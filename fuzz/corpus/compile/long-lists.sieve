require ["fileinto"];
if header :contains ["subject", "from", "to", "cc", "x-a", "x-b"] ["a", "b", "c", "d", "e", "f", "g", "h"] {
  fileinto "Many";
}
if header :matches "subject" ["*a*b*c*d*e*", "?*?*?", "\\*", "**?*"] { keep; }
