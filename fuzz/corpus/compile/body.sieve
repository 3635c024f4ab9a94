require ["body", "fileinto"];
if body :text :contains "cafe" { fileinto "Food"; }
if body :raw :matches "*Bob*" { keep; }
if body :content "text" :contains "hello" { keep; }
