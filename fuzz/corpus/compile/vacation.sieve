require ["vacation", "variables"];
if header :matches "subject" "*" { set "subj" "${1}"; }
vacation :days 7 :subject "Re: ${subj}" :from "bob@example.com"
  :addresses ["bob@example.com", "robert@example.com"] :handle "h1"
  "I am away.";
