"""special-use (RFC 8579): fileinto :specialuse files into the mailbox that
carries the special-use attribute when there is one, else into the named
mailbox (with :create applying to that name); specialuse_exists asks
whether attributes are assigned.  Attributes come from the host: `tamis
test` reads them from the setting sieve_special_use_mailboxes
("\\Junk=Spam ..."), and with -e only a listed mailbox that exists in the
Maildir has one.  Without the setting no mailbox has an attribute, as in
Pigeonhole on a plain Maildir.
"""
import pathlib

MSG = "From: a@example.org\r\nTo: b@example.net\r\nSubject: x\r\n\r\nbody\r\n"
JUNK = "sieve_special_use_mailboxes=\\Junk=Junk.Mail \\Sent=Sent"


def run(run_tamis, d, body, *extra):
    d = pathlib.Path(d)
    (d / "s.sieve").write_text(body)
    (d / "m.eml").write_text(MSG)
    return run_tamis("test", "-x", "+special-use", *extra, "s.sieve", "m.eml")


def mkbox(md, box):
    for sub in ("new", "cur", "tmp"):
        (md / ("." + box) / sub).mkdir(parents=True, exist_ok=True)


def count(md, box):
    base = md / ("." + box) if box != "INBOX" else md
    return len(list((base / "new").glob("*"))) + len(list((base / "cur").glob("*")))


def performed(out):
    return out.split("Implicit keep:")[0]


# ---- RFC 8579 (https://www.rfc-editor.org/rfc/rfc8579) examples ----

def test_rfc8579_fileinto_example(run_tamis, tmp_workdir):
    # section 4, as written: the print shows the name and the attribute
    r = run(run_tamis, tmp_workdir,
            'require "fileinto";\nrequire "special-use";\n\n'
            'fileinto :specialuse "\\\\Junk" "Spam";\n')
    assert r.returncode == 0, r
    assert (" * store message in folder: Spam\n"
            "        + use mailbox with special-use flag `\\Junk' instead if accessible\n") in r.stdout, r


def test_rfc8579_fileinto_example_stores_into_the_junk_mailbox(run_tamis, tmp_workdir):
    md = tmp_workdir / "Maildir"
    mkbox(md, "Junk.Mail")
    r = run(run_tamis, tmp_workdir,
            'require "fileinto";\nrequire "special-use";\n\n'
            'fileinto :specialuse "\\\\Junk" "Spam";\n', "-o", JUNK, "-e", "-l", md)
    assert r.returncode == 0, r
    assert count(md, "Junk.Mail") == 1 and count(md, "INBOX") == 0, r
    assert not (md / ".Spam").exists()


def test_rfc8579_fileinto_example_without_attribute_uses_the_name(run_tamis, tmp_workdir):
    md = tmp_workdir / "Maildir"
    mkbox(md, "Spam")
    r = run(run_tamis, tmp_workdir,
            'require "fileinto";\nrequire "special-use";\n\n'
            'fileinto :specialuse "\\\\Junk" "Spam";\n', "-e", "-l", md)
    assert r.returncode == 0, r
    assert count(md, "Spam") == 1, r


def test_rfc8579_create_example(run_tamis, tmp_workdir):
    # section 4, second example: no \Junk mailbox (Junk.Mail is listed but
    # does not exist), so "Spam" is created and used
    md = tmp_workdir / "Maildir"
    r = run(run_tamis, tmp_workdir,
            'require "fileinto";\nrequire "special-use";\nrequire "mailbox";\n\n'
            'fileinto :specialuse "\\\\Junk" :create "Spam";\n', "-o", JUNK, "-e", "-l", md)
    assert r.returncode == 0, r
    assert count(md, "Spam") == 1 and not (md / ".Junk.Mail").exists(), r


def test_rfc8579_create_example_with_attribute_creates_nothing(run_tamis, tmp_workdir):
    md = tmp_workdir / "Maildir"
    mkbox(md, "Junk.Mail")
    r = run(run_tamis, tmp_workdir,
            'require "fileinto";\nrequire "special-use";\nrequire "mailbox";\n\n'
            'fileinto :specialuse "\\\\Junk" :create "Spam";\n', "-o", JUNK, "-e", "-l", md)
    assert r.returncode == 0, r
    assert count(md, "Junk.Mail") == 1 and not (md / ".Spam").exists(), r


SECTION3 = ('require "special-use";\nrequire "environment";\nrequire "variables";\n\n'
            'if environment :contains "imap.mailbox" "*" {\n'
            '    set "mailbox" "${1}";\n}\n\n'
            'if allof(\n'
            '    environment "imap.cause" "COPY",\n'
            '    specialuse_exists "${mailbox}" "\\\\Junk") {\n'
            '    redirect "spam-report@example.org";\n}\n')


def test_rfc8579_specialuse_exists_example(run_tamis, tmp_workdir):
    # section 3; the example also requires "imapsieve" (RFC 6785), which
    # Tamis does not provide, so that require is left out.  Outside IMAP
    # the imap.* items are empty: nothing is redirected.
    r = run(run_tamis, tmp_workdir, SECTION3, "-o", JUNK)
    assert r.returncode == 0, r
    assert "redirect" not in performed(r.stdout), r
    r = run(run_tamis, tmp_workdir, 'require "imapsieve";\n' + SECTION3)
    assert r.returncode == 1
    assert "unknown Sieve capability `imapsieve'" in r.stderr, r


# ---- specialuse_exists against the host's attributes ----

def test_specialuse_exists(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir,
            'require ["fileinto", "special-use"];\n'
            'if specialuse_exists "\\\\junk" { fileinto "any-junk"; }\n'
            'if specialuse_exists ["\\\\Junk", "\\\\Sent"] { fileinto "both"; }\n'
            'if specialuse_exists ["\\\\Junk", "\\\\Trash"] { fileinto "trash-too"; }\n'
            'if specialuse_exists "Junk.Mail" "\\\\Junk" { fileinto "junk-is-junk"; }\n'
            'if specialuse_exists "Sent" ["\\\\Junk", "\\\\Sent"] { fileinto "sent-is-both"; }\n',
            "-o", JUNK)
    assert r.returncode == 0, r
    out = performed(r.stdout)
    assert "folder: any-junk\n" in out and "folder: both\n" in out, r
    assert "folder: junk-is-junk\n" in out, r
    assert "trash-too" not in out and "sent-is-both" not in out, r


def test_specialuse_exists_needs_the_mailbox_to_exist(run_tamis, tmp_workdir):
    md = tmp_workdir / "Maildir"
    mkbox(md, "Junk.Mail")     # Sent does not exist
    r = run(run_tamis, tmp_workdir,
            'require ["fileinto", "special-use", "mailbox"];\n'
            'if specialuse_exists "Junk.Mail" "\\\\Junk" { fileinto :create "yes-junk"; }\n'
            'if specialuse_exists "\\\\Sent" { fileinto :create "yes-sent"; }\n',
            "-o", JUNK, "-e", "-l", md)
    assert r.returncode == 0, r
    assert count(md, "yes-junk") == 1 and not (md / ".yes-sent").exists(), r


def test_without_attributes_nothing_exists(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir,
            'require ["fileinto", "special-use"];\n'
            'if specialuse_exists "\\\\Junk" { fileinto "junk"; }\n')
    assert r.returncode == 0, r
    assert "junk" not in performed(r.stdout), r


def test_duplicate_store_takes_the_newer_specialuse(run_tamis, tmp_workdir):
    # Two stores into one name are one store (RFC 5228 section 4.1); the
    # newer :specialuse is kept even when the older store had none, as
    # sieve-test 0.5.19 merges them.  With a \Junk mailbox the message is
    # stored once, there.
    md = tmp_workdir / "Maildir"
    mkbox(md, "Junk.Mail")
    for body in ('fileinto "Spam";\nfileinto :specialuse "\\\\Junk" "Spam";\n',
                 'fileinto :specialuse "\\\\Junk" "Spam";\nfileinto "Spam";\n'):
        r = run(run_tamis, tmp_workdir, 'require ["fileinto", "special-use"];\n' + body)
        assert r.returncode == 0, r
        assert performed(r.stdout).count("store message in folder: Spam") == 1, r.stdout
        assert "special-use flag `\\Junk' instead" in performed(r.stdout), r.stdout
    before = count(md, "Junk.Mail")
    r = run(run_tamis, tmp_workdir,
            'require ["fileinto", "special-use"];\n'
            'fileinto "Spam";\nfileinto :specialuse "\\\\Junk" "Spam";\n',
            "-o", JUNK, "-e", "-l", md)
    assert r.returncode == 0, r
    assert count(md, "Junk.Mail") == before + 1 and not (md / ".Spam").exists(), r
