# RFC 5435 section 7 (the :encodeurl modifier example; the require line is added)
require ["enotify", "variables"];
set :encodeurl "body_param" "Safe body&evil=evilbody";
notify "mailto:tim@example.com?body=${body_param}";
