# RFC 6134 section 2.3 (example 2: notify on a local holiday)
require ["extlists", "date", "enotify"];
if currentdate :list "date"
   "tag:example.com,2011-01-01:localHolidays" {
  notify "xmpp:romeo@im.example.com";
}
