"""extlists (RFC 6134): the :list match type against lists the settings
name (sieve_extlists_list, sieve_extlists_list2, ... = "<name> <file>"),
valid_ext_list, and redirect :list.
"""
import pathlib

MSG = ("From: Alice <ALICE@example.org>\r\nTo: bob@example.net\r\n"
       "X-IP: 192.0.2.7\r\nSubject: x\r\n\r\nbody\r\n")


def make_lists(d):
    d = pathlib.Path(d)
    (d / "friends").write_text("# my address book\nalice@example.org\n  Carol@Example.COM  \n\n")
    (d / "ips").write_text("192.0.2.7\n198.51.100.1\n")
    (d / "fwd").write_text("x@example.com\ny@example.com\n")
    return [
        "-x", "+extlists",
        "-o", f"sieve_extlists_list=:addrbook:default {d / 'friends'}",
        "-o", f"sieve_extlists_list2=tag:example.com,2011-04-10:DisallowedIPs {d / 'ips'}",
        "-o", f"sieve_extlists_list3=tag:example.com,2010-05-28:mylist {d / 'fwd'}",
    ]


def run(run_tamis, d, body, *extra):
    opts = make_lists(d)
    s = pathlib.Path(d) / "s.sieve"
    s.write_text(body)
    m = pathlib.Path(d) / "m.eml"
    m.write_text(MSG)
    return run_tamis("test", *opts, *extra, s, m)


def performed(out):
    return out.split("Implicit keep:")[0]


def test_rfc6134_example_addrbook(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir,
            'require ["envelope", "extlists", "fileinto"];\n'
            'if address :list "from" ":addrbook:default" { fileinto "known"; }\n'
            'if envelope :list "to" ":addrbook:default" { fileinto "never"; }\n')
    assert r.returncode == 0, r
    out = performed(r.stdout)
    assert "folder: known" in out and "never" not in out


def test_list_on_string_and_header(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir,
            'require ["extlists", "fileinto", "variables"];\n'
            'if header :matches "x-ip" "*" { set "ip" "${1}"; }\n'
            'if string :list "${ip}" "tag:example.com,2011-04-10:DisallowedIPs" { fileinto "blocked"; }\n'
            'if header :list "subject" ":addrbook:default" { fileinto "never"; }\n')
    out = performed(r.stdout)
    assert "folder: blocked" in out and "never" not in out, r


def test_valid_ext_list(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir,
            'require ["extlists", "fileinto"];\n'
            'if valid_ext_list [":addrbook:default", "tag:example.com,2010-05-28:mylist"] { fileinto "ok"; }\n'
            'if valid_ext_list [":addrbook:default", ":addrbook:work"] { fileinto "never"; }\n')
    out = performed(r.stdout)
    assert "folder: ok" in out and "never" not in out, r


def test_unknown_constant_list_is_a_compile_error(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir,
            'require ["extlists"];\nif header :list "from" ":addrbook:nope" { keep; }\n')
    assert r.returncode == 1
    assert "s:2:24: error: unknown external list ':addrbook:nope'." in r.stderr, r


def test_unknown_computed_list_has_no_members(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir,
            'require ["extlists", "variables", "fileinto"];\nset "l" "nope";\n'
            'if header :list "from" "${l}" { fileinto "never"; }\n')
    assert r.returncode == 0, r
    assert "never" not in r.stdout
    assert "unknown external list 'nope': no value is a member" in r.stderr


def test_redirect_list(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir,
            'require ["extlists", "copy"];\nredirect :copy :list "tag:example.com,2010-05-28:mylist";\n')
    assert r.returncode == 0, r
    assert (" * redirect message to: <x@example.com>\n        + preserve implicit keep\n"
            " * redirect message to: <y@example.com>\n        + preserve implicit keep\n") in r.stdout


def test_redirect_list_respects_redirect_limit(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir,
            'require ["extlists"];\nredirect :list "tag:example.com,2010-05-28:mylist";\n',
            "-o", "sieve_max_redirects=1")
    assert r.returncode == 1
    assert "number of redirect actions exceeds policy limit (2 > 1)" in r.stderr


def test_lookup_size_limit(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir,
            'require ["extlists", "fileinto"];\n'
            'if address :list "from" ":addrbook:default" { fileinto "known"; }\n',
            "-o", "sieve_extlists_max_lookup_size=5")
    assert "known" not in performed(r.stdout), r


# ---- RFC 6134 (https://www.rfc-editor.org/rfc/rfc6134) examples ----

def test_rfc6134_example_mylist_redirect(run_tamis, tmp_workdir):
    # RFC 6134 section 2.4 example: a list that redirects to its members
    # (the sender, alice, is a member too: header :list "from" holds)
    d = pathlib.Path(tmp_workdir)
    opts = make_lists(d)
    (d / "fwd").write_text("x@example.com\ny@example.com\nalice@example.org\n")
    (d / "s.sieve").write_text(
        'require ["envelope", "subaddress", "extlists"];\n'
        'if allof (envelope :detail "to" "mylist",\n'
        '          header :list "from"\n'
        '                 "tag:example.com,2010-05-28:mylist") {\n'
        '    redirect :list "tag:example.com,2010-05-28:mylist";\n}\n')
    # header (not address) :list compares the whole From value
    (d / "m.eml").write_text(MSG.replace("From: Alice <ALICE@example.org>", "From: alice@example.org"))
    r = run_tamis("test", *opts, "-r", "bob+mylist@example.net", d / "s.sieve", d / "m.eml")
    assert r.returncode == 0, r
    out = performed(r.stdout)
    assert " * redirect message to: <x@example.com>\n" in out, r
    assert " * redirect message to: <y@example.com>\n" in out, r


def test_rfc6134_example_disallowed_ips(run_tamis, tmp_workdir):
    # RFC 6134 section 2.3 example: a Received IP in a list rejects
    d = pathlib.Path(tmp_workdir)
    opts = make_lists(d)
    (d / "s.sieve").write_text(
        'require ["variables", "extlists", "index", "reject"];\n'
        'if header :index 1 :matches "received" "*(* [*.*.*.*])*" {\n'
        '    set "ip" "${3}.${4}.${5}.${6}";\n'
        '    if string :list "${ip}"\n'
        '       "tag:example.com,2011-04-10:DisallowedIPs" {\n'
        '        reject "Message not allowed from this IP address";\n    }\n}\n')
    (d / "m.eml").write_text("Received: from mx (mx.example.org [192.0.2.7]) by x\r\n" + MSG)
    r = run_tamis("test", *opts, d / "s.sieve", d / "m.eml")
    assert r.returncode == 0, r
    assert "reject message with reason: Message not allowed from this IP address" in r.stdout, r


def test_rfc6134_example_addrbook_envelope(run_tamis, tmp_workdir):
    # RFC 6134 section 2.3 example ("envelope :list ... :addrbook:default"),
    # with spamtest left out: known senders get one treatment, others another
    body = ('require ["envelope", "extlists", "fileinto"];\n'
            'if envelope :list "from" ":addrbook:default" { fileinto "known"; }\n'
            'else { fileinto "unknown"; }\n')
    r = run(run_tamis, tmp_workdir, body, "-f", "carol@example.com")
    assert r.returncode == 0, r
    assert "folder: known" in performed(r.stdout), r
    r = run(run_tamis, tmp_workdir, body, "-f", "mallory@example.com")
    assert "folder: unknown" in performed(r.stdout), r


def test_comparator_with_list_is_an_error(run_tamis, tmp_workdir):
    # RFC 6134: :list decides membership itself; a comparator is refused
    # (same wording as Pigeonhole 2.4's extlists).
    r = run(run_tamis, tmp_workdir,
            'require ["extlists"];\n'
            'if header :list :comparator "i;octet" "from" ":addrbook:default" { keep; }\n')
    assert r.returncode == 1, r
    assert "the :list match type does not allow a comparator" in r.stderr, r


# ---- list names, ${0}, the default address book (checked against
# Pigeonhole 2.4's extlists plugin and its testsuite) ----

def test_urn_and_shorthand_name_one_list(run_tamis, tmp_workdir):
    # ":addrbook:default" is short for "urn:ietf:params:sieve:addrbook:default"
    # (RFC 6134); either spelling in the settings serves both in scripts,
    # and names compare without regard to case.
    d = pathlib.Path(tmp_workdir)
    (d / "friends").write_text("alice@example.org\n")
    (d / "s.sieve").write_text(
        'require ["extlists", "fileinto"];\n'
        'if address :list "from" "urn:ietf:params:sieve:addrbook:default" { fileinto "urn"; }\n'
        'if address :list "from" ":addrbook:default" { fileinto "short"; }\n'
        'if valid_ext_list ["URN:IETF:PARAMS:SIEVE:addrbook:default", ":ADDRBOOK:default"] '
        '{ fileinto "valid"; }\n')
    (d / "m.eml").write_text(MSG)
    for name in ("urn:ietf:params:sieve:addrbook:default", ":addrbook:default"):
        r = run_tamis("test", "-x", "+extlists", "-o", f"sieve_extlists_list={name} {d / 'friends'}",
                      d / "s.sieve", d / "m.eml")
        assert r.returncode == 0, r
        out = performed(r.stdout)
        assert "folder: urn" in out and "folder: short" in out and "folder: valid" in out, (name, r)


def test_list_match_sets_match_value_zero(run_tamis, tmp_workdir):
    # As Pigeonhole 2.4: after a :list match ${0} is the value found.
    r = run(run_tamis, tmp_workdir,
            'require ["extlists", "fileinto", "variables"];\n'
            'if address :list ["to", "from"] ":addrbook:default" { fileinto "found-${0}"; }\n')
    assert r.returncode == 0, r
    assert "folder: found-ALICE@example.org" in performed(r.stdout), r


def test_default_addrbook_exists_unconfigured(run_tamis, tmp_workdir):
    # Without settings ":addrbook:default" is an empty list, not an error;
    # other names still are.
    d = pathlib.Path(tmp_workdir)
    (d / "s.sieve").write_text(
        'require ["extlists", "fileinto", "envelope"];\n'
        'if valid_ext_list ":addrbook:default" { fileinto "valid"; }\n'
        'if valid_ext_list "frop:666" { fileinto "never"; }\n'
        'if envelope :list "from" ":addrbook:default" { fileinto "never"; }\n')
    (d / "m.eml").write_text(MSG)
    r = run_tamis("test", "-x", "+extlists", d / "s.sieve", d / "m.eml")
    assert r.returncode == 0, r
    out = performed(r.stdout)
    assert "folder: valid" in out and "never" not in out, r
    (d / "t.sieve").write_text('require "extlists";\nif header :list "from" ":addrbook:work" { keep; }\n')
    r = run_tamis("compile", "-x", "+extlists", d / "t.sieve")
    assert r.returncode == 1 and "unknown external list ':addrbook:work'" in r.stderr, r


# ---- RFC 6134's examples beyond what tests/rfc-examples/rfc6134 (run by
# test_rfc_examples.py) can check: outcomes that depend on today's date or
# on the stored message ----

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "rfc-examples" / "rfc6134"


def example_opts():
    import json
    m = json.loads((EXAMPLES / "cases.json").read_text())
    opts = ["-x", m["extensions"]]
    for k, v in m["settings"].items():
        opts += ["-o", f"{k}={v.replace('{dir}', str(EXAMPLES))}"]
    return opts


def test_rfc6134_example_holidays_today(run_tamis, tmp_workdir):
    # The example (with mailto: for xmpp:) notifies when today is listed.
    import datetime
    d = pathlib.Path(tmp_workdir)
    today = datetime.date.today()
    (d / "holidays").write_text("".join(f"{today + datetime.timedelta(days=k)}\n" for k in (-1, 0, 1)))
    (d / "m.eml").write_text(MSG)
    opts = [o.replace(str(EXAMPLES / "lists" / "holidays"), str(d / "holidays")) for o in example_opts()]
    r = run_tamis("test", *opts, EXAMPLES / "s2-3-holidays-mailto.sieve", d / "m.eml")
    assert r.returncode == 0, r
    assert "send notification with method 'mailto:'" in r.stdout and "To: romeo@example.com" in r.stdout, r


def test_rfc6134_example_bad_attachment(run_tamis, tmp_workdir):
    # The part whose file name is listed gets the message enclosed in a
    # warning: -e stores the new message (the action list shows no change).
    d = pathlib.Path(tmp_workdir)
    for fname, enclosed in (("Virus.EXE", True), ("report.pdf", False)):
        (d / "m.eml").write_text(
            "From: mallory@example.com\r\nTo: bob@example.net\r\nSubject: files\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\n"
            f"hello\r\n--b1\r\nContent-Type: application/octet-stream\r\n"
            f"Content-Disposition: attachment; filename=\"{fname}\"\r\n\r\nMZ\r\n--b1--\r\n")
        md = d / f"Maildir-{fname}"
        r = run_tamis("test", *example_opts(), "-e", "-l", md, EXAMPLES / "s2-bad-attachments.sieve", d / "m.eml")
        assert r.returncode == 0, r
        stored = [p.read_text() for p in (md / "new").iterdir()]
        assert len(stored) == 1, r
        assert ("Subject: Warning" in stored[0] and "WARNING! The enclosed message" in stored[0]) == enclosed, stored


def test_lookup_size_default_is_pigeonhole_s(run_tamis, tmp_workdir):
    # sieve_extlists_max_lookup_size defaults to 1024 bytes, Pigeonhole
    # 2.4's per-list default: a longer value is never looked up.
    d = pathlib.Path(tmp_workdir)
    ok, long_ = "a" * 1024, "b" * 1025
    (d / "vals").write_text(f"{ok}\n{long_}\n")
    (d / "s.sieve").write_text(
        'require ["extlists", "fileinto", "variables"];\n'
        f'if string :list "{ok}" "tag:example.com,2025:v" {{ fileinto "ok"; }}\n'
        f'if string :list "{long_}" "tag:example.com,2025:v" {{ fileinto "long"; }}\n')
    (d / "m.eml").write_text(MSG)
    r = run_tamis("test", "-x", "+extlists", "-o", f"sieve_extlists_list=tag:example.com,2025:v {d / 'vals'}",
                  d / "s.sieve", d / "m.eml")
    out = performed(r.stdout)
    assert "folder: ok" in out and "folder: long" not in out, r


def test_address_lists_groups_and_bad_addresses(run_tamis, tmp_workdir):
    # What Pigeonhole 2.4's extlists testsuite checks, with Tamis's list
    # files: no member among the To addresses; a member among the Cc ones
    # (${0} is that member); a member inside a group; nothing from
    # unparsable addresses; two names for one list in a key list.
    d = pathlib.Path(tmp_workdir)
    (d / "book").write_text("user35@example.org\nuser1@example.org\n")
    (d / "work").write_text("boss@example.com\n")
    (d / "m.eml").write_bytes(
        b"From: <stephan@example.com>\r\nTo: <usera@example.org>, <userb@example.org>\r\n"
        b"Cc: <useraa@example.org>, <user35@example.org>\r\n"
        b"Bcc: group:<userj@example.org>, <user35@example.org>;, <userax@example.org>\r\n"
        b"Reply-To: <\xf0\x9f\x98\x88@example.com>, <\"@example.com>\r\nSubject: Frop!\r\n\r\nFrop\r\n")
    (d / "s.sieve").write_text(
        'require ["extlists", "fileinto", "variables"];\n'
        'if address :list "to" "urn:ietf:params:sieve:addrbook:default" { fileinto "to"; }\n'
        'if address :list "cc" ":addrbook:default" { fileinto "cc-${0}"; }\n'
        'if address :list "bcc" ":addrbook:default" { fileinto "group-${0}"; }\n'
        'if address :list "reply-to" ":addrbook:default" { fileinto "bad"; }\n'
        'if address :list "cc" [":addrbook:work", ":addrbook:default"] { fileinto "two"; }\n')
    r = run_tamis("test", "-x", "+extlists", "-o", f"sieve_extlists_list=:addrbook:default {d / 'book'}",
                  "-o", f"sieve_extlists_list2=:addrbook:work {d / 'work'}", d / "s.sieve", d / "m.eml")
    assert r.returncode == 0, r
    out = performed(r.stdout)
    assert [l.split(": ", 1)[1] for l in out.splitlines() if "folder:" in l] == \
        ["cc-user35@example.org", "group-user35@example.org", "two"], r
