require ["variables", "fileinto"];
set "a" "x${b}y";
set :lower :upperfirst "name" "ALICE";
set :length "len" "${name}";
set :quotewildcard "q" "*?\\";
if header :matches "Subject" "*[*]*" {
    set "tag" "${2}";
    fileinto "Tagged/${tag}";
}
if string :is "${len}" "5" { keep; }
if string :count "ge" :comparator "i;ascii-numeric" ["${a}", "", "z"] "2" { discard; }
