# RFC 6134 section 2.3 (example: reject mail that came from a listed IP address)
require ["variables", "extlists", "index", "reject"];
if header :index 1 :matches "received" "*(* [*.*.*.*])*" {
  set "ip" "${3}.${4}.${5}.${6}";
  if string :list "${ip}"
     "tag:example.com,2011-04-10:DisallowedIPs" {
    reject "Message not allowed from this IP address";
  }
}
