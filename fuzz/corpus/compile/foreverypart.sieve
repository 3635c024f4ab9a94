require ["foreverypart", "mime", "variables", "fileinto"];
foreverypart :name "outer" {
  if header :mime :type :is "Content-Type" "text" {
    set "t" "${1}";
    break :name "outer";
  }
}
if header :mime :param "charset" :is "Content-Type" "utf-8" { keep; }
