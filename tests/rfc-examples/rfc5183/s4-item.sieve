# RFC 5183 section 4 (the environment test; the RFC prints the test alone, wrapped here in an if)
require "environment";
if environment :contains "item" "" { keep; }
