require ["include", "variables"];
global "g";
set "g" "value";
include :personal "a";
include :global :optional :once "c";
include "b";
include :optional "missing";
if string :is "${g}" "valuex" { return; }
keep;
