# RFC 7352 section 3 (Examples, example 1)
require ["duplicate", "fileinto", "mailbox"];

if duplicate {
  fileinto :create "Trash/Duplicate";
}
