require ["enotify", "variables"];
if valid_notify_method "mailto:bob@example.com" {
  notify :importance "1" :message "New mail" "mailto:bob@example.com";
}
set :encodeurl "u" "a b&c";
if notify_method_capability "mailto:x@example.com" "online" "yes" { keep; }
