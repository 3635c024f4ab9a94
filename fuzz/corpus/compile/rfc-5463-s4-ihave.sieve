# RFC 5463 section 4 (the ihave test; built around the test the RFC defines, not printed by it)
require ["ihave", "fileinto"];
if ihave "fileinto" { fileinto "has-fileinto"; }
if ihave "nonexistent-extension" { fileinto "impossible"; }
