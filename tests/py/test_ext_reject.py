"""The reject and ereject extensions (RFC 5429) through `tamis test` and
`tamis test -e`: the listing, the conflicts and duplicates Pigeonhole
refuses (with its wording), and the rejection message: an MDN (RFC 3798)
from the postmaster to the envelope sender, with the null reverse path,
never sent to the null sender.
"""
import email
import email.policy
import pathlib
import re

import pytest

SENDER = "stephan@example.org"
RCPT = "nico@frop.example.org"
MSG = (f"From: Stephan <{SENDER}>\r\nTo: {RCPT}\r\nSubject: Frop!\r\n"
       "Message-ID: <frop1@example.org>\r\nContent-Type: text/plain; charset=us-ascii\r\n"
       "\r\nFrop!\r\n")


def write(d, name, text):
    p = pathlib.Path(d) / name
    p.write_text(text)
    return p


def run(run_tamis, d, script, *opts):
    return run_tamis("test", *opts, write(d, "s.sieve", script), write(d, "m.eml", MSG))


def sent(r):
    return [(m.group(1), m.group(2)) for m in
            re.finditer(r"RECIPIENT: (.*)\nSTART MESSAGE:\n(.*?)END MESSAGE", r.stdout, re.S)]


def test_listing(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir, 'require "reject";\nreject "I don\'t want your mail\nat all";\n')
    assert r.returncode == 0, r
    assert r.stdout == ("\nPerformed actions:\n\n"
                        # the line break is CRLF in a Sieve string: two '?'
                        " * reject message with reason: I don't want your mail??at all\n"
                        "\nImplicit keep:\n\n  (none)\n\n")


def test_long_reason_is_cut_in_the_listing(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir, 'require "reject";\nreject "' + "x" * 200 + '";\n')
    assert r.returncode == 0, r
    assert " * reject message with reason: " + "x" * 125 + "...\n" in r.stdout


@pytest.mark.parametrize("script,message", [
    ('reject "a";\nkeep;\n',
     "reject/ereject action conflicts with other action: the store action (s: line 3) tries to deliver the message"),
    ('keep;\nreject "a";\n',
     "reject/ereject action conflicts with other action: the store action (s: line 2) tries to deliver the message"),
    ('reject "a";\nfileinto "X";\n', "the store action (s: line 3) tries to deliver the message"),
    ('redirect "a@b.c";\nreject "a";\n', "the redirect action (s: line 2) tries to deliver the message"),
    ('reject "a";\nreject "b";\n',
     "duplicate reject/ereject action not allowed (previously triggered one was here: s: line 2)"),
    ('vacation "away";\nreject "a";\n',
     "reject/ereject action conflicts with other action: the vacation action (s: line 2) also sends a response to the sender"),
])
def test_conflicts_fail_the_script(run_tamis, tmp_workdir, script, message):
    r = run(run_tamis, tmp_workdir, 'require ["reject", "fileinto", "vacation"];\n' + script)
    assert r.returncode == 1, r
    assert message in r.stderr, r
    assert "final result: failed" in r.stderr


def test_reject_and_discard_combine(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir, 'require "reject";\nreject "a";\ndiscard;\n')
    assert r.returncode == 0, r
    assert " * reject message with reason: a\n * discard\n" in r.stdout


def test_rejection_message(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir, 'require "reject";\nreject "Go away.\nReally.";\n',
            "-e", "-l", tmp_workdir / "Maildir", "-f", SENDER, "-r", RCPT)
    assert r.returncode == 0, r
    out = sent(r)
    assert len(out) == 1
    rcpt, text = out[0]
    assert rcpt == SENDER
    assert "sending message from <>" in r.stderr       # null reverse path
    assert "\r\n" in text and re.search(r"[^\r]\n", text) is None   # CRLF throughout
    m = email.message_from_string(text, policy=email.policy.compat32)
    assert m["To"] == f"<{SENDER}>"
    assert "postmaster" in m["From"].lower()
    assert m["Subject"] == "Automatically rejected mail"
    assert m["Auto-Submitted"] == "auto-replied (rejected)"
    assert m["Message-ID"] and m["Date"]
    assert m.get_content_type() == "multipart/report"
    assert m.get_param("report-type") == "disposition-notification"
    parts = m.get_payload()
    assert [p.get_content_type() for p in parts] == [
        "text/plain", "message/disposition-notification", "message/rfc822"]
    human = parts[0].get_payload()
    assert f"Your message to <{RCPT}> was automatically rejected:" in human
    assert "Go away.\r\nReally." in human
    mdn = parts[1].get_payload()
    mdn = mdn if isinstance(mdn, str) else "".join(str(x) for x in mdn)
    assert f"Final-Recipient: rfc822; {RCPT}" in mdn
    assert "Original-Message-ID: <frop1@example.org>" in mdn
    assert "Disposition: automatic-action/MDN-sent-automatically; deleted" in mdn
    # the refused message's header, without its body and Content-Type
    assert "Subject: Frop!" in text and "Message-ID: <frop1@example.org>" in text
    assert "charset=us-ascii" not in text
    assert "Frop!\r\n--" not in text.split("message/rfc822", 1)[1]
    # nothing was stored
    assert not any((tmp_workdir / "Maildir" / "new").iterdir())


@pytest.mark.parametrize("sender", ["<>", ""])
def test_null_sender_gets_no_message(run_tamis, tmp_workdir, sender):
    r = run(run_tamis, tmp_workdir, 'require "reject";\nreject "no";\n',
            "-e", "-l", tmp_workdir / "Maildir", "-f", sender, "-r", RCPT)
    assert r.returncode == 0, r
    assert sent(r) == []
    assert not any((tmp_workdir / "Maildir" / "new").iterdir())
    assert "2:0: info: reject action: not sending reject message to <>." in r.stderr, r


def test_what_reject_did_is_reported(run_tamis, tmp_workdir):
    # As vacation's lines (and sieve-test's "reject action: rejected
    # message from <...> (reject)"), with the script line.
    md = tmp_workdir / "Maildir"
    r = run(run_tamis, tmp_workdir, 'require "reject";\nreject "no";\n',
            "-e", "-l", md, "-f", SENDER, "-r", RCPT)
    assert r.returncode == 0 and len(sent(r)) == 1, r
    assert f"2:0: info: reject action: rejected message from <{SENDER}> (reject)." in r.stderr, r
    # A sender path that does not parse gets no rejection, and says so.
    r = run(run_tamis, tmp_workdir, 'require "reject";\nreject "no";\n',
            "-e", "-l", md, "-f", "bad path@@", "-r", RCPT)
    assert r.returncode == 0 and sent(r) == [], r
    assert "warning: reject action: not sending reject message: invalid envelope sender." in r.stderr, r


def test_ereject_is_off_by_default(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir, 'require "ereject";\nereject "no";\n')
    assert r.returncode != 0, r
    assert "unknown Sieve capability `ereject'" in r.stderr


def test_ereject_when_enabled(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir, 'require ["ereject", "reject"];\nereject "no";\n', "-x", "+ereject")
    assert r.returncode == 0, r
    assert " * reject message with reason: no\n" in r.stdout
    r = run(run_tamis, tmp_workdir, 'require ["ereject", "reject"];\nereject "no";\nreject "no";\n',
            "-x", "+ereject")
    assert r.returncode == 1, r
    assert "duplicate reject/ereject action not allowed" in r.stderr


def returned_header(r):
    """The header of the message/rfc822 part of the one rejection sent."""
    (_, text), = sent(r)
    part = text.split("Content-Type: message/rfc822", 1)[1]
    return part.split("\n\n", 2)[1] if part.startswith("\n\n") else part


@pytest.mark.parametrize("edit", [
    'addheader "X-Edited" "yes";',
    'deleteheader "Subject"; addheader "Subject" "changed";',
])
def test_rejection_returns_the_message_as_received(run_tamis, tmp_workdir, edit):
    # The sender gets back what they sent, not the user's editheader
    # changes.  Dovecot's sieve-test -e (Pigeonhole 0.5.19) returns the
    # received header too: after addheader "X-Edited" its rejection's
    # message/rfc822 part has no X-Edited field.
    r = run(run_tamis, tmp_workdir, f'require ["reject", "editheader"];\n{edit}\nreject "no";\n',
            "-x", "+editheader", "-e", "-l", tmp_workdir / "Maildir", "-f", SENDER, "-r", RCPT)
    assert r.returncode == 0, r
    head = returned_header(r)
    assert "Subject: Frop!" in head, head
    assert "X-Edited" not in head and "changed" not in head, head
