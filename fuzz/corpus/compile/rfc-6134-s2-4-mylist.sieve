# RFC 6134 section 2.4 (example: a submission from a list member goes to every member)
require ["extlists", "envelope", "subaddress"];

# Submission from list members is sent to all members
if allof (envelope :detail "to" "mylist",
          header :list "from"
                 "tag:example.com,2010-05-28:mylist") {
  redirect :list "tag:example.com,2010-05-28:mylist";
}
