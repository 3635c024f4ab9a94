"""The regex extension (draft-murchison-sieve-regex-08) through `tamis test`
and `tamis compile`: POSIX extended expressions, the two comparators it
allows, match variables from subexpressions, compile-time checks of
constant patterns and run-time errors for patterns built from variables
(Pigeonhole 0.5.19's wording), and the bounds Tamis adds (back-references
and sieve_regex_max_size), and set :quoteregex.
"""
import pathlib

MSG = ("From: stephan+sieve@friep.example.com\r\n"
       "To: tss@example.net, nico@nl.example.com\r\n"
       "Subject: [Sieve] Re: regex draft\r\n"
       "\r\n"
       "Test message.\r\n")

REQ = 'require ["regex", "variables", "fileinto"];\n'


def write(d, name, text):
    p = pathlib.Path(d) / name
    p.write_text(text)
    return p


def run(run_tamis, d, script, *opts, msg=MSG):
    s = write(d, "s.sieve", script)
    m = write(d, "m.eml", msg)
    return run_tamis("test", *opts, s, m)


def folders(run_tamis, d, script, *opts, msg=MSG):
    r = run(run_tamis, d, script, *opts, msg=msg)
    assert r.returncode == 0, r
    performed = r.stdout.split("Implicit keep:")[0]
    return [l[len(" * store message in folder: "):] for l in performed.splitlines()
            if l.startswith(" * store message in folder: ")]


def compile_errors(run_tamis, d, script, *opts):
    s = write(d, "e.sieve", script)
    r = run_tamis("compile", *opts, s, pathlib.Path(d) / "e.bin")
    assert r.returncode == 1, r
    return [l for l in r.stderr.splitlines() if ": error: " in l]


def test_draft_example(run_tamis, tmp_workdir):
    script = REQ + (
        'if address :regex :comparator "i;ascii-casemap" "from" [\n'
        '  "stephan(\\\\+.*)?@it\\\\.example\\\\.com",\n'
        '  "stephan(\\\\+.*)?@friep\\\\.example\\\\.com"] {\n'
        '  fileinto "matched${1}";\n'
        '}\n')
    assert folders(run_tamis, tmp_workdir, script) == ["matched+sieve"]


def test_subexpressions_become_match_values(run_tamis, tmp_workdir):
    script = REQ + (
        'if header :regex "subject" "^\\\\[([a-z]+)\\\\] (Re|Fwd): (.*)$" {\n'
        '  fileinto "${1}/${2}/${3}/${0}";\n'
        '}\n')
    assert folders(run_tamis, tmp_workdir, script) == ["Sieve/Re/regex draft/[Sieve] Re: regex draft"]


def test_groups_that_did_not_match_are_empty(run_tamis, tmp_workdir):
    script = REQ + (
        'if string :regex "ac" "(a)(b)?(c)" { fileinto "${1}-${2}-${3}-${4}"; }\n')
    assert folders(run_tamis, tmp_workdir, script) == ["a--c-"]


def test_match_values_only_change_on_a_match(run_tamis, tmp_workdir):
    script = REQ + (
        'if string :regex "the cat jumps" "the (.*) jumps" { }\n'
        'if string :regex "the dog barks" "the (.*) sleeps" { }\n'
        'fileinto "${1}";\n')
    assert folders(run_tamis, tmp_workdir, script) == ["cat"]


def test_comparators(run_tamis, tmp_workdir):
    script = REQ + (
        # header defaults to i;ascii-casemap: case-insensitive
        'if header :regex "subject" "^\\\\[sieve\\\\]" { fileinto "casemap"; }\n'
        'if header :regex :comparator "i;octet" "subject" "^\\\\[sieve\\\\]" { fileinto "wrong"; }\n'
        'if header :regex :comparator "i;octet" "subject" "^\\\\[Sieve\\\\]" { fileinto "octet"; }\n'
        # the string test defaults to i;octet (as Pigeonhole)
        'if string :regex "ABC" "abc" { fileinto "wrong2"; }\n')
    assert folders(run_tamis, tmp_workdir, script) == ["casemap", "octet"]


def test_no_values_no_match(run_tamis, tmp_workdir):
    script = REQ + 'if header :regex "cc" ".*" { fileinto "wrong"; }\n'
    assert folders(run_tamis, tmp_workdir, script) == []


def test_not_anchored_and_dot_matches_newline(run_tamis, tmp_workdir):
    script = REQ + (
        'if string :regex "xx frop yy" "frop" { fileinto "unanchored"; }\n'
        # a quoted string may hold a line break; "." matches it
        'if string :regex "a\r\nb" "^a..b$" { fileinto "newline"; }\n')
    assert folders(run_tamis, tmp_workdir, script) == ["unanchored", "newline"]


def test_variable_pattern(run_tamis, tmp_workdir):
    script = REQ + (
        'set "re" "stephan[+](sieve)@friep.example.com";\n'
        'if header :regex "from" "${re}" { fileinto "${1}"; }\n')
    assert folders(run_tamis, tmp_workdir, script) == ["sieve"]


def test_compile_errors_worded_as_pigeonhole(run_tamis, tmp_workdir):
    errs = compile_errors(run_tamis, tmp_workdir, (
        'require ["regex", "comparator-i;ascii-numeric"];\n'
        'if header :regex :comparator "i;ascii-numeric" "from" "a" { keep; }\n'
        'if header :regex "from" "sirius(+\\\\+.*)?" { keep; }\n'
        'if header :regex "from" ["ok", "ex[]ample"] { keep; }\n'))
    assert errs[0].startswith("e:2:") and errs[0].endswith("error: regex match type only supports i;octet and "
                            "i;ascii-casemap comparators."), errs
    assert errs[1].endswith(":3:25: error: invalid regular expression 'sirius(+\\+.*)?' for regex "
                            "match: invalid preceding regular expression."), errs
    assert errs[2].endswith("error: invalid regular expression 'ex[]ample' for regex match: "
                            "unmatched [, [^, [:, [., or [=."), errs
    assert errs[3].endswith("validation failed."), errs


def test_runtime_error_for_a_bad_variable_pattern(run_tamis, tmp_workdir):
    script = REQ + 'set "re" "[";\nif header :regex "to" "${re}" { fileinto "frop"; }\n'
    r = run(run_tamis, tmp_workdir, script)
    # The test is false, the error is logged, the script goes on.
    assert r.returncode == 0, r
    assert "error: invalid regular expression '[' for regex match: " in r.stderr, r
    assert "Implicit keep:\n\n * store message in folder: INBOX" in r.stdout, r


def test_back_references_are_refused(run_tamis, tmp_workdir):
    errs = compile_errors(run_tamis, tmp_workdir, REQ + 'if header :regex "to" "(a*)*\\\\1" { keep; }\n')
    assert "for regex match: invalid back reference." in errs[0], errs
    # ... but an escaped backslash followed by a digit is no back-reference
    script = REQ + 'if string :regex "x\\\\1" "x\\\\\\\\1" { fileinto "ok"; }\n'
    assert folders(run_tamis, tmp_workdir, script) == ["ok"]


def test_size_limit(run_tamis, tmp_workdir):
    # Nested intervals multiply: ((a{100}){100}){100} would be a million atoms.
    errs = compile_errors(run_tamis, tmp_workdir,
                          REQ + 'if header :regex "to" "((a{100}){100}){100}" { keep; }\n')
    assert "for regex match: regular expression too big." in errs[0], errs
    # The limit is a setting.
    pat = "x{1000}"
    s = REQ + f'if string :regex "x" "{pat}" {{ fileinto "no"; }}\n'
    assert folders(run_tamis, tmp_workdir, s) == []
    errs = compile_errors(run_tamis, tmp_workdir, s, "-o", "sieve_regex_max_size=500")
    assert "regular expression too big" in errs[0], errs
    # Same for a pattern built at run time: an error, and no match.
    r = run(run_tamis, tmp_workdir, REQ + 'set "p" "(a{100}){100}";\n'
            'if string :regex "a" "${p}" { fileinto "no"; }\n', "-o", "sieve_regex_max_size=5000")
    assert r.returncode == 0 and "regular expression too big" in r.stderr, r


def test_stacked_plus_is_bounded(run_tamis, tmp_workdir):
    # glibc compiles "x+" as "xx*", so each stacked '+' doubles the compiled
    # size: "Z" followed by 40 '+' made regcomp take more than 2 GB (found
    # by fuzz_compile).  Such a pattern is "too big", at compile time and
    # when built at run time, and the process stays small.
    pat = "Z" + "+" * 40
    errs = compile_errors(run_tamis, tmp_workdir, REQ + f'if header :regex "to" "{pat}" {{ keep; }}\n')
    assert "for regex match: regular expression too big." in errs[0], errs
    r = run(run_tamis, tmp_workdir, REQ + f'set "p" "{pat}";\n'
            'if string :regex "Z" "${p}" { fileinto "no"; }\n')
    assert r.returncode == 0 and "regular expression too big" in r.stderr, r
    # Ordinary uses of '+' are unaffected.
    script = REQ + 'if string :regex "aaab-cd" "^(a+b+)+-c+d?$" { fileinto "ok"; }\n'
    assert folders(run_tamis, tmp_workdir, script) == ["ok"]


def test_same_pattern_many_times(run_tamis, tmp_workdir):
    # The compiled pattern is shared (per binary); results stay per test.
    script = REQ + "".join(
        f'if string :regex "v{i}" "^v([0-9])$" {{ fileinto "${{1}}"; }}\n' for i in range(12))
    assert folders(run_tamis, tmp_workdir, script) == [str(i) for i in range(10)]


def test_quoteregex(run_tamis, tmp_workdir):
    # draft-ietf-sieve-regex-01 section 4 (as Cyrus has it): set :quoteregex
    # escapes what is special in a POSIX ERE, so a value taken from the
    # message matches only itself when it is put inside a :regex key.
    orig = 'a.b*c?(d)[e]{2}|f^$+\\\\g]}'
    script = REQ + (
        f'set "orig" "{orig}";\n'
        'set :quoteregex "q" "${orig}";\n'
        'if string :regex "${orig}" "^${q}$" { fileinto "itself"; }\n'
        'if string :regex "axbbbc(d)e{2}" "^${q}" { fileinto "wrong"; }\n'
        'if string :is "${q}" "a\\\\.b\\\\*c\\\\?\\\\(d\\\\)\\\\[e]\\\\{2}\\\\|f\\\\^\\\\$\\\\+\\\\\\\\g]}" {\n'
        '  fileinto "escaped";\n'
        '}\n'
        # A subject taken from the message, used as a pattern.
        'if header :matches "subject" "*" { set :quoteregex "s" "${1}"; }\n'
        'if header :regex "subject" "^${s}$" { fileinto "subject"; }\n'
        # Precedence 20: after :upper (40), before :length (10).
        'set :length :quoteregex :upper "n" "x.y";\n'
        'fileinto "len${n}";\n')
    assert folders(run_tamis, tmp_workdir, script) == ["itself", "escaped", "subject", "len4"]


def test_quoteregex_needs_regex_and_conflicts_with_quotewildcard(run_tamis, tmp_workdir):
    errs = compile_errors(run_tamis, tmp_workdir,
                          'require "variables";\nset :quoteregex "a" "b";\n')
    assert "unknown tagged argument ':quoteregex' for the set command" in errs[0], errs
    errs = compile_errors(run_tamis, tmp_workdir,
                          REQ + 'set :quoteregex :quotewildcard "a" "b";\n')
    assert "conflict having equal precedence" in errs[0], errs
