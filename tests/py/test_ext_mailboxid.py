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


# ---- RFC 9042 (https://www.rfc-editor.org/rfc/rfc9042) examples ----

RFC_IDS = "sieve_mailboxids=F6352ae03-b7f5-463c-896f-d8b48ee3=Coyote"
COYOTE = "From: coyote@example.org\r\nTo: b@example.net\r\nSubject: x\r\n\r\nbody\r\n"


def run_rfc(run_tamis, d, body, exts="+mailboxid"):
    s = pathlib.Path(d) / "s.sieve"
    s.write_text(body)
    m = pathlib.Path(d) / "m.eml"
    m.write_text(COYOTE)
    return run_tamis("test", "-x", exts, "-o", RFC_IDS, s, m)


def test_rfc9042_example_1(run_tamis, tmp_workdir):
    r = run_rfc(run_tamis, tmp_workdir,
                'require "fileinto";\nrequire "mailboxid";\n'
                'if header :contains ["from"] "coyote" {\n'
                '    fileinto :mailboxid "F6352ae03-b7f5-463c-896f-d8b48ee3"\n'
                '             "INBOX.harassment";\n}\n')
    assert r.returncode == 0, r
    assert " * store message in folder: Coyote\n" in performed(r.stdout), r


def test_rfc9042_example_2_create_without_id(run_tamis, tmp_workdir):
    # creates INBOX.no-such-folder, which does not get the id
    r = run_rfc(run_tamis, tmp_workdir,
                'require "fileinto";\nrequire "mailboxid";\nrequire "mailbox";\n'
                'fileinto :mailboxid "Fnosuch"\n         :create\n         "INBOX.no-such-folder";\n')
    assert r.returncode == 0, r
    assert (" * store message in folder: INBOX.no-such-folder\n"
            "        + create mailbox if it does not exist\n") in r.stdout, r


def test_rfc9042_example_3_mailboxidexists(run_tamis, tmp_workdir):
    body = ('require "fileinto";\nrequire "mailboxid";\n'
            'if header :contains ["from"] "coyote" {\n'
            '    if mailboxidexists "F6352ae03-b7f5-463c-896f-d8b48ee3" {\n'
            '        fileinto :mailboxid "F6352ae03-b7f5-463c-896f-d8b48ee3"\n'
            '                            "INBOX.name.will.not.be.used";\n'
            '    } else {\n        fileinto "INBOX.harassment";\n    }\n}\n')
    r = run_rfc(run_tamis, tmp_workdir, body)
    assert " * store message in folder: Coyote\n" in performed(r.stdout), r
    assert "will.not.be.used" not in r.stdout


def test_rfc9042_mailboxid_with_specialuse_is_an_error(run_tamis, tmp_workdir):
    # RFC 9042: :mailboxid and :specialuse cannot be used together
    r = run_rfc(run_tamis, tmp_workdir,
                'require ["fileinto", "special-use", "mailboxid"];\n'
                'fileinto :mailboxid "blah" :specialuse "\\\\Junk" "Spam";\n',
                "+mailboxid +special-use")
    assert r.returncode == 1, r
    assert "the :mailboxid and :specialuse tags cannot be used together" in r.stderr, r


def test_rfc9042_fcc_mailboxid(run_tamis, tmp_workdir):
    # RFC 9042: :mailboxid also goes with :fcc; the copy goes to the
    # mailbox with the id when it exists, else to the :fcc mailbox.
    md = tmp_workdir / "Maildir"
    (md / ".Coyote" / "new").mkdir(parents=True)
    (md / ".Coyote" / "cur").mkdir()
    (md / ".Coyote" / "tmp").mkdir()
    s = pathlib.Path(tmp_workdir) / "s.sieve"
    s.write_text('require ["vacation", "fcc", "mailboxid"];\n'
                 'vacation :fcc "INBOX.Sent" :mailboxid "F6352ae03-b7f5-463c-896f-d8b48ee3"\n'
                 '         :addresses "b@example.net" "away";\n')
    m = pathlib.Path(tmp_workdir) / "m.eml"
    m.write_text(COYOTE)
    r = run_tamis("test", "-x", "+mailboxid", "-o", RFC_IDS, "-e", "-l", md, s, m)
    assert r.returncode == 0, r
    assert len(list((md / ".Coyote" / "new").glob("*"))) == 1, r


def test_fcc_mailboxid_needs_fcc(run_tamis, tmp_workdir):
    r = run_rfc(run_tamis, tmp_workdir,
                'require ["vacation", "fcc", "mailboxid"];\nvacation :mailboxid "Fq" "away";\n')
    assert r.returncode == 1, r
    assert "the :mailboxid tag of the vacation command requires the :fcc tag" in r.stderr, r


# ---- ids from variables (as Cyrus's fileinto_mailboxid_variable) ----

def test_id_from_a_variable(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir,
            'require ["fileinto", "mailboxid", "variables"];\n'
            'set "id" "Fabc_123";\n'
            'fileinto :mailboxid "${id}" "Fallback";\n'
            'if mailboxidexists "${id}" { fileinto "exists"; }\n')
    assert r.returncode == 0, r
    out = performed(r.stdout)
    assert " * store message in folder: Projects/Tamis\n" in out, r
    assert "folder: exists\n" in out and "Fallback" not in out, r


def test_invalid_id_from_a_variable_names_no_mailbox(run_tamis, tmp_workdir):
    # a computed id that is not an objectid is no error: it names no
    # mailbox, so the name applies and mailboxidexists is false
    r = run(run_tamis, tmp_workdir,
            'require ["fileinto", "mailboxid", "variables"];\n'
            'set "id" "not an id!";\n'
            'fileinto :mailboxid "${id}" "Fallback";\n'
            'if mailboxidexists "${id}" { fileinto "exists"; }\n')
    assert r.returncode == 0, r
    out = performed(r.stdout)
    assert " * store message in folder: Fallback\n" in out and "exists" not in out, r


def test_execute_stores_into_existing_id_mailbox(run_tamis, tmp_workdir):
    # as Cyrus's fileinto_mailboxid: with the id's mailbox there, the
    # message lands in it and the named mailbox is not touched
    md = tmp_workdir / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (md / ".Archive" / sub).mkdir(parents=True, exist_ok=True)
    r = run(run_tamis, tmp_workdir,
            'require ["fileinto", "mailboxid", "mailbox"];\n'
            'fileinto :mailboxid "Fq" :create "Other";\n',
            "-e", "-l", md)
    assert r.returncode == 0, r
    assert len(list((md / ".Archive" / "new").glob("*"))) == 1, r
    assert not (md / ".Other").exists()
    assert list((md / "new").glob("*")) == []


def test_rfc9042_example_2_execute_creates_the_named_mailbox(run_tamis, tmp_workdir):
    md = tmp_workdir / "Maildir"
    r = run_tamis("test", "-x", "+mailboxid", "-o", RFC_IDS, "-e", "-l", md,
                  *_write(tmp_workdir,
                          'require "fileinto";\nrequire "mailboxid";\nrequire "mailbox";\n\n'
                          'fileinto :mailboxid "Fnosuch"\n         :create\n'
                          '         "INBOX.no-such-folder";\n'
                          '            # creates INBOX.no-such-folder, but it doesn\'t\n'
                          '            # get the "Fnosuch" mailboxid.\n'))
    assert r.returncode == 0, r
    assert len(list((md / ".INBOX.no-such-folder" / "new").glob("*"))) == 1, r


def test_rfc9042_fcc_example_as_written(run_tamis, tmp_workdir):
    # RFC 9042's fcc example (notify :fcc ... :mailboxid): the id names
    # Coyote, which exists, so the copy goes there and not to INBOX.Sent
    md = tmp_workdir / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (md / ".Coyote" / sub).mkdir(parents=True, exist_ok=True)
    r = run_tamis("test", "-x", "+mailboxid", "-o", RFC_IDS, "-e", "-l", md,
                  *_write(tmp_workdir,
                          'require ["enotify", "fcc", "mailboxid"];\n\n'
                          'notify :fcc "INBOX.Sent"\n'
                          '       :mailboxid "F6352ae03-b7f5-463c-896f-d8b48ee3"\n'
                          '       :message "You got mail!"\n'
                          '       "mailto:ken@example.com";\n'))
    assert r.returncode == 0, r
    copies = list((md / ".Coyote" / "new").glob("*"))
    assert len(copies) == 1 and "ken@example.com" in copies[0].read_text(), r
    assert not (md / ".INBOX.Sent").exists()


def _write(d, body):
    s = pathlib.Path(d) / "s.sieve"
    s.write_text(body)
    m = pathlib.Path(d) / "m.eml"
    m.write_text(COYOTE)
    return s, m
