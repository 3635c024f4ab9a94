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
