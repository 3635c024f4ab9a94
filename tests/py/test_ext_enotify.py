"""The enotify extension (RFC 5435) with the mailto method (RFC 5436)
through `tamis test` and `tamis test -e`: notify's listing in sieve-test's
layout, the URI and option checks with Pigeonhole's wording, the tests
valid_notify_method and notify_method_capability, :encodeurl, duplicate
recipients across notify actions, and the notification message itself.
"""
import email
import email.header
import email.policy
import pathlib
import re

import pytest

ME = "bertus@frop.example.org"
SENDER = "sirius@example.org"
MSG = ("From: stephan@example.org\r\n"
       "To: nico@frop.example.org\r\n"
       "Subject: Frop!\r\n"
       "Message-ID: <1@example.org>\r\n"
       "\r\n"
       "Klutsefluts.\r\n")


def write(d, name, text):
    p = pathlib.Path(d) / name
    p.write_text(text)
    return p


def listing(run_tamis, d, script, *opts, message=MSG):
    s = write(d, "s.sieve", script)
    m = write(d, "m.eml", message)
    return run_tamis("test", *opts, s, m)


def execute(run_tamis, d, script, *opts, message=MSG, sender=SENDER):
    s = write(d, "s.sieve", script)
    m = write(d, "m.eml", message)
    r = run_tamis("test", "-e", "-l", pathlib.Path(d) / "Maildir", "-f", sender, "-r", ME, *opts, s, m)
    assert r.returncode == 0, r
    sent = []
    for mm in re.finditer(r"((?:RECIPIENT: .*\n)+)START MESSAGE:\n(.*?)END MESSAGE", r.stdout, re.S):
        rcpts = re.findall(r"RECIPIENT: (.*)", mm.group(1))
        sent.append((rcpts, email.message_from_string(mm.group(2), policy=email.policy.compat32)))
    env_from = re.findall(r"sending message from <(.*)>", r.stderr)
    return r, sent, env_from


# ---- listing ----

def test_rfc5435_listing(run_tamis, tmp_workdir):
    r = listing(run_tamis, tmp_workdir,
                'require "enotify";\n'
                'notify :importance "1" :message "This is probably very important"\n'
                '  "mailto:alm@example.com%2cbob@example.com?cc=carol@example.com&X-Tag=sieve&body=Hi%20there";\n')
    assert r.returncode == 0, r
    assert r.stdout == (
        "\nPerformed actions:\n\n"
        " * send notification with method 'mailto:':\n"
        "    => importance   : 1\n"
        "    => subject      : This is probably very important\n"
        "    => recipients   :\n"
        "       + To: alm@example.com\n"
        "       + To: bob@example.com\n"
        "       + Cc: carol@example.com\n"
        "    => headers      :\n"
        "       + X-Tag: sieve\n"
        "    => body         : \n--\nHi there\n--\n"
        "\n"
        "\nImplicit keep:\n\n * store message in folder: INBOX\n\n")


def test_no_recipients(run_tamis, tmp_workdir):
    r = listing(run_tamis, tmp_workdir, 'require "enotify";\nnotify "mailto:?subject=x";\n')
    assert "       NONE, action has no effect\n" in r.stdout
    assert "notification URI specifies no recipients" in r.stderr


def test_duplicate_recipients_across_actions(run_tamis, tmp_workdir):
    # RFC 5435 section 3.9: a recipient already notified is dropped; an
    # action left with nobody is dropped entirely.
    r = listing(run_tamis, tmp_workdir,
                'require "enotify";\n'
                'notify "mailto:a@example.com%2cb@example.com";\n'
                'notify "mailto:b@example.com?cc=c@example.com";\n'
                'notify "mailto:a@example.com%2cc@example.com";\n')
    assert r.stdout.count("send notification") == 2
    second = r.stdout.split(" * send notification")[2]
    assert "+ Cc: c@example.com" in second and "b@example.com" not in second


def test_recipient_limit_and_reserved_headers(run_tamis, tmp_workdir):
    rcpts = "%2c".join(f"a{i}@example.com" for i in range(10))
    r = listing(run_tamis, tmp_workdir,
                f'require "enotify";\nnotify "mailto:{rcpts}?from=evil@example.com&Reply-To=x@example.com";\n')
    assert r.stdout.count("       + To: ") == 8
    assert "more than the maximum 8 recipients specified; rest is discarded" in r.stderr
    assert "ignored reserved header field 'from'" in r.stderr
    assert "+ Reply-To: x@example.com" in r.stdout


def test_encodeurl(run_tamis, tmp_workdir):
    r = listing(run_tamis, tmp_workdir,
                'require ["enotify", "variables"];\n'
                'set :encodeurl "b" "Safe body&evil=evilbody";\n'
                'notify "mailto:tim@example.com?body=${b}";\n')
    assert "--\nSafe body&evil=evilbody\n--\n" in r.stdout
    assert "headers" not in r.stdout
    r = listing(run_tamis, tmp_workdir, 'require "variables";\nset :encodeurl "b" "x";\n')
    assert r.returncode != 0, "encodeurl belongs to enotify"


# ---- compile-time checks ----

@pytest.mark.parametrize("stmt,error", [
    ('notify "snailto:a@example.org";', "notify command: invalid method 'snailto'"),
    ('notify ":a@example.org";', "notify command: invalid scheme part for method URI ':a@example.org'"),
    ('notify "mailto:a@example.org;x";', "notify command: mailto URI: invalid character ';' in 'to' part"),
    ('notify "mailto:a@example.org?h<=x";',
     "notify command: mailto URI: invalid character '<' in header field name part"),
    ('notify "mailto:a@example.org?h=x>";',
     "notify command: mailto URI: invalid character '>' in header field value part"),
    ('notify "mailto:a@example.org?h:=x";', "notify command: mailto URI: invalid header field name"),
    ('notify "mailto:a@example.org?subject=%0Ax";', "notify command: mailto URI: invalid header field body"),
    ('notify "mailto:a@example.org%2";', "notify command: mailto URI: invalid % encoding"),
    ('notify "mailto:a%23example.org";', "notify command: mailto URI: invalid recipient 'a#example.org': "
     "invalid or lonely local part 'a#example.org' (expecting '@')"),
    ('notify :from "a#example.org" "mailto:b@example.org";',
     "notify command: specified :from address 'a#example.org' is invalid for the mailto method"),
    ('notify :options "" "mailto:b@example.org";', "notify command: empty option specified"),
    ('notify :options "_x=1" "mailto:b@example.org";',
     "notify command: invalid option name specified in option '_x=1'"),
    ('notify :importance "4" "mailto:b@example.org";', "invalid :importance value for notify command: 4"),
    ('notify :importance 2 "mailto:b@example.org";',
     "the :importance tag for the notify command requires a string parameter, but a number was found"),
])
def test_compile_errors(run_tamis, tmp_workdir, stmt, error):
    r = listing(run_tamis, tmp_workdir, 'require "enotify";\n' + stmt + "\n")
    assert r.returncode != 0
    assert error in r.stderr


def test_options_are_accepted_but_unused(run_tamis, tmp_workdir):
    r = listing(run_tamis, tmp_workdir, 'require "enotify";\nnotify :options "a.b-c=x y" "mailto:b@example.org";\n')
    assert r.returncode == 0
    assert "method 'mailto' accepts no options" in r.stderr


def test_runtime_uri_errors(run_tamis, tmp_workdir):
    r = listing(run_tamis, tmp_workdir,
                'require ["enotify", "variables"];\nset "u" "xmpp:a@example.org";\nnotify "${u}";\n')
    assert r.returncode == 1 and r.stdout == ""
    assert "invalid notify method 'xmpp'" in r.stderr
    r = listing(run_tamis, tmp_workdir,
                'require ["enotify", "variables"];\nset "u" "mailto:a@example.org%2cx";\nnotify "${u}";\n')
    assert r.returncode == 1
    assert "mailto URI: invalid recipient 'x'" in r.stderr


# ---- tests ----

@pytest.mark.parametrize("uris,valid", [
    ('"mailto:a@example.org"', True),
    ('["mailto:a@example.org", "mailto:?to=b@example.org"]', True),
    ('["mailto:a@example.org", "tel:+14085551212"]', False),
    ('"mailto:a@example.org?subject=%0A"', False),
    ('"mailto"', False),
])
def test_valid_notify_method(run_tamis, tmp_workdir, uris, valid):
    r = listing(run_tamis, tmp_workdir,
                f'require ["enotify", "fileinto"];\nif valid_notify_method {uris} {{ fileinto "valid"; }}\n')
    assert r.returncode == 0, r
    assert ("folder: valid" in r.stdout) == valid
    assert r.stderr.count("error") == 0


def test_notify_method_capability(run_tamis, tmp_workdir):
    r = listing(run_tamis, tmp_workdir,
                'require ["enotify", "fileinto"];\n'
                'if notify_method_capability "mailto:a@example.org" "Online" "maybe" { fileinto "a"; }\n'
                'if notify_method_capability "mailto:a@example.org" "online" "yes" { fileinto "b"; }\n'
                'if notify_method_capability :comparator "i;octet" "mailto:a@example.org" "online" "MAYBE" '
                '{ fileinto "c"; }\n'
                'if notify_method_capability :matches "mailto:a@example.org" "online" "m*" { fileinto "d"; }\n'
                'if notify_method_capability "mailto:a@example.org" "other" "maybe" { fileinto "e"; }\n')
    assert r.returncode == 0, r
    assert re.findall(r"folder: (\S+)\n", r.stdout) == ["a", "d"]


# ---- the notification ----

def test_notification_message(run_tamis, tmp_workdir):
    r, sent, env_from = execute(run_tamis, tmp_workdir,
                                'require "enotify";\n'
                                'notify :importance "3" "mailto:alm@example.com?cc=bob@example.com&X-Tag=1";\n')
    assert len(sent) == 1
    rcpts, m = sent[0]
    assert rcpts == ["alm@example.com", "bob@example.com"]
    assert env_from[0].startswith("postmaster@")
    assert m["Auto-Submitted"] == f'auto-notified; owner-email="{ME}"'
    assert m["Precedence"] == "bulk"
    assert m["X-Priority"] == "5 (Lowest)" and m["Importance"] == "Low"
    assert m["To"] == "alm@example.com" and m["Cc"] == "bob@example.com"
    assert m["Subject"] == "Notification: Frop!"
    assert m["X-Tag"] == "1"
    assert m["X-Sieve"]
    assert m.get_payload().strip() == "Notification of new message."
    assert "sent mail notification to <alm@example.com>, <bob@example.com>" in r.stderr


def test_notification_from_and_envelope(run_tamis, tmp_workdir):
    script = 'require "enotify";\nnotify :from "Nico <nico@frop.example.org>" :message "Hello" "mailto:a@example.com";\n'
    _, sent, env_from = execute(run_tamis, tmp_workdir, script)
    assert env_from == ["nico@frop.example.org"]
    assert sent[0][1]["From"] == "Nico <nico@frop.example.org>"
    assert sent[0][1]["Subject"] == "Hello"
    for setting, expect in [("sender", SENDER), ("recipient", ME), ("<bounce@example.net>", "bounce@example.net")]:
        _, _, env_from = execute(run_tamis, tmp_workdir, script, "-o",
                                 f"sieve_notify_mailto_envelope_from={setting}")
        assert env_from == [expect]
    # The null sender stays null (no notification loops through bounces).
    _, sent, env_from = execute(run_tamis, tmp_workdir, script, sender="<>")
    assert env_from == [""]


def test_no_notification_for_automatic_mail(run_tamis, tmp_workdir):
    message = MSG.replace("Subject:", "Auto-Submitted: auto-replied\r\nSubject:")
    r, sent, _ = execute(run_tamis, tmp_workdir, 'require "enotify";\nnotify "mailto:a@example.com";\n',
                         message=message)
    assert sent == []
    assert "not sending notification for auto-submitted message" in r.stderr


def test_utf8_body_and_subject(run_tamis, tmp_workdir):
    _, sent, _ = execute(run_tamis, tmp_workdir,
                         'require "enotify";\nnotify :message "Grüße ☃" "mailto:a@example.com?body=%C3%A9t%C3%A9";\n')
    m = sent[0][1]
    assert str(email.header.make_header(email.header.decode_header(m["Subject"]))) == "Grüße ☃"
    assert m["Content-Type"] == "text/plain; charset=utf-8"
    assert m.get_payload().strip() == "été"
