require ["editheader", "variables"];
addheader "X-Tamis" "seen";
addheader :last "X-Tamis" "last";
deleteheader :index 1 "X-Tamis";
deleteheader :matches "Received" "*example*";
if header :is "X-Tamis" "last" { keep; }
