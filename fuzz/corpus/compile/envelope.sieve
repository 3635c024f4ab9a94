require ["envelope", "variables"];
if envelope :all :is "from" "" { discard; }
if envelope :matches "to" "*+*@*" { set "detail" "${2}"; }
if envelope :domain :contains ["from", "to", "auth"] "example" { keep; }
