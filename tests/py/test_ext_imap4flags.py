"""The imap4flags extension (RFC 5232) through `tamis test` (sieve-test's
listing) and `tamis test -e` (delivery into a Maildir): setflag, addflag
and removeflag on the internal variable and on named variables, hasflag
with match types and comparators, :flags on keep and fileinto, and when the
internal flags are taken (when a store is added; at the end for the
implicit keep).  Expected listings were checked against sieve-test
(Pigeonhole 0.5.19).
"""
import pathlib
import re

import pytest

MSG = ("From: alice@example.com\r\nTo: user@example.net\r\nSubject: frop test\r\n"
       "Message-ID: <abc@example.com>\r\n\r\nbody\r\n")

REQ = ('require ["fileinto", "imap4flags", "variables", "relational", "copy", "mailbox", '
       '"comparator-i;ascii-numeric"];\n')


def write(d, name, text):
    p = pathlib.Path(d) / name
    p.write_text(text)
    return p


def listing(run_tamis, d, script, *opts):
    s = write(d, "s.sieve", script)
    m = write(d, "m.eml", MSG)
    r = run_tamis("test", *opts, s, m)
    assert r.returncode == 0, r
    return r.stdout


def actions(out):
    """The "Performed actions" part, one entry per line."""
    return out.split("\nPerformed actions:\n\n", 1)[1].split("\nImplicit keep:\n", 1)[0].rstrip("\n")


def implicit(out):
    return out.split("\nImplicit keep:\n\n", 1)[1].rstrip("\n")


def folders(out):
    """Folder names of the store actions, in order."""
    return re.findall(r"^ \* store message in folder: (.*)$", actions(out), re.M)


def maildir_flags(root, mailbox):
    """IMAP flags of the messages in a Maildir mailbox, one set per message."""
    box = pathlib.Path(root) / ("" if mailbox == "INBOX" else "." + mailbox)
    kw = {}
    kwfile = box / "dovecot-keywords"
    if kwfile.exists():
        for line in kwfile.read_text().splitlines():
            idx, name = line.split(" ", 1)
            kw[chr(ord("a") + int(idx))] = name
    sysmap = {"D": "\\Draft", "F": "\\Flagged", "R": "\\Answered", "S": "\\Seen", "T": "\\Deleted"}
    out = []
    for sub in ("new", "cur"):
        for f in sorted((box / sub).iterdir()) if (box / sub).exists() else []:
            flags = set()
            if ":2," in f.name:
                for c in f.name.split(":2,", 1)[1]:
                    flags.add(sysmap.get(c) or kw.get(c, "?" + c))
            out.append(flags)
    return out


def run_e(run_tamis, d, script):
    s = write(d, "s.sieve", script)
    m = write(d, "m.eml", MSG)
    md = pathlib.Path(d) / "Maildir"
    r = run_tamis("test", "-e", "-l", md, s, m)
    assert r.returncode == 0, r
    return md


# ---- the listing (sieve-test's "add IMAP flags:" line) ----

def test_rfc5232_section7_example_flags_then_fileinto(run_tamis, tmp_workdir):
    # RFC 5232 section 7: flag the message and file it; the internal
    # variable is applied to the fileinto.
    out = listing(run_tamis, tmp_workdir, REQ + """
if header :contains "Subject" "frop" {
    setflag "\\\\Flagged";
    fileinto "Important";
}
""")
    assert actions(out) == (" * store message in folder: Important\n"
                            "        + add IMAP flags: \\flagged")


def test_system_flags_print_lower_case_in_fixed_order_keywords_as_given(run_tamis, tmp_workdir):
    out = listing(run_tamis, tmp_workdir, REQ +
                  'fileinto :flags "\\\\Seen \\\\Draft a%b A A \\\\Recent \\\\Foo $x \\\\Flagged '
                  '\\\\Answered \\\\Deleted" "X";\n')
    # an explicit list is used as given: invalid keywords and duplicates
    # stay, unknown system flags disappear
    assert actions(out) == (" * store message in folder: X\n"
                            "        + add IMAP flags: \\flagged \\answered \\deleted \\seen \\draft a%b A A $x")


def test_adding_drops_invalid_flags_and_case_insensitive_duplicates(run_tamis, tmp_workdir):
    out = listing(run_tamis, tmp_workdir, REQ +
                  'setflag "\\\\Seen c%d \\\\Bogus B b $label";\nfileinto "Y";\n')
    assert actions(out) == (" * store message in folder: Y\n"
                            "        + add IMAP flags: \\seen B $label")


def test_internal_flags_are_taken_when_the_store_is_added(run_tamis, tmp_workdir):
    # RFC 5232 section 3: a later setflag does not change an earlier
    # fileinto; the keep sees the flags at its own time.
    out = listing(run_tamis, tmp_workdir, REQ +
                  'setflag "\\\\Seen";\nfileinto "X";\naddflag "$Label1";\nkeep;\n')
    assert actions(out) == (" * store message in folder: X\n"
                            "        + add IMAP flags: \\seen\n"
                            " * store message in folder: INBOX\n"
                            "        + add IMAP flags: \\seen $Label1")
    assert implicit(out) == "  (none)"


def test_implicit_keep_takes_the_final_internal_flags(run_tamis, tmp_workdir):
    out = listing(run_tamis, tmp_workdir, REQ +
                  'setflag "\\\\Seen x";\nfileinto :copy "X1";\nremoveflag "x";\n')
    assert actions(out) == (" * store message in folder: X1\n"
                            "        + preserve implicit keep\n"
                            "        + add IMAP flags: \\seen x")
    assert implicit(out) == (" * store message in folder: INBOX\n"
                             "        + add IMAP flags: \\seen")


def test_flags_and_copy_print_in_the_order_given(run_tamis, tmp_workdir):
    out = listing(run_tamis, tmp_workdir, REQ +
                  'fileinto :flags "\\\\Seen" :copy "X1";\nfileinto :copy :flags "\\\\Seen" "X2";\n')
    assert actions(out) == (" * store message in folder: X1\n"
                            "        + add IMAP flags: \\seen\n"
                            "        + preserve implicit keep\n"
                            " * store message in folder: X2\n"
                            "        + preserve implicit keep\n"
                            "        + add IMAP flags: \\seen")


def test_explicit_empty_flags_override_the_internal_variable(run_tamis, tmp_workdir):
    out = listing(run_tamis, tmp_workdir, REQ +
                  'addflag "\\\\Flagged";\nfileinto :flags "" "Y";\nkeep :flags "";\n')
    assert actions(out) == (" * store message in folder: Y\n"
                            " * store message in folder: INBOX")


def test_duplicate_store_takes_the_last_flag_list(run_tamis, tmp_workdir):
    # RFC 5232 section 3.2: the last flag list value wins
    out = listing(run_tamis, tmp_workdir, REQ + """
setflag "IMPLICIT";
fileinto :flags "\\\\Seen \\\\Draft" "INBOX.Junk";
fileinto :flags "NONSENSE" "INBOX.Junk";
keep;
keep :flags "\\\\Seen";
fileinto :flags "\\\\Seen" "Inbox.Nonsense";
fileinto "Inbox.Nonsense";
""")
    assert actions(out) == (" * store message in folder: INBOX.Junk\n"
                            "        + add IMAP flags: NONSENSE\n"
                            " * store message in folder: INBOX\n"
                            "        + add IMAP flags: \\seen\n"
                            " * store message in folder: Inbox.Nonsense\n"
                            "        + add IMAP flags: IMPLICIT")


def test_removeflag_and_empty_result(run_tamis, tmp_workdir):
    out = listing(run_tamis, tmp_workdir, REQ +
                  'setflag "a b  c";\nremoveflag "b";\nremoveflag ["A", "c"];\nkeep;\n')
    assert actions(out) == " * store message in folder: INBOX"


# ---- hasflag ----

@pytest.mark.parametrize("test,expected", [
    ('hasflag "\\\\Seen"', True),                       # case-insensitive by default
    ('hasflag :comparator "i;octet" "\\\\Seen"', False),
    ('hasflag "b c"', True),                            # :is keys are flag lists
    ('hasflag "\\\\Recent"', False),                    # invalid keys are dropped
    ('hasflag :contains "ee"', True),
    ('hasflag :matches "?seen"', True),
    ('hasflag :count "eq" "4"', True),                  # duplicates never count twice
    ('hasflag :count "gt" "4"', False),
    ('hasflag :value "gt" "c"', True),
    ('hasflag "nonsense"', False),
])
def test_hasflag_on_the_internal_variable(run_tamis, tmp_workdir, test, expected):
    out = listing(run_tamis, tmp_workdir, REQ +
                  f'setflag "\\\\seen b  B c x%y c";\naddflag "d";\nif {test} {{ fileinto "yes"; }}\n')
    assert ("yes" in folders(out)) == expected, out


def test_hasflag_without_flags_and_count_zero(run_tamis, tmp_workdir):
    out = listing(run_tamis, tmp_workdir, REQ + """
if hasflag :comparator "i;ascii-numeric" :count "ge" "1" { fileinto "some"; }
if hasflag :count "eq" "0" { fileinto "none"; }
""")
    assert folders(out) == ["none"]


def test_named_variables(run_tamis, tmp_workdir):
    out = listing(run_tamis, tmp_workdir, REQ + """
set "f" "  a  b  A  \\\\seen ";
addflag "f" "c";
fileinto "${f}";
removeflag "f" "b";
fileinto "[${f}]";
setflag "f" ["x y", "\\\\Flagged x"];
fileinto "[${f}]";
if hasflag "f" "X" { fileinto "hasX"; }
if hasflag :count "eq" "f" "3" { fileinto "count3"; }
if hasflag :is ["f", "g"] ["y"] { fileinto "isy"; }
if hasflag "x" { fileinto "internal"; }
""")
    # a variable set by "set" is read normalized; the flag commands
    # change it in place (removing a flag takes one space with it) and
    # the internal variable stays untouched
    assert folders(out) == ["  a  b  A  \\seen  c", "[  a   A  \\seen  c]", "[x y \\Flagged]",
                            "hasX", "count3", "isy"]


def test_hasflag_match_variables(run_tamis, tmp_workdir):
    out = listing(run_tamis, tmp_workdir, REQ +
                  'setflag "$Junk";\nif hasflag :matches "$*" { fileinto "m-${1}"; }\n')
    assert folders(out) == ["m-Junk"]


# ---- compile-time checks ----

@pytest.mark.parametrize("script,message", [
    ('require "imap4flags";\nsetflag "x" "y";\n', "variables extension is active"),
    ('require ["imap4flags", "variables"];\nsetflag ["x"] "y";\n', "must be a string (variable name)"),
    ('require ["imap4flags", "variables"];\naddflag "a.b" "y";\n', "invalid variable name"),
    ('require ["imap4flags", "variables"];\nremoveflag "1" "y";\n', "invalid variable name"),
    ('require "imap4flags";\naddflag 1;\n', "number"),
    ('require "imap4flags";\nsetflag;\n', "the setflag command expects at least one argument, but none was found"),
    ('require "fileinto";\nfileinto :flags "\\\\Seen" "a";\n', "unknown tagged argument ':flags'"),
    ('setflag "\\\\Seen";\n', "unknown command 'setflag'"),
])
def test_compile_errors(run_tamis, tmp_workdir, script, message):
    s = write(tmp_workdir, "s.sieve", script)
    m = write(tmp_workdir, "m.eml", MSG)
    r = run_tamis("test", s, m)
    assert r.returncode != 0, r
    assert message in r.stderr, r


def test_invalid_literal_flag_is_a_warning(run_tamis, tmp_workdir):
    s = write(tmp_workdir, "s.sieve", 'require "imap4flags";\nsetflag "\\\\Seen c%d e%f";\n')
    m = write(tmp_workdir, "m.eml", MSG)
    r = run_tamis("test", s, m)
    assert r.returncode == 0, r
    assert ("IMAP flag 'c%d' specified for the setflag command is invalid and will be ignored "
            "(only first invalid is reported)") in r.stderr, r
    assert "e%f" not in r.stderr


# ---- delivery ----

def test_flags_are_stored(run_tamis, tmp_workdir):
    md = run_e(run_tamis, tmp_workdir, REQ + """
setflag "$label1 \\\\answered";
fileinto :copy :create "Folder";
addflag "\\\\Seen";
fileinto :copy :create :flags "\\\\Flagged Junk" "Other";
""")
    assert maildir_flags(md, "Folder") == [{"$label1", "\\Answered"}]
    assert maildir_flags(md, "Other") == [{"\\Flagged", "Junk"}]
    # the implicit keep takes the flags as they are at the end
    assert maildir_flags(md, "INBOX") == [{"$label1", "\\Answered", "\\Seen"}]


def test_flag_variable_length_is_bounded(run_tamis, tmp_workdir):
    # The internal variable is a variable: it never grows past the
    # variable size limit, whatever the script adds.
    many = " ".join(f"k{i}" for i in range(3000))
    out = listing(run_tamis, tmp_workdir, REQ +
                  f'addflag "{many}";\n'
                  'if hasflag :comparator "i;ascii-numeric" :count "gt" "1000" { fileinto "big"; }\n'
                  'if hasflag :comparator "i;ascii-numeric" :count "ge" "100" { fileinto "some"; }\n')
    assert folders(out) == ["some"]
