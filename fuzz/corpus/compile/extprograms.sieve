require ["vnd.dovecot.pipe", "vnd.dovecot.filter", "vnd.dovecot.execute", "variables"];
pipe :try "program" ["arg1", "arg2"];
filter "rewrite";
execute :output "out" "prog";
if execute :pipe "check" { keep; }
