if address :localpart :is ["from", "sender", "reply-to"] "alice+lists" { keep; }
if address :domain :matches "to" "*.com" { keep; }
if address :all :contains "cc" "undisclosed" { keep; }
if exists "x-spam-flag" { discard; }
