require ["regex", "variables"];
if header :reeex "subject" "^(Caf.) (meeting)$." { set "w" "${0}-${2}"; }
if address :regex :localpart "from" "[a-z]+€€€ZZZZZZZZZZZZZZZZZZZZ+++++++++++++++++++++++++++++++++++++++++ZZZZZZZZZZZZZZZZZZZZ€€€[[[[:mime>containsÿÿÿ&&&ÿ[[[[nnress :regex :localnnnnnnnnnn.nnnnnnfalsn:lenn[[[[[\\+.*" { keep; }
