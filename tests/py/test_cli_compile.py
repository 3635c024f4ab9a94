"""`tamis compile`, `tamis dump` and `tamis test` on whole scripts.

Spec:
- `tamis compile SCRIPT` on a good script writes SCRIPT.tmsbin (the .sieve
  suffix replaced) or the OUT given, and exits 0;
- on a bad script it prints every error, each as NAME:LINE:COL: error: ...
  (NAME is the script's file name without .sieve), exits 1 and writes
  nothing;
- `tamis dump` disassembles a script or a compiled binary, the same way,
  with source lines; a corrupt binary is an error, not a crash;
- the example scripts of RFC 5228 (section 9's extended example and the
  smaller ones of the earlier sections, written out here from the RFC text)
  compile, and `tamis test` on crafted messages takes the actions the RFC
  describes.
"""
import re

import pytest

ERROR_RE = re.compile(r"^(?P<name>[^:\s]+):(?P<line>\d+):(?P<col>\d+): error: (?P<msg>.+)$")


def write(d, name, text):
    p = d / name
    p.write_text(text)
    return p


def message(headers, body="Hello.\r\n"):
    return "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n" + body


def actions(run_tamis, d, script_path, headers, *opts, body=None):
    """Runs `tamis test`; returns (performed actions, implicit keep)."""
    m = write(d, "msg.eml", message(headers) if body is None else message(headers, body))
    r = run_tamis("test", *opts, script_path, m)
    assert r.returncode == 0, r
    performed, _, keep = r.stdout.partition("Implicit keep:")
    take = lambda text: [l.strip()[2:] for l in text.splitlines() if l.strip().startswith("* ")]  # noqa: E731
    return take(performed), take(keep)


# ---- tamis compile ------------------------------------------------------

GOOD = """require ["fileinto", "envelope"];
# file mail from lists
if header :contains "list-id" "<users.example.org>" {
    fileinto "Lists/users";
} elsif envelope :is "from" "" {
    discard;
}
keep;
"""


def test_compile_good_script_writes_tmsbin_beside_it(run_tamis, tmp_workdir):
    s = write(tmp_workdir, "good.sieve", GOOD)
    r = run_tamis("compile", s)
    assert r.returncode == 0, r
    assert "error" not in r.output, r
    b = tmp_workdir / "good.tmsbin"
    assert b.is_file(), r
    data = b.read_bytes()
    assert data[:4] == b"TSMB", data[:16]
    assert sorted(p.name for p in tmp_workdir.iterdir()) == ["good.sieve", "good.tmsbin"]


def test_compile_to_a_given_output(run_tamis, tmp_workdir):
    s = write(tmp_workdir, "good.sieve", GOOD)
    out = tmp_workdir / "elsewhere.bin"
    r = run_tamis("compile", s, out)
    assert r.returncode == 0, r
    assert out.is_file()
    assert not (tmp_workdir / "good.tmsbin").exists()


def test_compile_script_without_sieve_suffix(run_tamis, tmp_workdir):
    s = write(tmp_workdir, "rules", "keep;\n")
    r = run_tamis("compile", s)
    assert r.returncode == 0, r
    assert (tmp_workdir / "rules.tmsbin").is_file()


BAD = """require "fileinto";
fileinto 3;
if header :bogus "a" "b" { keep; }
frobnicate "x";
redirect "not an address";
if size 100 { stop; }
keep;
if address :is "x-no-address-header" "a" { stop; }
"""
BAD_LINES = [2, 3, 4, 5, 6, 8]


def compile_errors(r):
    errs = []
    for line in r.stderr.splitlines():
        m = ERROR_RE.match(line)
        if m:
            errs.append(m)
    return errs


def test_compile_bad_script_reports_every_error_with_location(run_tamis, tmp_workdir):
    s = write(tmp_workdir, "bad.sieve", BAD)
    r = run_tamis("compile", s)
    assert r.returncode == 1, r
    errs = compile_errors(r)
    assert [int(m["line"]) for m in errs] == BAD_LINES, r
    for m in errs:
        assert m["name"] == "bad", r
        assert int(m["col"]) >= 1, r
    # Nothing but located errors and the final summary line.
    other = [l for l in r.stderr.splitlines() if l and not ERROR_RE.match(l)]
    assert other == ["bad: error: validation failed."], r
    assert r.stdout == "", r
    assert sorted(p.name for p in tmp_workdir.iterdir()) == ["bad.sieve"], r


def test_compile_bad_script_writes_no_given_output(run_tamis, tmp_workdir):
    s = write(tmp_workdir, "bad.sieve", BAD)
    out = tmp_workdir / "out.bin"
    r = run_tamis("compile", s, out)
    assert r.returncode == 1, r
    assert not out.exists()


def test_compile_reports_every_syntax_error(run_tamis, tmp_workdir):
    # The parser recovers at '}' and ';': both missing semicolons count.
    s = write(tmp_workdir, "syn.sieve",
              'if true { discard }\nkeep;\nif false { stop }\nfileinto "x";\n')
    r = run_tamis("compile", s)
    assert r.returncode == 1, r
    errs = compile_errors(r)
    assert [(int(m["line"]), int(m["col"])) for m in errs] == [(1, 19), (3, 17)], r
    assert not (tmp_workdir / "syn.tmsbin").exists()


def test_compile_many_errors_are_all_printed(run_tamis, tmp_workdir):
    # More errors than the engine keeps by default (1000): all printed.
    n = 1200
    s = write(tmp_workdir, "many.sieve", "".join(f'redirect "bad address {i}";\n' for i in range(n)))
    r = run_tamis("compile", s, timeout=60)
    assert r.returncode == 1, r
    lines = [int(m["line"]) for m in compile_errors(r)]
    assert lines == list(range(1, n + 1)), r.stderr[-500:]


def test_compile_missing_file(run_tamis, tmp_workdir):
    r = run_tamis("compile", tmp_workdir / "nope.sieve")
    assert r.returncode == 1, r
    assert "nope.sieve" in r.stderr, r
    assert list(tmp_workdir.iterdir()) == []


def test_compile_usage(run_tamis):
    r = run_tamis("compile")
    assert r.returncode == 2, r
    assert "usage" in r.stderr.lower(), r


# ---- tamis dump ---------------------------------------------------------

def test_dump_script_and_binary(run_tamis, tmp_workdir):
    s = write(tmp_workdir, "good.sieve", GOOD)
    r1 = run_tamis("dump", s)
    assert r1.returncode == 0, r1
    out = r1.stdout
    for needle in ("fileinto", "header", "envelope", '"Lists/users"', "keep", "End of code"):
        assert needle in out, out
    # Source lines of the commands (line 4: fileinto, 8: keep).
    assert re.search(r"^[0-9a-f]{8}:\s+4: CMD fileinto", out, re.M), out
    assert re.search(r"^[0-9a-f]{8}:\s+8: CMD keep", out, re.M), out

    assert run_tamis("compile", s).returncode == 0
    r2 = run_tamis("dump", tmp_workdir / "good.tmsbin")
    assert r2.returncode == 0, r2
    assert r2.stdout == out


def test_dump_bad_script(run_tamis, tmp_workdir):
    s = write(tmp_workdir, "bad.sieve", BAD)
    r = run_tamis("dump", s)
    assert r.returncode == 1, r
    assert len(compile_errors(r)) == len(BAD_LINES), r


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty"])
def test_dump_corrupt_binary(run_tamis, tmp_workdir, damage):
    s = write(tmp_workdir, "good.sieve", GOOD)
    assert run_tamis("compile", s).returncode == 0
    b = tmp_workdir / "good.tmsbin"
    data = bytearray(b.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0x40
    elif damage == "truncate":
        data = data[: len(data) - 7]
    else:
        data = data[:4]
    b.write_bytes(bytes(data))
    r = run_tamis("dump", b)
    assert r.returncode == 1, r
    assert "binary" in r.stderr, r
    assert r.stdout == "", r


# ---- RFC 5228 examples --------------------------------------------------

# Section 9, "Extended Example", as printed in the RFC.
RFC5228_SECTION9 = """#
# Example Sieve Filter
# Declare any optional features or extension used by the script
#
require ["fileinto"];

#
# Handle messages from known mailing lists
# Move messages from IETF filter discussion list to filter mailbox
#
if header :is "Sender" "owner-ietf-mta-filters@imc.org"
        {
        fileinto "filter";  # move to "filter" mailbox
        }
#
# Keep all messages to or from people in my company
#
elsif address :DOMAIN :is ["From", "To"] "example.com"
        {
        keep;               # keep in "In" mailbox
        }

#
# Try and catch unsolicited email.  If a message is not to me,
# or it contains a subject known to be spam, file it away.
#
elsif anyof (NOT address :all :contains
               ["To", "Cc", "Bcc"] "me@example.com",
             header :matches "subject"
               ["*make*money*fast*", "*university*dipl*mas*"])
        {
        fileinto "spam";   # move to "spam" mailbox
        }
else
        {
        # Move all other (non-company) mail to "personal"
        # mailbox.
        fileinto "personal";
        }
"""

# The other example scripts of RFC 5228, in the RFC's order (comments,
# encoded-character, anyof/not exists, :comparator, size, if/elsif/else,
# fileinto, redirect, keep, discard, address, envelope, exists, header).
RFC5228_EXAMPLES = {
    "comment-hash": """if size :over 100k { # this is a comment
    discard;
}
""",
    "comment-bracket": """if size :over 100K { /* this is a comment
    this is still a comment */ discard /* this is a comment
    */ ;
}
""",
    "encoded-character": """require "encoded-character";
if header :contains "Subject" "$${hex:24 24}" {
    discard;
}
""",
    "anyof-not-exists": """if anyof (not exists ["From", "Date"],
    header :contains "from" "fool@example.com") {
    discard;
}
""",
    "comparator-octet": """if header :contains :comparator "i;octet" "Subject"
    "MAKE MONEY FAST" {
    discard;
}
""",
    "size": "if size :over 500K { discard; }\n",
    "if-fileinto": """require "fileinto";
if header :contains "from" "coyote" {
    discard;
} elsif header :contains ["subject"] ["$$$"] {
    discard;
} else {
    fileinto "INBOX";
}
""",
    "if-redirect": """if header :contains ["From"] ["coyote"] {
    redirect "acm@example.com";
} elsif header :contains "Subject" "$$$" {
    redirect "postmaster@example.com";
} else {
    redirect "field@example.com";
}
""",
    "fileinto": """require "fileinto";
if header :contains ["from"] "coyote" {
    fileinto "INBOX.harassment";
}
""",
    "redirect": 'redirect "bart@example.com";\n',
    "keep": "if size :under 1M { keep; } else { discard; }\n",
    "discard": """if header :contains ["from"] ["idiot@example.com"] {
    discard;
}
""",
    "address": """if address :is :all "from" "tim@example.com" {
    discard;
}
""",
    "envelope": """require "envelope";
if envelope :all :is "from" "tim@example.com" {
    discard;
}
""",
    "exists": """if not exists ["From","Date"] {
    discard;
}
""",
    "header": """if anyof(header :is ["X-Caffeine"] [""], header :contains ["X-Caffeine"] [""],
         not header :matches "Cc" "?*") {
    stop;
}
""",
}


@pytest.mark.parametrize("name", ["s9-extended"] + sorted(RFC5228_EXAMPLES))
def test_rfc5228_examples_compile(run_tamis, tmp_workdir, name):
    text = RFC5228_SECTION9 if name == "s9-extended" else RFC5228_EXAMPLES[name]
    s = write(tmp_workdir, f"{name}.sieve", text)
    r = run_tamis("compile", s)
    assert r.returncode == 0, r
    assert (tmp_workdir / f"{name}.tmsbin").is_file()
    assert "error" not in r.output, r


SECTION9_CASES = [
    # (headers, performed actions)
    ([("From", "someone@isp.example.net"), ("Sender", "owner-ietf-mta-filters@imc.org"),
      ("To", "ietf-mta-filters@imc.org"), ("Subject", "Sieve draft")],
     ["store message in folder: filter"]),
    ([("From", "boss@example.com"), ("To", "me@example.com"), ("Subject", "Budget")],
     ["store message in folder: INBOX"]),
    ([("From", "friend@isp.example.net"), ("To", "me@example.com"), ("Subject", "Hi")],
     ["store message in folder: INBOX"]),          # To: is in example.com
    ([("From", "spammer@bulk.example.net"), ("To", "list@lists.example.net"),
      ("Subject", "Hello")],
     ["store message in folder: spam"]),           # not addressed to me
    ([("From", "spammer@bulk.example.net"), ("To", "friend@isp.example.net"),
      ("Cc", "me@example.com"), ("Subject", "MAKE lots of MONEY really FAST")],
     ["store message in folder: spam"]),           # known spam subject
    ([("From", "spammer@bulk.example.net"), ("To", "friend@isp.example.net"),
      ("Bcc", "me@example.com"), ("Subject", "University diplomas for sale")],
     ["store message in folder: spam"]),
    ([("From", "mum@isp.example.net"), ("To", "friend@isp.example.net"),
      ("Cc", "Me <me@example.com>"), ("Subject", "Sunday lunch")],
     ["store message in folder: personal"]),
]


@pytest.mark.parametrize("case", range(len(SECTION9_CASES)))
def test_rfc5228_section9_actions(run_tamis, tmp_workdir, case):
    headers, expected = SECTION9_CASES[case]
    s = write(tmp_workdir, "s9.sieve", RFC5228_SECTION9)
    performed, keep = actions(run_tamis, tmp_workdir, s, headers)
    assert performed == expected
    assert keep == []


KEEP = ["store message in folder: INBOX"]
DATE = ("Date", "Mon, 6 Nov 2023 10:00:00 +0100")
BIG = "x" * 600 * 1024

EXAMPLE_CASES = [
    # (example, headers, body, tamis test options, performed, implicit keep)
    ("comment-hash", [("From", "a@example.org")], BIG, [], ["discard"], []),
    ("comment-hash", [("From", "a@example.org")], None, [], [], KEEP),
    ("comment-bracket", [("From", "a@example.org")], BIG, [], ["discard"], []),
    ("encoded-character", [("Subject", "Win $$$ now")], None, [], ["discard"], []),
    ("encoded-character", [("Subject", "Win $$ now")], None, [], [], KEEP),
    ("anyof-not-exists", [("From", "a@example.org")], None, [], ["discard"], []),
    ("anyof-not-exists", [("From", "Fool <fool@example.com>"), DATE], None, [], ["discard"], []),
    ("anyof-not-exists", [("From", "a@example.org"), DATE], None, [], [], KEEP),
    ("comparator-octet", [("Subject", "MAKE MONEY FAST!")], None, [], ["discard"], []),
    ("comparator-octet", [("Subject", "make money fast!")], None, [], [], KEEP),
    ("size", [("From", "a@example.org")], BIG, [], ["discard"], []),
    ("if-fileinto", [("From", "coyote@desert.example.org")], None, [], ["discard"], []),
    ("if-fileinto", [("From", "a@example.org"), ("Subject", "$$$")], None, [], ["discard"], []),
    ("if-fileinto", [("From", "a@example.org"), ("Subject", "hi")], None, [], KEEP, []),
    ("if-redirect", [("From", "Wile E. Coyote <coyote@desert.example.org>"), ("Subject", "Help")], None, [],
     ["redirect message to: <acm@example.com>"], []),
    ("if-redirect", [("From", "someone@example.org"), ("Subject", "Win $$$ now")], None, [],
     ["redirect message to: <postmaster@example.com>"], []),
    ("if-redirect", [("From", "someone@example.org"), ("Subject", "Hello")], None, [],
     ["redirect message to: <field@example.com>"], []),
    ("fileinto", [("From", "coyote@desert.example.org")], None, [],
     ["store message in folder: INBOX.harassment"], []),
    ("fileinto", [("From", "roadrunner@desert.example.org")], None, [], [], KEEP),
    ("redirect", [("From", "someone@example.org")], None, [], ["redirect message to: <bart@example.com>"], []),
    ("keep", [("From", "someone@example.org")], None, [], KEEP, []),
    ("keep", [("From", "someone@example.org")], BIG * 2, [], ["discard"], []),
    ("discard", [("From", "The Idiot <idiot@example.com>")], None, [], ["discard"], []),
    ("discard", [("From", "genius@example.com")], None, [], [], KEEP),
    ("address", [("From", "Tim <tim@example.com>")], None, [], ["discard"], []),
    ("address", [("From", "tim@example.org")], None, [], [], KEEP),
    ("envelope", [("From", "someone@example.org")], None, ["-f", "tim@example.com"], ["discard"], []),
    ("envelope", [("From", "tim@example.com")], None, ["-f", "other@example.com"], [], KEEP),
    ("exists", [("From", "a@example.org")], None, [], ["discard"], []),
    ("exists", [("From", "a@example.org"), DATE], None, [], [], KEEP),
    ("header", [("From", "a@example.org"), ("Cc", "b@example.org")], None, [], [], KEEP),
]


@pytest.mark.parametrize("case", range(len(EXAMPLE_CASES)))
def test_rfc5228_example_actions(run_tamis, tmp_workdir, case):
    name, headers, body, opts, expected, expected_keep = EXAMPLE_CASES[case]
    s = write(tmp_workdir, f"{name}.sieve", RFC5228_EXAMPLES[name])
    performed, keep = actions(run_tamis, tmp_workdir, s, headers, *opts, body=body)
    assert performed == expected
    assert keep == expected_keep
