require ["environment", "variables", "vnd.dovecot.environment"];
if environment :is "domain" "example.com" { keep; }
if environment :contains "version" "" { set "v" "${env.vnd.dovecot.default_mailbox}"; }
