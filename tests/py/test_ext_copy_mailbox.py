"""The copy extension (RFC 3894: fileinto/redirect :copy keep the implicit
keep) and the mailbox extension (RFC 5490 section 3: fileinto :create and
the mailboxexists test), through `tamis test` (sieve-test's listing, checked
against Pigeonhole 0.5.19) and `tamis test -e` (delivery into a Maildir).
"""
import pathlib
import re

import pytest

MSG = ("From: alice@example.com\r\nTo: user@example.net\r\nSubject: frop test\r\n"
       "Message-ID: <abc@example.com>\r\n\r\nbody\r\n")


def write(d, name, text):
    p = pathlib.Path(d) / name
    p.write_text(text)
    return p


def run(run_tamis, d, script, *opts):
    return run_tamis("test", *opts, write(d, "s.sieve", script), write(d, "m.eml", MSG))


def listing(run_tamis, d, script, *opts):
    r = run(run_tamis, d, script, *opts)
    assert r.returncode == 0, r
    return r.stdout


def messages(root, mailbox):
    box = pathlib.Path(root) / ("" if mailbox == "INBOX" else "." + mailbox)
    return [f for sub in ("new", "cur") if (box / sub).is_dir() for f in (box / sub).iterdir()]


# ---- copy ----

def test_rfc3894_fileinto_copy_keeps_the_implicit_keep(run_tamis, tmp_workdir):
    out = listing(run_tamis, tmp_workdir, 'require ["fileinto", "copy"];\nfileinto :copy "incoming";\n')
    assert out == ("\nPerformed actions:\n\n"
                   " * store message in folder: incoming\n"
                   "        + preserve implicit keep\n"
                   "\nImplicit keep:\n\n"
                   " * store message in folder: INBOX\n\n")


def test_rfc3894_redirect_copy(run_tamis, tmp_workdir):
    out = listing(run_tamis, tmp_workdir, 'require "copy";\nredirect :copy "bob@example.org";\n')
    assert " * redirect message to: <bob@example.org>\n        + preserve implicit keep\n" in out
    assert out.endswith("Implicit keep:\n\n * store message in folder: INBOX\n\n")


def test_without_copy_the_implicit_keep_is_cancelled(run_tamis, tmp_workdir):
    out = listing(run_tamis, tmp_workdir, 'require ["fileinto", "copy"];\nfileinto "incoming";\n')
    assert out.endswith("Implicit keep:\n\n  (none)\n\n")


@pytest.mark.parametrize("script,action,keep", [
    # a duplicate is dropped: the first action decides, :copy or not
    ('fileinto :copy "X1";\nfileinto "X1";\n', " * store message in folder: X1\n        + preserve implicit keep\n", True),
    ('fileinto "X2";\nfileinto :copy "X2";\n', " * store message in folder: X2\n", False),
    ('redirect :copy "a@b.c";\nredirect "a@b.c";\n', " * redirect message to: <a@b.c>\n        + preserve implicit keep\n", True),
    ('fileinto :copy "INBOX";\nkeep;\n', " * store message in folder: INBOX\n        + preserve implicit keep\n", True),
    ('keep;\nfileinto :copy "INBOX";\n', " * store message in folder: INBOX\n", False),
])
def test_duplicates_keep_the_first_action(run_tamis, tmp_workdir, script, action, keep):
    out = listing(run_tamis, tmp_workdir, 'require ["fileinto", "copy"];\n' + script)
    acts = out.split("Performed actions:\n\n")[1].split("\nImplicit keep:")[0]
    assert acts == action, out
    assert out.endswith(" * store message in folder: INBOX\n\n" if keep else "  (none)\n\n"), out


@pytest.mark.parametrize("script", ['keep :copy;\n', 'discard :copy;\n',
                                    'require "fileinto";\nfileinto :copy "a";\n'])
def test_copy_is_only_for_fileinto_and_redirect(run_tamis, tmp_workdir, script):
    if not script.startswith("require"):
        script = 'require "copy";\n' + script
    r = run(run_tamis, tmp_workdir, script)
    assert r.returncode != 0, r
    assert "unknown tagged argument ':copy'" in r.stderr, r


def test_copy_delivers_both_and_stores_inbox_once(run_tamis, tmp_workdir):
    md = tmp_workdir / "Maildir"
    r = run(run_tamis, tmp_workdir, 'require ["fileinto", "copy", "mailbox"];\n'
            'fileinto :copy :create "Archive";\nfileinto :copy "INBOX";\n', "-e", "-l", md)
    assert r.returncode == 0, r
    assert len(messages(md, "Archive")) == 1
    # fileinto :copy "INBOX" is the implicit keep's store: one copy only
    assert len(messages(md, "INBOX")) == 1


# ---- mailbox ----

def test_fileinto_create_listing(run_tamis, tmp_workdir):
    out = listing(run_tamis, tmp_workdir, 'require ["fileinto", "mailbox"];\nfileinto :create "New/Box";\n')
    assert " * store message in folder: New/Box\n        + create mailbox if it does not exist\n" in out


def test_create_makes_the_mailbox(run_tamis, tmp_workdir):
    md = tmp_workdir / "Maildir"
    r = run(run_tamis, tmp_workdir, 'require ["fileinto", "mailbox"];\nfileinto :create "Lists.sieve";\n',
            "-e", "-l", md)
    assert r.returncode == 0, r
    assert len(messages(md, "Lists.sieve")) == 1
    assert messages(md, "INBOX") == []


def test_without_create_a_missing_mailbox_falls_back_to_inbox(run_tamis, tmp_workdir):
    md = tmp_workdir / "Maildir"
    r = run(run_tamis, tmp_workdir, 'require ["fileinto", "mailbox"];\nfileinto "Missing";\n',
            "-e", "-l", md)
    assert r.returncode == 1, r
    assert "failed to store into mailbox 'Missing'" in r.stderr
    assert len(messages(md, "INBOX")) == 1


def test_duplicate_store_does_not_gain_create(run_tamis, tmp_workdir):
    # Pigeonhole merges only what both stores carry; the listing says so.
    out = listing(run_tamis, tmp_workdir, 'require ["fileinto", "mailbox", "imap4flags"];\n'
                  'fileinto :flags "a" "X4";\nfileinto :create "X4";\nfileinto :flags "b" "X4";\n')
    acts = out.split("Performed actions:\n\n")[1].split("\nImplicit keep:")[0]
    assert acts == " * store message in folder: X4\n        + add IMAP flags: b\n"


MBX_SCRIPT = """require ["fileinto", "mailbox"];
if mailboxexists "NoSuchFolder" { fileinto "no1"; }
if mailboxexists "INBOX" { fileinto "inbox"; }
if mailboxexists ["INBOX", "NoSuch"] { fileinto "no2"; }
if mailboxexists "inbox" { fileinto "inbox-lower"; }
if mailboxexists ["INBOX", "Existing"] { fileinto "both"; }
"""


def test_mailboxexists_without_a_store(run_tamis, tmp_workdir):
    # `tamis test` without -l is an empty store: only INBOX exists
    out = listing(run_tamis, tmp_workdir, MBX_SCRIPT)
    assert re.findall(r"folder: (\S+)", out.split("Implicit keep")[0]) == ["inbox", "inbox-lower"]


def test_mailboxexists_asks_the_store(run_tamis, tmp_workdir):
    md = tmp_workdir / "Maildir"
    (md / ".Existing" / "cur").mkdir(parents=True)
    (md / ".Existing" / "new").mkdir()
    (md / ".Existing" / "tmp").mkdir()
    (md / ".Existing" / "maildirfolder").touch()
    for d in ("cur", "new", "tmp"):
        (md / d).mkdir(exist_ok=True)
    r = run(run_tamis, tmp_workdir, MBX_SCRIPT.replace('fileinto "', 'fileinto :create "'), "-e", "-l", md)
    assert r.returncode == 0, r
    assert re.findall(r"folder: (\S+)", r.stdout.split("Implicit keep")[0]) == ["inbox", "inbox-lower", "both"]


def test_mailboxexists_bad_utf8(run_tamis, tmp_workdir):
    s = write(tmp_workdir, "s.sieve", "")
    s.write_bytes(b'require ["mailbox", "fileinto", "variables", "encoded-character"];\n'
                  b'if mailboxexists "\xffrop" { fileinto "a"; }\n'
                  b'set "m" "${hex:ff}rop";\nif mailboxexists "${m}" { fileinto "b"; }\n')
    r = run_tamis("test", s, write(tmp_workdir, "m.eml", MSG))
    # a literal name is a warning at compile time; neither can exist
    assert r.returncode == 0, r
    assert "mailboxexists test: invalid mailbox name" in r.stderr
    assert "warning" in r.stderr
    assert "store message in folder" not in r.stdout.split("Implicit keep")[0]


@pytest.mark.parametrize("script", [
    "if mailboxexists { keep; }",
    "if mailboxexists 3423 { keep; }",
    'if mailboxexists "frop" ["frop"] { keep; }',
    'require "fileinto";\nfileinto :create;',
    'require "fileinto";\nfileinto :create :frop "frop";',
])
def test_mailbox_syntax_errors(run_tamis, tmp_workdir, script):
    r = run(run_tamis, tmp_workdir, 'require "mailbox";\n' + script + "\n")
    assert r.returncode != 0, r
    assert "error" in r.stderr
