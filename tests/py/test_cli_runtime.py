"""`tamis test` as a user runs it: the actions it prints, what -e stores in a
Maildir, and how runtime limits and errors fall back to keeping the message.
"""
import pathlib

MSG = ("From: Alice <alice@example.org>\r\n"
       "To: bob@example.net\r\n"
       "Subject: quarterly report\r\n"
       "Message-ID: <r1@example.org>\r\n"
       "\r\n"
       "Numbers attached.\r\n")


def write(d, name, text):
    p = pathlib.Path(d) / name
    p.write_text(text)
    return p


def maildir_files(root, box=""):
    base = pathlib.Path(root) / (("." + box) if box else "")
    return sorted(list((base / "new").glob("*")) + list((base / "cur").glob("*")))


def test_fileinto_printed_in_sieve_test_layout(run_tamis, tmp_workdir):
    s = write(tmp_workdir, "s.sieve",
              'require "fileinto";\nif header :contains "subject" "report" { fileinto "Reports"; }\n')
    m = write(tmp_workdir, "m.eml", MSG)
    r = run_tamis("test", s, m)
    assert r.returncode == 0, r
    assert r.stdout == ("\nPerformed actions:\n\n * store message in folder: Reports\n"
                        "\nImplicit keep:\n\n  (none)\n\n"), r


def test_empty_script_keeps(run_tamis, tmp_workdir):
    s = write(tmp_workdir, "s.sieve", "# nothing\n")
    m = write(tmp_workdir, "m.eml", MSG)
    r = run_tamis("test", s, m)
    assert r.returncode == 0
    assert "Performed actions:\n\n  (none)\n" in r.stdout
    assert "Implicit keep:\n\n * store message in folder: INBOX\n" in r.stdout


def test_default_mailbox_option(run_tamis, tmp_workdir):
    s = write(tmp_workdir, "s.sieve", "keep;\n")
    m = write(tmp_workdir, "m.eml", MSG)
    r = run_tamis("test", "-m", "Archive", s, m)
    assert " * store message in folder: Archive\n" in r.stdout, r


def test_compile_error_exits_1_with_every_error(run_tamis, tmp_workdir):
    s = write(tmp_workdir, "bad.sieve", 'frobnicate;\nif header :bogus "x" "y" { keep; }\nfileinto "x";\n')
    m = write(tmp_workdir, "m.eml", MSG)
    r = run_tamis("test", s, m)
    assert r.returncode == 1, r
    assert r.stdout == ""
    assert "bad:1:1: error: unknown command 'frobnicate'" in r.stderr
    assert "bad:2:" in r.stderr and "unknown tagged argument ':bogus'" in r.stderr
    assert "bad:3:1: error: unknown command 'fileinto'" in r.stderr


def test_execute_stores_into_maildir(run_tamis, tmp_workdir):
    s = write(tmp_workdir, "s.sieve",
              'require ["fileinto", "mailbox"];\nfileinto :create "Reports";\nkeep;\n')
    m = write(tmp_workdir, "m.eml", MSG)
    md = tmp_workdir / "Maildir"
    r = run_tamis("test", "-e", "-l", md, s, m)
    assert r.returncode == 0, r
    reports = maildir_files(md, "Reports")
    inbox = maildir_files(md)
    assert len(reports) == 1 and len(inbox) == 1, (reports, inbox)
    assert reports[0].read_bytes() == MSG.encode()
    assert (md / ".Reports" / "maildirfolder").exists()


def test_execute_missing_folder_falls_back_to_inbox(run_tamis, tmp_workdir):
    s = write(tmp_workdir, "s.sieve", 'require "fileinto";\nfileinto "NoSuchFolder";\n')
    m = write(tmp_workdir, "m.eml", MSG)
    md = tmp_workdir / "Maildir"
    r = run_tamis("test", "-e", "-l", md, s, m)
    assert r.returncode == 1, r
    assert "failed to store into mailbox 'NoSuchFolder'" in r.stderr
    assert len(maildir_files(md)) == 1, "the message must be kept in INBOX"
    assert not (md / ".NoSuchFolder").exists()


def test_redirect_limit_is_a_runtime_error_and_keeps(run_tamis, tmp_workdir):
    s = write(tmp_workdir, "s.sieve",
              "".join(f'redirect "u{i}@example.com";\n' for i in range(5)))
    m = write(tmp_workdir, "m.eml", MSG)
    r = run_tamis("test", s, m)
    assert r.returncode == 1, r
    assert "number of redirect actions exceeds policy limit (5 > 4)" in r.stderr
    assert r.stdout == ""
    r = run_tamis("test", "-o", "sieve_max_redirects=5", s, m)
    assert r.returncode == 0, r
    assert r.stdout.count("redirect message to") == 5


def test_redirect_forbidden_by_policy(run_tamis, tmp_workdir):
    s = write(tmp_workdir, "s.sieve", 'redirect "x@example.com";\n')
    m = write(tmp_workdir, "m.eml", MSG)
    r = run_tamis("test", "-o", "sieve_max_redirects=0", s, m)
    assert r.returncode == 1
    assert "local policy prohibits the use of a redirect action" in r.stderr


def test_action_limit(run_tamis, tmp_workdir):
    s = write(tmp_workdir, "s.sieve", 'require "fileinto";\n' +
              "".join(f'fileinto "f{i}";\n' for i in range(4)))
    m = write(tmp_workdir, "m.eml", MSG)
    r = run_tamis("test", "-o", "sieve_max_actions=3", s, m)
    assert r.returncode == 1, r
    assert "total number of actions exceeds policy limit (4 > 3)" in r.stderr


def test_instruction_budget_stops_the_script_and_keeps(run_tamis, tmp_workdir):
    s = write(tmp_workdir, "s.sieve",
              "".join('if header :contains "subject" "nothing" { discard; }\n' for _ in range(50)) +
              "discard;\n")
    m = write(tmp_workdir, "m.eml", MSG)
    md = tmp_workdir / "Maildir"
    r = run_tamis("test", "-o", "sieve_max_instructions=20", "-e", "-l", md, s, m)
    assert r.returncode == 1, r
    assert "instruction limit" in r.stderr
    assert len(maildir_files(md)) == 1, "the message must be kept"


def test_duplicate_actions_merge(run_tamis, tmp_workdir):
    s = write(tmp_workdir, "s.sieve",
              'require "fileinto";\nfileinto "A";\nfileinto "A";\nkeep;\nfileinto "INBOX";\n'
              'redirect "x@Example.COM";\nredirect "x@example.com";\n')
    m = write(tmp_workdir, "m.eml", MSG)
    r = run_tamis("test", s, m)
    assert r.returncode == 0, r
    assert r.stdout.count("store message in folder: A\n") == 1
    assert r.stdout.count("store message in folder: INBOX\n") == 1
    assert r.stdout.count("redirect message to: <x@example.com>") == 1


def test_hostile_message_does_not_crash(run_tamis, tmp_workdir):
    s = write(tmp_workdir, "s.sieve",
              'if anyof(header :matches "subject" "*a*a*a*a*b", address :all "from" "*@*") { keep; }\n')
    m = tmp_workdir / "m.eml"
    m.write_bytes(b"Subject: " + b"a" * 200000 + b"\r\nFrom: \x00\xff<<>>@@\r\n\r\n\xff\xfe")
    r = run_tamis("test", s, m)
    assert r.returncode == 0, r


def test_envelope_defaults_use_only_the_first_element(run_tamis, tmp_workdir):
    """Without -f/-r, sieve-test 0.5.19 takes the envelope from the first
    element of Return-Path/Sender/From and Envelope-To/To only: a group,
    an invalid or empty first element makes it try the next header, never
    a later element of the same one (checked against sieve-test)."""
    s = write(tmp_workdir, "s.sieve",
              'require ["envelope", "variables", "fileinto"];\n'
              'if envelope :matches "to" "*" { fileinto "T${1}"; }\n'
              'if envelope :matches "from" "*" { fileinto "F${1}"; }\n')
    cases = [
        ("From: G: a@b.c;\r\nTo: Friends: x@y.z;, r@s.t\r\n",
         "Trecipient@example.com", "Fsender@example.com"),
        ("Return-Path: G:;\r\nFrom: f@g.h\r\nEnvelope-To: nonsense, q@b.c\r\nTo: r@s.t\r\n",
         "Tr@s.t", "Ff@g.h"),
        ("From: x@y.z\r\nTo: \"q l\"@b.c, r@s.t\r\n", 'T"q l"@b.c', "Fx@y.z"),
        ("From: x@y.z\r\nTo: \"Doe, John\" <bob@frop.example>, z@q.r\r\n",
         "Tbob@frop.example", "Fx@y.z"),
    ]
    for hdrs, to, frm in cases:
        m = write(tmp_workdir, "m.eml", hdrs + "Subject: x\r\n\r\nbody\r\n")
        r = run_tamis("test", s, m)
        assert r.returncode == 0, r
        assert f" * store message in folder: {to}\n" in r.stdout, (hdrs, r.stdout)
        assert f" * store message in folder: {frm}\n" in r.stdout, (hdrs, r.stdout)
