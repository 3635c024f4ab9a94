# RFC 5229 section 4.1 (modifier examples; the RFC's "=>" result notes are written as comments here, and
# each result is checked with a string test added below them)
require ["variables", "fileinto"];
set "a" "juMBlEd lETteRS";             # => "juMBlEd lETteRS"
set :length "b" "${a}";                # => "15"
if string :is "${b}" "15" { fileinto "length-15"; }
set :lower "b" "${a}";                 # => "jumbled letters"
if string :comparator "i;octet" :is "${b}" "jumbled letters" { fileinto "lower"; }
set :upperfirst "b" "${a}";            # => "JuMBlEd lETteRS"
if string :comparator "i;octet" :is "${b}" "JuMBlEd lETteRS" { fileinto "upperfirst"; }
set :upperfirst :lower "b" "${a}";     # => "Jumbled letters"
if string :comparator "i;octet" :is "${b}" "Jumbled letters" { fileinto "upperfirst-lower"; }
set :quotewildcard "b" "Rock*";        # => "Rock\*"
if string :comparator "i;octet" :is "${b}" "Rock\\*" { fileinto "quotewildcard"; }
