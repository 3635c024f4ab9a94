require ["regex", "variables"];
if header :regex "subject" "^(Caf.) (meeting)$" { set "w" "${1}-${2}"; }
if address :regex :localpart "from" "[a-z]+\\+.*" { keep; }
