require ["ihave"];
if ihave "fileinto" { fileinto "X"; } else { error "no fileinto"; }
