# RFC 5260 section 5 (currentdate test, fourth example)
require ["date", "variables", "editheader"];
if currentdate :matches "std11" "*"
  {addheader "Processing-date" "${0}";}
