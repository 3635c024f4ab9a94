# RFC 5463 section 5 (the error action; built around the command the RFC defines, not printed by it)
require ["ihave"];
if not ihave "nonexistent-extension" {
    error "nonexistent-extension is not available";
}
