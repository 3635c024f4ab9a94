require ["date", "relational", "variables"];
if currentdate :value "ge" "date" "2023-01-01" { keep; }
if date :is "date" "weekday" "1" { keep; }
if date :zone "+0200" :matches "Date" "iso8601" "2023-*" { set "d" "${0}"; }
