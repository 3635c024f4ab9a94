"""mailboxid (RFC 9042): fileinto :mailboxid files into the mailbox with that
object id when there is one, else into the named mailbox as if the tag were
not there; mailboxidexists is true when every id exists.  `tamis test`
takes mailbox ids from the setting sieve_mailboxids ("ID=Mailbox ...").
"""
import pathlib

MSG = "From: a@example.org\r\nTo: b@example.net\r\nSubject: x\r\n\r\nbody\r\n"
IDS = "sieve_mailboxids=F2212ea87-6097-4256-9d51-71338625 =Nowhere Fabc_123=Projects/Tamis Fq=Archive"


def run(run_tamis, d, body, *extra):
    s = pathlib.Path(d) / "s.sieve"
    s.write_text(body)
    m = pathlib.Path(d) / "m.eml"
    m.write_text(MSG)
    return run_tamis("test", "-x", "+mailboxid", "-o", IDS, *extra, s, m)


def performed(out):
    return out.split("Implicit keep:")[0]


def test_rfc9042_example_fileinto(run_tamis, tmp_workdir):
    # RFC 9042 section 4.1: the id wins over the name when it exists
    r = run(run_tamis, tmp_workdir,
            'require ["fileinto", "mailboxid"];\n'
            'fileinto :mailboxid "Fabc_123" "INBOX.Lost Projects";\n')
    assert r.returncode == 0, r
    assert " * store message in folder: Projects/Tamis\n" in performed(r.stdout)
    assert "Lost" not in r.stdout


def test_unknown_id_falls_back_to_name_with_create(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir,
            'require ["fileinto", "mailboxid", "mailbox"];\n'
            'fileinto :mailboxid "Fnope" :create "Fallback";\n')
    assert (" * store message in folder: Fallback\n"
            "        + create mailbox if it does not exist\n") in r.stdout, r


def test_id_drops_create_for_existing_mailbox(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir,
            'require ["fileinto", "mailboxid", "mailbox"];\n'
            'fileinto :mailboxid "Fq" :create "Other";\n')
    assert " * store message in folder: Archive\n" in r.stdout, r
    assert "create mailbox" not in r.stdout


def test_mailboxidexists_needs_all(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir,
            'require ["fileinto", "mailboxid"];\n'
            'if mailboxidexists ["Fabc_123", "Fq"] { fileinto "all"; }\n'
            'if mailboxidexists ["Fabc_123", "Fmissing"] { fileinto "some"; }\n'
            'if mailboxidexists "not an id!" { fileinto "bad"; }\n')
    out = performed(r.stdout)
    assert "folder: all" in out and "some" not in out and "bad" not in out, r


def test_invalid_constant_id_is_an_error(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir,
            'require ["fileinto", "mailboxid"];\nfileinto :mailboxid "bad id" "X";\n')
    assert r.returncode == 1
    assert "fileinto :mailboxid: invalid mailbox id 'bad id'" in r.stderr


def test_off_unless_enabled(run_tamis, tmp_workdir):
    s = pathlib.Path(tmp_workdir) / "s.sieve"
    s.write_text('require "mailboxid";\n')
    m = pathlib.Path(tmp_workdir) / "m.eml"
    m.write_text(MSG)
    r = run_tamis("test", s, m)
    assert "unknown Sieve capability `mailboxid'" in r.stderr, r


def test_execute_stores_into_id_mailbox(run_tamis, tmp_workdir):
    md = tmp_workdir / "Maildir"
    r = run(run_tamis, tmp_workdir,
            'require ["fileinto", "mailboxid", "mailbox"];\n'
            'fileinto :mailboxid "Fq" :create "Other";\n',
            "-e", "-l", md)
    assert r.returncode == 1, r
    # Archive does not exist in the fresh Maildir and :create was dropped
    # with the id: the store fails and the message is kept in INBOX.
    assert len(list((md / "new").glob("*"))) == 1, r
