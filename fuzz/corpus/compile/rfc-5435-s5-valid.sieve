# RFC 5435 section 5 (valid_notify_method example; the require line is added)
require ["enotify"];
if not valid_notify_method ["mailto:",
        "http://gw.example.net/notify?test"] {
    stop;
}
