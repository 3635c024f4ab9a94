# RFC 5293 section 6 (deleteheader example; the require lines and the test after it are added)
require ["editheader", "fileinto"];
deleteheader :index 1 :contains "Delivered-To"
                        "bob@example.com";
if header :is "Delivered-To" "bob@example.com" { fileinto "still-there"; }
