# RFC 6134 section 2.3 (example 2 with a mailto: method in place of the RFC's xmpp:, which Tamis does not have)
require ["extlists", "date", "enotify"];
if currentdate :list "date"
   "tag:example.com,2011-01-01:localHolidays" {
  notify "mailto:romeo@example.com";
}
