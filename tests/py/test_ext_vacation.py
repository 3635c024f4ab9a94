"""The vacation extension (RFC 5230) and vacation-seconds (RFC 6131) through
`tamis test` and `tamis test -e`: the action listing in sieve-test's layout,
compile-time checks, and the reply itself -- sent for ordinary mail, never
for list, bulk, automatic or system mail, nor for mail that does not name
the user -- with the headers RFC 5230 section 5 asks for.
"""
import email
import email.header
import email.policy
import pathlib
import re

import pytest

ME = "nico@frop.example.org"
SENDER = "stephan@example.org"

REQ = 'require ["vacation", "variables"];\n'


def msg(*extra, to=ME, subject="Frop!", frm=f'"Stephan Bosch" <{SENDER}>',
        msgid="<432df324@example.org>", body="Frop\r\n"):
    lines = [f"From: {frm}", f"To: {to}"]
    if subject is not None:
        lines.append(f"Subject: {subject}")
    if msgid is not None:
        lines.append(f"Message-ID: {msgid}")
    lines.extend(extra)
    return "\r\n".join(lines) + "\r\n\r\n" + body


def write(d, name, text):
    p = pathlib.Path(d) / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text)
    return p


class Run:
    """One `tamis test -e` run: the listing and the messages sent."""

    def __init__(self, r):
        self.r = r
        self.listing = r.stdout.split("\nRECIPIENT: ")[0]
        self.sent = []
        for m in re.finditer(r"RECIPIENT: (.*)\nSTART MESSAGE:\n(.*?)END MESSAGE", r.stdout, re.S):
            self.sent.append((m.group(1), m.group(2)))
        self.env_from = re.findall(r"sending message from <(.*)>", r.stderr)

    def message(self, i=0):
        return email.message_from_string(self.sent[i][1], policy=email.policy.compat32)


def run_e(run_tamis, d, script, message, *opts, sender=SENDER, rcpt=ME):
    s = write(d, "s.sieve", script)
    m = write(d, "m.eml", message)
    r = run_tamis("test", "-e", "-l", pathlib.Path(d) / "Maildir", "-f", sender, "-r", rcpt, *opts, s, m)
    assert r.returncode == 0, r
    return Run(r)


def run_list(run_tamis, d, script, *opts, message=None):
    s = write(d, "s.sieve", script)
    m = write(d, "m.eml", message or msg())
    return run_tamis("test", *opts, s, m)


def decoded(value):
    return str(email.header.make_header(email.header.decode_header(value)))


# ---- the reply ----

def test_normal_mail_is_answered(run_tamis, tmp_workdir):
    r = run_e(run_tamis, tmp_workdir, REQ + 'vacation "I am away.";\n', msg())
    assert len(r.sent) == 1
    rcpt, _ = r.sent[0]
    assert rcpt == SENDER
    assert r.env_from == [""], "RFC 5230 5.1: the reply goes out from the null sender"
    m = r.message()
    assert m["Auto-Submitted"] == "auto-replied (vacation)"
    assert m["Precedence"] == "bulk"
    assert m["X-Auto-Response-Suppress"] == "All"
    assert m["Subject"] == "Auto: Frop!"
    assert m["From"] == f"<{ME}>"
    assert m["To"] == f'"Stephan Bosch" <{SENDER}>'
    assert m["In-Reply-To"] == "<432df324@example.org>"
    assert m["References"] == "<432df324@example.org>"
    assert m["MIME-Version"] == "1.0"
    assert m["Content-Type"] == "text/plain; charset=utf-8"
    assert m["Message-ID"].startswith("<") and m["Date"]
    assert m.get_payload().strip() == "I am away."
    assert "sent vacation response to <stephan@example.org>" in r.r.stderr


def test_references_are_extended(run_tamis, tmp_workdir):
    r = run_e(run_tamis, tmp_workdir, REQ + 'vacation "away";\n',
              msg("References: <1@a.example> <2@b.example>", "In-Reply-To: <2@b.example>"))
    m = r.message()
    assert m["References"].split() == ["<1@a.example>", "<2@b.example>", "<432df324@example.org>"]
    assert m["In-Reply-To"] == "<432df324@example.org>"


def test_no_message_id_no_in_reply_to(run_tamis, tmp_workdir):
    r = run_e(run_tamis, tmp_workdir, REQ + 'vacation "away";\n', msg(msgid=None))
    m = r.message()
    assert m["In-Reply-To"] is None and m["References"] is None


@pytest.mark.parametrize("extra,reason", [
    ("List-Id: <frop.lists.example.org>", "mailinglist"),
    ("List-Post: <mailto:frop@lists.example.org>", "mailinglist"),
    ("List-Unsubscribe: <mailto:leave@lists.example.org>", "mailinglist"),
    ("Precedence: bulk", "precedence=bulk"),
    ("Precedence: list", "precedence=list"),
    ("Precedence: JUNK", "precedence=JUNK"),
    ("Auto-Submitted: auto-replied", "auto-submitted"),
    ("Auto-Submitted: auto-generated", "auto-submitted"),
    ("X-Auto-Response-Suppress: DR, OOF", "x-auto-response-suppress"),
    ("X-Auto-Response-Suppress: All", "x-auto-response-suppress"),
])
def test_automatic_and_list_mail_is_not_answered(run_tamis, tmp_workdir, extra, reason):
    r = run_e(run_tamis, tmp_workdir, REQ + 'vacation "away";\n', msg(extra))
    assert r.sent == []
    assert reason in r.r.stderr


@pytest.mark.parametrize("extra", ["Auto-Submitted: no", "Precedence: normal",
                                   "X-Auto-Response-Suppress: DR, RN"])
def test_harmless_markers_do_not_stop_the_reply(run_tamis, tmp_workdir, extra):
    r = run_e(run_tamis, tmp_workdir, REQ + 'vacation "away";\n', msg(extra))
    assert len(r.sent) == 1


@pytest.mark.parametrize("sender,reason", [
    ("<>", "discarded vacation reply to <>"),
    ("MAILER-DAEMON@example.org", "system address"),
    ("listserv@example.org", "system address"),
    ("Majordomo@example.org", "system address"),
    ("frop-request@lists.example.org", "system address"),
    ("owner-frop@lists.example.org", "system address"),
    (ME, "own address"),
    (ME.upper(), "own address"),
])
def test_senders_that_are_never_answered(run_tamis, tmp_workdir, sender, reason):
    r = run_e(run_tamis, tmp_workdir, REQ + 'vacation "away";\n', msg(), sender=sender)
    assert r.sent == []
    assert reason in r.r.stderr


def test_own_alternative_address_is_not_answered(run_tamis, tmp_workdir):
    r = run_e(run_tamis, tmp_workdir,
              REQ + 'vacation :addresses ["alias@frop.example.org"] "away";\n',
              msg(), sender="Alias@Frop.Example.org")
    assert r.sent == []
    assert "as specified using :addresses" in r.r.stderr


@pytest.mark.parametrize("header", ["To", "Cc", "Bcc", "Resent-To", "Resent-Cc", "Resent-Bcc"])
def test_user_named_in_any_recipient_header(run_tamis, tmp_workdir, header):
    m = msg(f"{header}: Nico <{ME.upper()}>", to="somebody@example.com") if header != "To" else msg()
    r = run_e(run_tamis, tmp_workdir, REQ + 'vacation "away";\n', m)
    assert len(r.sent) == 1


def test_implicitly_delivered_mail_is_not_answered(run_tamis, tmp_workdir):
    m = msg(to="list@example.com")
    r = run_e(run_tamis, tmp_workdir, REQ + 'vacation "away";\n', m)
    assert r.sent == []
    assert "implicitly delivered" in r.r.stderr
    # ... unless an alias given with :addresses is named: the reply then
    # comes from that alias, the envelope stays the user's.
    r = run_e(run_tamis, tmp_workdir,
              REQ + 'vacation :addresses "list@example.com" "away";\n', m,
              "-o", "sieve_vacation_send_from_recipient=yes")
    assert len(r.sent) == 1
    assert r.message()["From"] == "<list@example.com>"
    assert r.env_from == [ME]


def test_dont_check_recipient(run_tamis, tmp_workdir):
    r = run_e(run_tamis, tmp_workdir, REQ + 'vacation "away";\n', msg(to="list@example.com"),
              "-o", "sieve_vacation_dont_check_recipient=yes", "-o", "sieve_user_email=me@x.example")
    assert len(r.sent) == 1
    assert r.message()["From"] == "<me@x.example>"


ORIG_SVTEST = r"""
require "vnd.dovecot.testsuite";
require "vacation";

test_set "message" text:
From: stephan@example.org
To: alias@frop.example.org
Subject: Frop!

Frop!
.
;
test_set "envelope.from" "stephan@example.org";
test_set "envelope.to" "nico@frop.example.org";
test_set "envelope.orig_to" "alias@frop.example.org";

test "Original recipient ignored by default" {
	vacation "away";
	if not test_result_execute { test_fail "execute"; }
	if test_message :smtp 0 { test_fail "answered mail not addressed to the user"; }
}

test_result_reset;
test_config_set "sieve_vacation_use_original_recipient" "yes";
test_config_reload :extension "vacation";

test "Original recipient used when configured" {
	vacation "away";
	if not test_result_execute { test_fail "execute"; }
	if not test_message :smtp 0 { test_fail "no reply"; }
	if not address :is "from" "alias@frop.example.org" { test_fail "reply not from the alias"; }
}
"""


def test_original_recipient_counts_when_configured(run_tamis, tmp_workdir):
    # Through the testsuite, whose envelope has separate final and
    # original recipients.
    t = write(tmp_workdir, "orig.svtest", ORIG_SVTEST)
    r = run_tamis("testsuite", t)
    assert r.returncode == 0 and "FAILED" not in r.stdout, r


def test_send_from_recipient(run_tamis, tmp_workdir):
    r = run_e(run_tamis, tmp_workdir, REQ + 'vacation "away";\n', msg(),
              "-o", "sieve_vacation_send_from_recipient=yes")
    assert r.env_from == [ME]


def test_from_and_subject_tags(run_tamis, tmp_workdir):
    r = run_e(run_tamis, tmp_workdir,
              REQ + 'set "who" "Nico"; vacation :subject "Out (${who})" '
              ':from "Nico Example <nico@frop.example.org>" "away";\n', msg())
    m = r.message()
    assert m["Subject"] == "Out (Nico)"
    assert m["From"] == "Nico Example <nico@frop.example.org>"


def test_non_ascii_subject_and_body_are_mime_encoded(run_tamis, tmp_workdir):
    r = run_e(run_tamis, tmp_workdir,
              REQ + 'vacation :subject "Afwezig – tot maandag ☃" "Ik ben weg, tot ziens — Nico";\n', msg())
    raw = r.sent[0][1]
    header_block = raw.split("\r\n\r\n")[0]
    assert all(ord(c) < 128 for c in header_block), "headers must be 7-bit"
    m = r.message()
    assert decoded(m["Subject"]) == "Afwezig – tot maandag ☃"
    assert m["Content-Type"] == "text/plain; charset=utf-8"
    assert m["Content-Transfer-Encoding"] == "8bit"
    assert "Ik ben weg, tot ziens — Nico" in raw


def test_original_subject_with_encoded_words(run_tamis, tmp_workdir):
    r = run_e(run_tamis, tmp_workdir, REQ + 'vacation "away";\n',
              msg(subject="=?utf-8?q?Gr=C3=BC=C3=9Fe?= aus Berlin"))
    assert decoded(r.message()["Subject"]) == "Auto: Grüße aus Berlin"


def test_subject_cannot_inject_headers(run_tamis, tmp_workdir):
    r = run_e(run_tamis, tmp_workdir,
              REQ + 'vacation :subject "hi\r\nBcc: victim@example.com" "away";\n', msg())
    m = r.message()
    assert m["Bcc"] is None
    assert "victim" in m["Subject"]


def test_long_subject_is_cut_with_ellipsis(run_tamis, tmp_workdir):
    r = run_e(run_tamis, tmp_workdir, REQ + 'vacation "away";\n', msg(subject="x" * 400),
              "-o", "sieve_vacation_max_subject_codepoints=30")
    s = decoded(r.message()["Subject"])
    assert s == "Auto: " + "x" * 23 + "\u2026"


def test_default_subject_settings(run_tamis, tmp_workdir):
    script = REQ + 'vacation "away";\n'
    r = run_e(run_tamis, tmp_workdir, script, msg(subject=None))
    assert r.message()["Subject"] == "Automated reply"
    r = run_e(run_tamis, tmp_workdir, script, msg(subject=None),
              "-o", "sieve_vacation_default_subject=Weg")
    assert r.message()["Subject"] == "Weg"
    r = run_e(run_tamis, tmp_workdir, script, msg(subject="Bloemen"),
              "-o", "sieve_vacation_default_subject_template=Re (auto): %{subject} %$")
    assert r.message()["Subject"] == "Re (auto): Bloemen Bloemen"


def test_mime_reason_is_the_whole_entity(run_tamis, tmp_workdir):
    script = REQ + ('vacation :mime text:\r\n'
                    'Content-Type: text/html; charset=us-ascii\r\n'
                    '\r\n'
                    '<p>away</p>\r\n'
                    '.\r\n;\n')
    r = run_e(run_tamis, tmp_workdir, script, msg())
    m = r.message()
    assert m["Content-Type"] == "text/html; charset=us-ascii"
    assert "<p>away</p>" in m.get_payload()


def test_very_long_lines_go_out_quoted_printable(run_tamis, tmp_workdir):
    r = run_e(run_tamis, tmp_workdir, REQ + 'vacation "' + "a" * 2000 + '";\n', msg())
    m = r.message()
    assert m["Content-Transfer-Encoding"] == "quoted-printable"
    assert all(len(l) <= 998 for l in r.sent[0][1].split("\r\n"))
    assert m.get_payload(decode=True).decode().strip() == "a" * 2000


# ---- the listing and compile-time checks ----

def test_listing_layout(run_tamis, tmp_workdir):
    r = run_list(run_tamis, tmp_workdir,
                 REQ + 'vacation :days 3 :subject "away" :from "me@frop.example.org" "I am away";\n')
    assert r.returncode == 0, r
    assert r.stdout == ("\nPerformed actions:\n\n"
                        " * send vacation message:\n"
                        "    => seconds : 259200\n"
                        "    => subject : away\n"
                        "    => from    : me@frop.example.org\n"
                        "    => handle  : I am awayawayme@frop.example.org<NO-MIME>\n"
                        "\nSTART MESSAGE\nI am away\nEND MESSAGE\n"
                        "\nImplicit keep:\n\n * store message in folder: INBOX\n\n")


def test_default_handle_uses_the_source_text(run_tamis, tmp_workdir):
    r = run_list(run_tamis, tmp_workdir,
                 REQ + 'set "r" "x"; vacation :subject "s${r}" :mime "m${r}";\n')
    assert "    => handle  : m${r}s${r}<default-from><MIME>\n" in r.stdout
    assert "    => subject : sx\n" in r.stdout


@pytest.mark.parametrize("script,seconds,warning", [
    ('vacation :days 0 "x";', 86400, "specified :days value '0' is under the minimum"),
    ('vacation "x";', 604800, None),
    ('vacation :days 1000 "x";', 86400000, None),
])
def test_days_limits(run_tamis, tmp_workdir, script, seconds, warning):
    r = run_list(run_tamis, tmp_workdir, REQ + script)
    assert f"    => seconds : {seconds}\n" in r.stdout
    if warning:
        assert warning in r.stderr


def test_max_period_setting(run_tamis, tmp_workdir):
    r = run_list(run_tamis, tmp_workdir, REQ + 'vacation :days 30 "x";', "-o", "sieve_vacation_max_period=10d")
    assert "    => seconds : 864000\n" in r.stdout
    assert "specified :days value '30' is over the maximum" in r.stderr


def test_vacation_seconds(run_tamis, tmp_workdir):
    script = 'require "vacation-seconds";\nvacation :seconds 120 "x";\n'
    r = run_list(run_tamis, tmp_workdir, script)
    assert r.returncode != 0 and "vacation-seconds" in r.stderr, "off unless enabled, as in Pigeonhole"
    r = run_list(run_tamis, tmp_workdir, script, "-x", "+vacation-seconds")
    assert "    => seconds : 86400\n" in r.stdout
    r = run_list(run_tamis, tmp_workdir, script, "-x", "+vacation-seconds",
                 "-o", "sieve_vacation_min_period=1m")
    assert "    => seconds : 120\n" in r.stdout
    r = run_list(run_tamis, tmp_workdir, 'require "vacation-seconds";\nvacation :days 1 :seconds 5 "x";\n',
                 "-x", "+vacation-seconds")
    assert "encountered duplicate :seconds argument for the vacation command" in r.stderr


@pytest.mark.parametrize("addr,error", [
    ("stephan#example.org", "invalid or lonely local part 'stephan#example.org' (expecting '@')"),
    ("", "empty address"),
    ("a@b.c, d@e.f", "not a single address (found ',')"),
    ("a@b..c", "invalid or missing domain"),
    ("Nico <a@b.c", "missing '>'"),
])
def test_invalid_from_is_a_compile_error(run_tamis, tmp_workdir, addr, error):
    r = run_list(run_tamis, tmp_workdir, REQ + f'vacation :from "{addr}" "x";\n')
    assert r.returncode != 0
    assert f"specified :from address '{addr}' is invalid for vacation action: {error}" in r.stderr


def test_two_vacations_are_an_error(run_tamis, tmp_workdir):
    r = run_list(run_tamis, tmp_workdir, REQ + 'vacation "x";\nvacation "y";\n')
    assert r.returncode == 1 and r.stdout == ""
    assert "duplicate vacation action not allowed (previously triggered one was here: s: line 2)" in r.stderr


def test_vacation_does_not_cancel_implicit_keep(run_tamis, tmp_workdir):
    r = run_e(run_tamis, tmp_workdir, REQ + 'vacation "away";\n', msg())
    assert "Implicit keep:\n\n * store message in folder: INBOX" in r.listing
    new = list((tmp_workdir / "Maildir" / "new").iterdir())
    assert len(new) == 1
