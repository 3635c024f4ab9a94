require ["fileinto", "envelope"];
if anyof (header :matches "List-Id" "*<users.*>", envelope :localpart :is "to" "bob") {
    fileinto "Lists/users";
    stop;
}
if allof (exists ["From", "Date"], not size :over 100K) {
    fileinto "Small";
}
