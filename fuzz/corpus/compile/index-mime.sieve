require ["index", "date", "mime", "variables"];
if header :index 2 :contains "received" "mx" { keep; }
if header :index 1 :last "received" "x" { keep; }
if exists :mime :anychild "content-type" { keep; }
