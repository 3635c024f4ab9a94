require "comparator-i;ascii-numeric";
if header :is :comparator "i;octet" "Subject" "Hello" { keep; }
if header :contains :comparator "i;ascii-casemap" "Subject" "HELLO" { keep; }
if header :is :comparator "i;ascii-numeric" "X-Priority" "2" { keep; }
if address :all :comparator "i;octet" :matches "from" "*@*" { keep; }
