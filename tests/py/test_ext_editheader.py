"""editheader (RFC 5293): addheader / deleteheader through `tamis test`
(what later tests see, what -e stores) and `tamis testsuite` (behaviour
inside one run: protected fields, :index / :last, match types, folding,
encoding, limits and Pigeonhole's error texts).
"""
import email
import email.policy
import pathlib

import pytest
from conftest import make_maildir

MSG = ("Received: from mx.example.org by mail.example.net; Mon, 1 Jan 2024 10:00:00 +0000\r\n"
       "X-Spam-Flag: YES\r\n"
       "From: Alice <alice@example.org>\r\n"
       "X-Tag: one\r\n"
       "To: bob@example.net\r\n"
       "X-Tag: two\r\n"
       "Subject: hello\r\n"
       "X-Tag: three\r\n"
       "\r\n"
       "Body text.\r\n")


def write(d, name, text, binary=False):
    p = pathlib.Path(d) / name
    if binary:
        p.write_bytes(text)
    else:
        p.write_text(text)
    return p


def stored(root, box=""):
    base = pathlib.Path(root) / (("." + box) if box else "")
    files = sorted(list((base / "new").glob("*")) + list((base / "cur").glob("*")))
    return [f.read_bytes() for f in files]


def run_script(run_tamis, d, script, msg=MSG, execute=False, extra=(), create=True):
    if execute and create:
        # Stored folders need not exist beforehand.
        script = 'require "mailbox";\n' + script.replace('fileinto "', 'fileinto :create "')
    s = write(d, "s.sieve", script)
    m = write(d, "m.eml", msg)
    args = ["test", "-x", "+editheader"] + list(extra)
    if execute:
        md = make_maildir(pathlib.Path(d) / "Maildir")
        args += ["-e", "-l", md]
    return run_tamis(*(args + [s, m]))


def folders(stdout):
    """The folders of the performed actions (not the implicit keep)."""
    performed = stdout.split("Implicit keep:", 1)[0]
    return [line.split(": ", 1)[1] for line in performed.splitlines()
            if line.startswith(" * store message in folder: ")]


def run_svtest(run_tamis, d, body):
    t = write(d, "t.svtest", body)
    r = run_tamis("testsuite", t)
    assert r.returncode == 0 and "FAILED" not in r.stdout, r
    assert "PASS: %d tests succeeded" % body.count('\ntest "') in r.stdout, r
    return r


# ---- RFC 5293 examples and basic semantics ----

def test_rfc_example_subject_rewrite(run_tamis, tmp_workdir):
    # RFC 5293 section 8 style: replace a field, the change is visible at once.
    r = run_script(run_tamis, tmp_workdir, """require ["editheader", "variables", "fileinto"];
if header :matches "Subject" "*" {
  deleteheader "Subject";
  addheader :last "Subject" "[tagged] ${1}";
}
if header :is "subject" "[tagged] hello" { fileinto "ok"; }
""")
    assert r.returncode == 0, r
    assert folders(r.stdout) == ["ok"], r


def test_added_field_on_top_and_stored(run_tamis, tmp_workdir):
    r = run_script(run_tamis, tmp_workdir,
                   'require "editheader";\naddheader "X-Source" "mailing list";\n', execute=True)
    assert r.returncode == 0, r
    (data,) = stored(tmp_workdir / "Maildir")
    assert data == b"X-Source: mailing list\r\n" + MSG.encode()


def test_addheader_last_goes_before_the_empty_line(run_tamis, tmp_workdir):
    r = run_script(run_tamis, tmp_workdir,
                   'require "editheader";\naddheader :last "X-Last" "end";\n', execute=True)
    assert r.returncode == 0, r
    (data,) = stored(tmp_workdir / "Maildir")
    head, body = MSG.split("\r\n\r\n", 1)
    assert data == (head + "\r\nX-Last: end\r\n\r\n" + body).encode()


def test_field_name_capitalized_like_pigeonhole(run_tamis, tmp_workdir):
    r = run_script(run_tamis, tmp_workdir,
                   'require "editheader";\naddheader "x-my-FIELD" "v";\n', execute=True)
    (data,) = stored(tmp_workdir / "Maildir")
    assert data.startswith(b"X-My-Field: v\r\n")


def test_deleteheader_all_occurrences_and_body_untouched(run_tamis, tmp_workdir):
    r = run_script(run_tamis, tmp_workdir,
                   'require "editheader";\ndeleteheader "x-tag";\n', execute=True)
    assert r.returncode == 0, r
    (data,) = stored(tmp_workdir / "Maildir")
    expected = "".join(l + "\r\n" for l in MSG.split("\r\n")[:-1] if not l.startswith("X-Tag"))
    assert data == expected.encode()


def test_lf_message_keeps_lf(run_tamis, tmp_workdir):
    msg = MSG.replace("\r\n", "\n")
    r = run_script(run_tamis, tmp_workdir,
                   'require "editheader";\naddheader "X-A" "1";\naddheader :last "X-B" "2";\n',
                   msg=msg, execute=True)
    (data,) = stored(tmp_workdir / "Maildir")
    assert b"\r" not in data
    assert data.startswith(b"X-A: 1\n") and b"X-Tag: three\nX-B: 2\n\nBody" in data


def test_message_without_body_or_final_newline(run_tamis, tmp_workdir):
    r = run_script(run_tamis, tmp_workdir, """require ["editheader", "fileinto"];
addheader :last "X-B" "2";
if header :is "subject" "no body" { fileinto "subject-intact"; }
if header :is "x-b" "2" { fileinto "added"; }
""", msg="From: a@example.org\r\nSubject: no body", execute=True)
    assert folders(r.stdout) == ["subject-intact", "added"], r


def test_actions_before_an_edit_keep_the_old_version(run_tamis, tmp_workdir):
    r = run_script(run_tamis, tmp_workdir, """require ["editheader", "fileinto"];
fileinto "Before";
addheader "X-Edited" "yes";
fileinto "After";
""", execute=True)
    assert r.returncode == 0, r
    (before,) = stored(tmp_workdir / "Maildir", "Before")
    (after,) = stored(tmp_workdir / "Maildir", "After")
    assert b"X-Edited" not in before
    assert after.startswith(b"X-Edited: yes\r\n")


def test_implicit_keep_stores_edited_message(run_tamis, tmp_workdir):
    r = run_script(run_tamis, tmp_workdir,
                   'require "editheader";\ndeleteheader "X-Spam-Flag";\n', execute=True)
    (data,) = stored(tmp_workdir / "Maildir")
    assert b"X-Spam-Flag" not in data and b"Body text." in data


def test_failed_result_keeps_the_original(run_tamis, tmp_workdir):
    # fileinto an absent folder without :create fails; the fallback keep
    # stores the message as it arrived (Pigeonhole rolls edits back).
    r = run_script(run_tamis, tmp_workdir, """require ["editheader", "fileinto"];
addheader "X-Frop" "x";
fileinto "Absent";
""", execute=True, create=False)
    (data,) = stored(tmp_workdir / "Maildir")
    assert data == MSG.encode()


def test_utf8_value_is_encoded_and_reads_back(run_tamis, tmp_workdir):
    r = run_script(run_tamis, tmp_workdir, """require ["editheader", "fileinto"];
addheader "X-Greeting" "Grüße aus Köln";
if header :is "x-greeting" "Grüße aus Köln" { fileinto "decoded"; }
""", execute=True)
    assert "decoded" in folders(r.stdout), r
    (data,) = stored(tmp_workdir / "Maildir", "decoded")
    first = data.split(b"\r\n", 1)[0]
    assert first == b"X-Greeting: =?utf-8?q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?="  # as Dovecot writes it
    parsed = email.message_from_bytes(data, policy=email.policy.default)
    assert parsed["X-Greeting"] == "Grüße aus Köln"


def test_long_value_is_folded(run_tamis, tmp_workdir):
    value = " ".join(["word%02d" % i for i in range(40)])
    r = run_script(run_tamis, tmp_workdir, """require ["editheader", "fileinto"];
addheader "X-Long" "%s";
if header :is "x-long" "%s" { fileinto "same"; }
""" % (value, value), execute=True)
    assert "same" in folders(r.stdout), r
    (data,) = stored(tmp_workdir / "Maildir", "same")
    field = data.split(b"\r\nReceived:", 1)[0]
    lines = field.split(b"\r\n")
    assert len(lines) > 1 and all(len(l) <= 90 for l in lines)
    assert all(l.startswith(b"\t") for l in lines[1:])


def test_value_line_breaks_become_folding(run_tamis, tmp_workdir):
    r = run_script(run_tamis, tmp_workdir, """require ["editheader", "fileinto"];
addheader "X-Multi" text:
first line
 second line
.
;
if header :is "x-multi" "first line second line" { fileinto "unfolded"; }
""", execute=True)
    assert folders(r.stdout) == ["unfolded"], r
    (data,) = stored(tmp_workdir / "Maildir", "unfolded")
    assert data.startswith(b"X-Multi: first line\r\n\tsecond line\r\nReceived")


# ---- deleteheader selection ----

@pytest.mark.parametrize("cmd,left", [
    ('deleteheader :index 2 "X-Tag";', ["one", "three"]),
    ('deleteheader :index 1 :last "X-Tag";', ["one", "two"]),
    ('deleteheader :last :index 3 "X-Tag";', ["two", "three"]),
    ('deleteheader :index 4 "X-Tag";', ["one", "two", "three"]),
    ('deleteheader :contains "X-Tag" ["ne", "hre"];', ["two"]),
    ('deleteheader :index 1 :contains "X-Tag" "two";', ["one", "two", "three"]),
    ('deleteheader :matches "X-Tag" "t*";', ["one"]),
    ('deleteheader :is :comparator "i;octet" "X-Tag" "TWO";', ["one", "two", "three"]),
    ('deleteheader :is "X-Tag" "TWO";', ["one", "three"]),
    ('deleteheader :value "gt" "X-Tag" "three";', ["one", "three"]),
])
def test_deleteheader_selection(run_tamis, tmp_workdir, cmd, left):
    checks = "\n".join('if header :is "x-tag" "%s" { fileinto "%s"; }' % (v, v)
                       for v in ["one", "two", "three"])
    r = run_script(run_tamis, tmp_workdir,
                   'require ["editheader", "fileinto", "relational"];\n%s\n%s\n' % (cmd, checks))
    assert r.returncode == 0, r
    assert folders(r.stdout) == left, r


def test_deleteheader_matches_decoded_and_trimmed_value(run_tamis, tmp_workdir):
    msg = "X-Enc: =?utf-8?q?caf=C3=A9?=\r\nX-Pad:     padded   \r\n\r\nb\r\n"
    r = run_script(run_tamis, tmp_workdir, """require ["editheader", "fileinto"];
deleteheader :is "x-enc" "café";
deleteheader :is "x-pad" "padded";
if not exists ["x-enc", "x-pad"] { fileinto "gone"; }
if not anyof (exists "x-enc", exists "x-pad") { fileinto "both"; }
""", msg=msg)
    assert folders(r.stdout) == ["gone", "both"], r


def test_deleteheader_folded_field_removed_whole(run_tamis, tmp_workdir):
    msg = ("X-A: first part\r\n  continued here\r\nX-B: stays\r\nX-A: again\r\n"
           "\tmore\r\n\r\nbody\r\n")
    r = run_script(run_tamis, tmp_workdir, 'require "editheader";\ndeleteheader "x-a";\n',
                   msg=msg, execute=True)
    (data,) = stored(tmp_workdir / "Maildir")
    assert data == b"X-B: stays\r\n\r\nbody\r\n"


def test_edits_seen_by_size_and_exists(run_tamis, tmp_workdir):
    size = len(MSG.encode())
    r = run_script(run_tamis, tmp_workdir, """require ["editheader", "fileinto"];
addheader "X-N" "12345";
if size :over %d { fileinto "grew"; }
deleteheader "X-N";
deleteheader "X-Tag";
if size :under %d { fileinto "shrank"; }
if not exists "x-tag" { fileinto "no-tag"; }
""" % (size + 11, size))
    assert folders(r.stdout) == ["grew", "shrank", "no-tag"], r


def test_many_edits_stay_consistent(run_tamis, tmp_workdir):
    # Alternating adds and deletes exercise the in-place buffer (room in
    # front of the header, patched index) and its occasional copy.
    lines = ['require ["editheader", "fileinto", "relational", "comparator-i;ascii-numeric"];']
    for i in range(300):
        lines.append('addheader "X-N%d" "%s";' % (i, "v" * (i % 70)))
        lines.append('addheader :last "X-L" "%d";' % i)
        if i % 3 == 0:
            lines.append('deleteheader :index 1 "X-L";')
        if i % 50 == 0:
            lines.append('fileinto "snap%d";' % i)
    lines.append('if header :count "eq" :comparator "i;ascii-numeric" "x-l" "200" { fileinto "count-ok"; }')
    lines.append('if header :is "x-n299" "%s" { fileinto "last-ok"; }' % ("v" * (299 % 70)))
    lines.append('if header :is "subject" "hello" { fileinto "subject-ok"; }')
    r = run_script(run_tamis, tmp_workdir, "\n".join(lines) + "\n", execute=True)
    assert r.returncode == 0, r
    f = folders(r.stdout)
    assert f[-3:] == ["count-ok", "last-ok", "subject-ok"], r
    (snap,) = stored(tmp_workdir / "Maildir", "snap0")
    assert snap.startswith(b"X-N0: \r\n") and snap.count(b"X-L:") == 0
    (final,) = stored(tmp_workdir / "Maildir", "subject-ok")
    assert final.count(b"\r\nX-L: ") == 200 and final.endswith(b"\r\n\r\nBody text.\r\n")


# ---- protection and limits (inside the testsuite) ----

def test_protected_fields(run_tamis, tmp_workdir):
    run_svtest(run_tamis, tmp_workdir, r'''require "vnd.dovecot.testsuite";
require ["editheader", "relational", "comparator-i;ascii-numeric"];
test_set "message" text:
Received: from a by b
Auto-Submitted: auto-replied
X-Sieve-Redirected-From: x@example.org
Subject: s
X-Keep: k
X-Gone: g

body
.
;
test "Always protected" {
  deleteheader "received";
  deleteheader "Auto-Submitted";
  deleteheader "x-sieve-redirected-from";
  addheader "X-Sieve-Redirected-From" "y@example.org";
  if not exists ["received", "auto-submitted"] { test_fail "deleted a protected field"; }
  if header :count "ne" :comparator "i;ascii-numeric" "x-sieve-redirected-from" "1" { test_fail "x-sieve-redirected-from edited"; }
  addheader "Received" "by sieve";
  if not header :contains "received" "sieve" { test_fail "received may be added"; }
}
test_config_set "sieve_editheader_protected" "x-keep subject";
test_config_set "sieve_editheader_forbid_add" "x-new";
test_config_set "sieve_editheader_forbid_delete" "x-gone";
test_config_reload :extension "editheader";
test "Configured" {
  deleteheader "x-keep";
  addheader "x-keep" "again";
  deleteheader "x-gone";
  addheader "X-New" "n";
  deleteheader "subject";
  if not header :is "x-keep" "k" { test_fail "protected field edited"; }
  if not exists "x-gone" { test_fail "forbid_delete ignored"; }
  if exists "x-new" { test_fail "forbid_add ignored"; }
  if exists "subject" { test_fail "subject is always editable"; }
}
''')


def test_errors_and_limits(run_tamis, tmp_workdir):
    d = tmp_workdir
    write(d, "names.sieve", 'require "editheader";\naddheader "Bad Name" "v";\ndeleteheader "a:b";\n')
    write(d, "nul.sieve", 'require ["editheader", "encoded-character"];\naddheader "X" "a${hex:00}b";\n')
    write(d, "bell.sieve", 'require ["editheader", "encoded-character"];\naddheader "X" "a${hex:07}b";\n')
    write(d, "big.sieve", 'require "editheader";\naddheader "X" "%s";\n' % ("A" * 1500))
    write(d, "rt.sieve", 'require ["editheader", "variables"];\nset "n" "X Y";\naddheader "${n}" "v";\n')
    write(d, "last.sieve", 'require "editheader";\ndeleteheader :last "X";\n')
    run_svtest(run_tamis, d, r'''require "vnd.dovecot.testsuite";
require "relational";
require "comparator-i;ascii-numeric";
test "Invalid names" {
  if test_script_compile "names.sieve" { test_fail "compiled"; }
  if not test_error :count "eq" :comparator "i;ascii-numeric" "3" { test_fail "error count"; }
  if not test_error :index 1 :matches "addheader command: specified field name `Bad Name' is invalid" { test_fail "wording 1"; }
  if not test_error :index 2 :matches "deleteheader command:specified field name `a:b' is invalid" { test_fail "wording 2"; }
}
test "NUL is an error, other controls only a warning" {
  if test_script_compile "nul.sieve" { test_fail "nul compiled"; }
  if not test_error :index 1 :contains "(contains NUL character)" { test_fail "nul wording"; }
  if not test_script_compile "bell.sieve" { test_fail "bell refused"; }
}
test "Size limit" {
  if not test_script_compile "big.sieve" { test_fail "default limit is 2048"; }
  test_config_set "sieve_editheader_max_header_size" "1024";
  test_config_reload :extension "editheader";
  if test_script_compile "big.sieve" { test_fail "1024 limit ignored"; }
  if not test_error :index 1 :contains "is too large (1500 bytes)" { test_fail "size wording"; }
  test_config_set "sieve_editheader_max_header_size" "100";
  test_config_reload :extension "editheader";
  if not test_script_compile "big.sieve" { test_fail "a limit below 1024 is ignored"; }
}
test "Runtime name check" {
  if not test_script_compile "rt.sieve" { test_fail "compile"; }
  if test_script_run { test_fail "ran"; }
  if not test_error :matches "addheader action: specified field name `X Y' is invalid" { test_fail "wording"; }
}
test ":last without :index" {
  if test_script_compile "last.sieve" { test_fail "compiled"; }
  if not test_error :index 1 :is "the :last tag for the deleteheader command cannot be specified without the :index tag" { test_fail "wording"; }
}
''')


def test_total_added_limit(run_tamis, tmp_workdir):
    lines = ['require "editheader";']
    lines += ['addheader "X-Fill" "%s";' % ("x" * 1000)] * 40
    r = run_script(run_tamis, tmp_workdir, "\n".join(lines) + "\n",
                   extra=["-o", "sieve_editheader_max_added_size=20000"])
    assert r.returncode != 0, r
    assert "exceed the limit of 20000 bytes" in r.stderr, r


def test_off_by_default(run_tamis, tmp_workdir):
    s = write(tmp_workdir, "s.sieve", 'require "editheader";\n')
    m = write(tmp_workdir, "m.eml", MSG)
    r = run_tamis("test", s, m)
    assert r.returncode != 0 and "unknown Sieve capability `editheader'" in r.stderr, r


def test_deleteheader_without_arguments_wording(run_tamis, tmp_workdir):
    # Pigeonhole's own wording for a deleteheader (and setflag) with no
    # positional argument at all.
    r = run_script(run_tamis, tmp_workdir,
                   'require ["editheader", "imap4flags"];\ndeleteheader;\n'
                   'deleteheader :index 1;\nsetflag;\n')
    assert r.returncode != 0, r
    errs = [l for l in r.stderr.splitlines() if ": error: " in l]
    assert errs == [
        "s:2:1: error: the deleteheader command expects at least one positional argument, "
        "but none was found.",
        "s:3:1: error: the deleteheader command expects at least one positional argument, "
        "but none was found.",
        "s:4:1: error: the setflag command expects at least one argument, but none was found.",
        "s: error: validation failed."], errs
