require ["duplicate", "variables"];
if duplicate :seconds 3600 :header "message-id" { discard; }
if duplicate :uniqueid "${1}" :handle "h" { keep; }
