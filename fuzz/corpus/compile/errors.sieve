require "nonexistent";
if foo :bar "x" { keep }
fileinto "x";
if header :is "a" { stop; }
elsif true { }
else { discard; }
redirect 3;
keep "extra";
