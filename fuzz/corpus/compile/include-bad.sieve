require "include";
include "self";
include "bad";
include "inv";
include "error";
include "../etc/passwd";
