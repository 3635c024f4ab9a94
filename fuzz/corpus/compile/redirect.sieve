redirect "a@example.com";
redirect "b@example.com";
redirect "a@EXAMPLE.com";
keep;
discard;
