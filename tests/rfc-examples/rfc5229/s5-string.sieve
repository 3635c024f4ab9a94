# RFC 5229 section 5 (the string test; the require line, the stop and the final discard are added so that the outcome shows)
require "variables";
set "state" "${state} pending";
if string :matches " ${state} " "* pending *" {
    # the above test always succeeds
    stop;
}
discard;
