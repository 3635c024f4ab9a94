"""vnd.dovecot.report: the MARF (RFC 5965) report it sends, checked with
Python's email parser on what `tamis test -e` prints and inside the
testsuite (where test_message :smtp reads the outgoing mail back).
"""
import email
import email.policy
import pathlib
import re
from conftest import make_maildir

MSG = ("Return-Path: <spammer@bad.example>\r\n"
       "From: Spammer <spammer@bad.example>\r\n"
       "To: victim@example.net\r\n"
       "Subject: Cheap stuff\r\n"
       "Message-ID: <spam1@bad.example>\r\n"
       "\r\n"
       "Buy now!\r\n")


def write(d, name, text):
    p = pathlib.Path(d) / name
    p.write_text(text)
    return p


def sent_messages(stdout):
    """The messages `tamis test -e` printed: (recipient, bytes)."""
    out = []
    for m in re.finditer(r"RECIPIENT: (.*)\nSTART MESSAGE:\n(.*?)\nEND MESSAGE\n", stdout, re.S):
        out.append((m.group(1), m.group(2).encode()))
    return out


def run_exec(run_tamis, d, script, extra=()):
    s = write(d, "s.sieve", script)
    m = write(d, "m.eml", MSG)
    md = make_maildir(pathlib.Path(d) / "Maildir")
    return run_tamis(*(["test", "-x", "+vnd.dovecot.report", "-f", "spammer@bad.example",
                        "-r", "victim@example.net"] + list(extra) + ["-e", "-l", md, s, m]))


def test_result_print_layout(run_tamis, tmp_workdir):
    s = write(tmp_workdir, "s.sieve", """require "vnd.dovecot.report";
report "abuse" "This is spam." "abuse@example.com";
report :headers_only "fraud" "Again." "Abuse Desk <abuse@Example.COM>";
report "other" "Third." "other@example.com";
""")
    m = write(tmp_workdir, "m.eml", MSG)
    r = run_tamis("test", "-x", "+vnd.dovecot.report", s, m)
    assert r.returncode == 0, r
    # The second report goes to the same address (the domain's case does
    # not matter): a duplicate, dropped.
    assert r.stdout == ("\nPerformed actions:\n\n"
                        " * report incoming message as `abuse' to: <abuse@example.com>\n"
                        " * report incoming message as `other' to: <other@example.com>\n"
                        "\nImplicit keep:\n\n * store message in folder: INBOX\n\n"), r


def test_marf_structure(run_tamis, tmp_workdir):
    r = run_exec(run_tamis, tmp_workdir, """require "vnd.dovecot.report";
report "abuse" "This message is spam." "abuse@example.com";
""")
    assert r.returncode == 0, r
    (rcpt, data), = sent_messages(r.stdout)
    assert rcpt == "abuse@example.com"
    rep = email.message_from_bytes(data, policy=email.policy.default)
    assert b"\r\nTo: <abuse@example.com>\r\n" in data
    assert rep["Subject"] == "Report: Cheap stuff"
    assert rep["Auto-Submitted"] == "auto-generated (report)"
    assert rep["From"].addresses[0].username == "postmaster"
    assert rep.get_content_type() == "multipart/report"
    assert rep.get_param("report-type") == "feedback-report"
    parts = list(rep.iter_parts())
    assert [p.get_content_type() for p in parts] == [
        "text/plain", "message/feedback-report", "message/rfc822"]
    assert parts[0].get_content().strip() == "This message is spam."
    raw_fb = data.split(b"Content-Type: message/feedback-report\r\n\r\n", 1)[1].split(b"\r\n\r\n", 1)[0]
    fields = dict(l.split(": ", 1) for l in raw_fb.decode().split("\r\n"))
    assert fields["Version"] == "1"
    assert fields["Feedback-Type"] == "abuse"
    assert fields["Original-Mail-From"] == "<spammer@bad.example>"
    assert fields["Original-Rcpt-To"] == "<victim@example.net>"
    assert fields["Dovecot-Reporting-User"] == "<victim@example.net>"
    assert "User-Agent" in fields
    # The whole original message is attached.
    assert MSG.encode() in data


def test_headers_only_attaches_the_header(run_tamis, tmp_workdir):
    r = run_exec(run_tamis, tmp_workdir, """require "vnd.dovecot.report";
report :headers_only "abuse" "Spam." "abuse@example.com";
""")
    (rcpt, data), = sent_messages(r.stdout)
    assert b"Content-Type: text/rfc822-headers\r\n" in data
    assert b"Subject: Cheap stuff\r\n" in data and b"Buy now!" not in data


def test_report_from_sources(run_tamis, tmp_workdir):
    cases = [("sender", "spammer@bad.example"), ("recipient", "victim@example.net"),
             ("<frop@example.org>", "frop@example.org")]
    for setting, addr in cases:
        r = run_exec(run_tamis, tmp_workdir, 'require "vnd.dovecot.report";\nreport "abuse" "x" "a@example.com";\n',
                     extra=["-o", "sieve_report_from=" + setting])
        (_, data), = sent_messages(r.stdout)
        rep = email.message_from_bytes(data, policy=email.policy.default)
        assert rep["From"].addresses[0].addr_spec == addr, (setting, data)


def test_8bit_text_and_subject(run_tamis, tmp_workdir):
    msg8 = MSG.replace("Subject: Cheap stuff", "Subject: =?utf-8?q?G=C3=BCnstig?=")
    s = write(tmp_workdir, "s.sieve", 'require "vnd.dovecot.report";\nreport "abuse" "Spät gesendet" "a@example.com";\n')
    m = write(tmp_workdir, "m.eml", msg8)
    md = make_maildir(tmp_workdir / "Maildir")
    r = run_tamis("test", "-x", "+vnd.dovecot.report", "-e", "-l", md, s, m)
    (_, data), = sent_messages(r.stdout)
    rep = email.message_from_bytes(data, policy=email.policy.default)
    assert rep["Subject"] == "Report: Günstig"
    text = next(rep.iter_parts())
    assert text.get_content_charset() == "utf-8" and text["Content-Transfer-Encoding"] == "8bit"


def test_compile_and_runtime_errors(run_tamis, tmp_workdir):
    s = write(tmp_workdir, "s.sieve", """require "vnd.dovecot.report";
report "ab/use" "x" "a@example.com";
report "abuse" "x" "not-an-address";
report "abuse" "x";
""")
    m = write(tmp_workdir, "m.eml", MSG)
    r = run_tamis("test", "-x", "+vnd.dovecot.report", s, m)
    assert r.returncode != 0
    assert "specified feedback type `ab/use' is invalid" in r.stderr, r
    assert "specified report address 'not-an-address' is invalid:" in r.stderr, r
    assert "the report command requires 3 positional argument(s), but 2 is/are specified" in r.stderr
    s = write(tmp_workdir, "s.sieve", """require ["vnd.dovecot.report", "variables"];
set "t" "no good";
report "${t}" "x" "a@example.com";
""")
    r = run_tamis("test", "-x", "+vnd.dovecot.report", s, m)
    assert "specified report feedback type `no good' is invalid" in r.stderr, r
    assert "resolved with successful implicit keep" in r.stderr


def test_in_testsuite(run_tamis, tmp_workdir):
    t = write(tmp_workdir, "t.svtest", r'''require "vnd.dovecot.testsuite";
require "vnd.dovecot.report";
require "body";
require "envelope";
test_set "message" text:
From: x@example.org
To: y@example.net
Subject: hi

payload
.
;
test_set "envelope.from" "x@example.org";
test_set "envelope.to" "y@example.net";
test "Sent to the address, from the null sender" {
  report "abuse" "Spam!" "abuse@example.com";
  if not test_result_action "report" { test_fail "no report action"; }
  if not test_result_execute { test_fail "execute failed"; }
  if not test_message :smtp 0 { test_fail "nothing sent"; }
  if not envelope :is "from" "" { test_fail "not from the null sender"; }
  if not envelope :is "to" "abuse@example.com" { test_fail "wrong recipient"; }
  if not header :is "subject" "Report: hi" { test_fail "wrong subject"; }
  if not body :raw :contains "payload" { test_fail "message missing"; }
  if not body :raw :contains "Feedback-Type: abuse" { test_fail "no feedback part"; }
}
''')
    r = run_tamis("testsuite", t)
    assert r.returncode == 0 and "FAILED" not in r.stdout, r
