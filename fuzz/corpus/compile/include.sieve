require ["include", "variables"];
global "g";
set "g" "value";
include :personal "other";
include :global :optional :once "admin";
return;
