"""Script sequences (sieve_before, the user script, sieve_after) through
`tamis test -s BEFORE.sieve ... SCRIPT MSG`: the printed layout is
sieve-test -s's, byte for byte (checked against Pigeonhole 0.5.19), and with
-e the sequence's semantics land in a Maildir: keep means "continue", the
next script runs only while keep is in effect, actions are executed script
by script, a failure ends the sequence with the message kept.
"""
import pathlib

import pytest

MSG = ("From: alice@example.org\r\n"
       "To: bob@example.net\r\n"
       "Subject: hello\r\n"
       "X-Spam-Flag: YES\r\n"
       "\r\n"
       "Hi.\r\n")


def write(d, name, text):
    p = pathlib.Path(d) / name
    p.write_text(text)
    return p


@pytest.fixture
def w(tmp_workdir):
    write(tmp_workdir, "m.eml", MSG)
    scripts = {
        "before.sieve": 'require ["fileinto", "copy"];\nfileinto :copy "Before";\n',
        "keepfile.sieve": 'require "fileinto";\nkeep;\nfileinto "B2";\n',
        "work.sieve": 'require "fileinto";\nfileinto "Work";\n',
        "keep.sieve": "keep;\n",
        "empty.sieve": "# nothing\n",
        "discard.sieve": "discard;\n",
        "stop.sieve": "stop;\n",
        "inbox.sieve": 'require "fileinto";\nfileinto "INBOX";\n',
        "flag.sieve": 'require "imap4flags";\naddflag "$label";\n',
        "keepflags.sieve": 'require "imap4flags";\naddflag "\\\\Seen";\nkeep :flags "\\\\Flagged";\n',
        "toomany.sieve": ''.join(f'redirect "r{i}@example.com";\n' for i in range(5)),
        "spam.sieve": 'require "fileinto";\nif header :contains "X-Spam-Flag" "YES" { fileinto "Spam"; }\n',
        # for -e: the CLI's Maildir makes folders only for :create
        "cbefore.sieve": 'require ["fileinto", "copy", "mailbox"];\nfileinto :copy :create "Before";\n',
        "cwork.sieve": 'require ["fileinto", "mailbox"];\nfileinto :create "Work";\n',
        "cspam.sieve": 'require ["fileinto", "mailbox"];\n'
                       'if header :contains "X-Spam-Flag" "YES" { fileinto :create "Spam"; }\n',
        "hdr1.sieve": 'require "editheader";\naddheader "X-One" "1";\n',
        "hdr2.sieve": 'require "editheader";\naddheader "X-Two" "2";\n',
    }
    for n, t in scripts.items():
        write(tmp_workdir, n, t)
    return tmp_workdir


def section(name, actions, keep, first=False):
    head = f"## Executing script: {name}\n" if first else f"\n## Executing script: {name}\n"
    return head + "\nPerformed actions:\n\n" + actions + "\nImplicit keep:\n\n" + keep + "\n"


NONE = "  (none)\n"
KEEP = " * keep\n"


def test_before_script_with_copy_then_main(run_tamis, w):
    r = run_tamis("test", "-s", "before.sieve", "work.sieve", "m.eml")
    assert r.returncode == 0, r
    assert r.stdout == (
        section("before.sieve", " * store message in folder: Before\n        + preserve implicit keep\n", KEEP)
        + section("work.sieve", " * store message in folder: Work\n", NONE, first=True))


def test_explicit_keep_means_continue(run_tamis, w):
    r = run_tamis("test", "-s", "before.sieve", "-s", "keepfile.sieve", "keep.sieve", "m.eml")
    assert r.returncode == 0, r
    assert r.stdout == (
        section("before.sieve", " * store message in folder: Before\n        + preserve implicit keep\n", KEEP)
        + section("keepfile.sieve", " * keep\n * store message in folder: B2\n", NONE)
        + section("keep.sieve", " * keep\n", NONE, first=True))


def test_discard_ends_the_sequence(run_tamis, w):
    r = run_tamis("test", "-s", "discard.sieve", "work.sieve", "m.eml")
    assert r.stdout == section("discard.sieve", " * discard\n", NONE), r


def test_stop_in_before_script_continues(run_tamis, w):
    r = run_tamis("test", "-s", "stop.sieve", "work.sieve", "m.eml")
    assert r.stdout == (section("stop.sieve", NONE, KEEP)
                        + section("work.sieve", " * store message in folder: Work\n", NONE, first=True)), r


def test_implicit_flags_carry_over(run_tamis, w):
    r = run_tamis("test", "-s", "flag.sieve", "keepflags.sieve", "m.eml")
    assert r.stdout == (
        section("flag.sieve", NONE, " * keep\n        + add IMAP flags: $label\n")
        + section("keepflags.sieve", " * keep\n        + add IMAP flags: \\flagged\n", NONE, first=True)), r


def test_runtime_error_in_before_script(run_tamis, w):
    r = run_tamis("test", "-s", "toomany.sieve", "work.sieve", "m.eml")
    assert r.returncode == 1, r
    assert r.stdout == "\n## Executing script: toomany.sieve\n"
    assert "number of redirect actions exceeds policy limit (5 > 4)" in r.stderr
    assert "final result: failed; resolved with successful implicit keep" in r.stderr


def test_before_script_compile_error(run_tamis, w):
    write(w, "bad.sieve", "if true {\n")
    r = run_tamis("test", "-s", "bad.sieve", "work.sieve", "m.eml")
    assert r.returncode == 1, r
    assert r.stdout == "\n## Executing script: bad.sieve\n"
    assert "failed to compile sieve script" in r.stderr


def maildir_count(root, box=""):
    base = pathlib.Path(root) / (("." + box) if box else "")
    return len(list((base / "new").glob("*")) + list((base / "cur").glob("*")))


def run_e(run_tamis, w, *scripts):
    md = w / "Maildir"
    args = ["test", "-x", "+editheader", "-e", "-l", md]
    for s in scripts[:-1]:
        args += ["-s", s]
    r = run_tamis(*args, scripts[-1], "m.eml")
    return r, md


def test_execute_copy_then_fileinto(run_tamis, w):
    r, md = run_e(run_tamis, w, "cbefore.sieve", "cwork.sieve")
    assert r.returncode == 0, r
    assert "## Executing" not in r.stdout
    assert maildir_count(md, "Before") == 1
    assert maildir_count(md, "Work") == 1
    assert maildir_count(md) == 0


def test_execute_keep_is_stored_once(run_tamis, w):
    r, md = run_e(run_tamis, w, "keep.sieve", "empty.sieve", "keep.sieve")
    assert r.returncode == 0, r
    assert maildir_count(md) == 1


def test_execute_keep_then_discard_discards(run_tamis, w):
    # keep in a before script only means "go on": the user script decides
    r, md = run_e(run_tamis, w, "keep.sieve", "discard.sieve")
    assert r.returncode == 0, r
    assert maildir_count(md) == 0


def test_execute_fileinto_inbox_is_the_keep(run_tamis, w):
    r, md = run_e(run_tamis, w, "keep.sieve", "inbox.sieve")
    assert maildir_count(md) == 1, r


def test_execute_spam_filter_ends_sequence(run_tamis, w):
    r, md = run_e(run_tamis, w, "cspam.sieve", "cwork.sieve")
    assert maildir_count(md, "Spam") == 1
    assert not (md / ".Work").exists() or maildir_count(md, "Work") == 0
    assert maildir_count(md) == 0


def test_execute_failure_keeps_message(run_tamis, w):
    r, md = run_e(run_tamis, w, "cbefore.sieve", "toomany.sieve")
    assert r.returncode == 1, r
    assert maildir_count(md, "Before") == 1   # executed before the failing script ran
    assert maildir_count(md) == 1             # the failure's keep


def test_execute_edits_carry_over(run_tamis, w):
    r, md = run_e(run_tamis, w, "hdr1.sieve", "hdr2.sieve")
    assert r.returncode == 0, r
    files = list((md / "new").glob("*")) + list((md / "cur").glob("*"))
    assert len(files) == 1
    text = files[0].read_text()
    assert "X-One: 1" in text and "X-Two: 2" in text
