"""fcc (RFC 8580): vacation and notify :fcc file a copy of the message they
sent; :create and :flags apply to that copy (with "mailbox" and
"imap4flags" required).  Checked with `tamis test -e` on a Maildir.
"""
import pathlib

MSG = ("From: alice@example.org\r\nTo: bob@example.net\r\nSubject: hello\r\n"
       "Message-ID: <m1@example.org>\r\n\r\nhi\r\n")


def run_e(run_tamis, d, body, *extra):
    d = pathlib.Path(d)
    (d / "s.sieve").write_text(body)
    (d / "m.eml").write_text(MSG)
    md = d / "Maildir"
    r = run_tamis("test", "-e", "-l", md, *extra, "s.sieve", "m.eml")
    return r, md


def files(md, box):
    base = md / ("." + box)
    return sorted(list((base / "new").glob("*")) + list((base / "cur").glob("*")))


def test_vacation_fcc_with_create_and_flags(run_tamis, tmp_workdir):
    r, md = run_e(run_tamis, tmp_workdir,
                  'require ["vacation", "fcc", "mailbox", "imap4flags"];\n'
                  'vacation :fcc "Sent" :create :flags "\\\\Seen" :addresses "bob@example.net" "I am away";\n')
    assert r.returncode == 0, r
    sent = files(md, "Sent")
    assert len(sent) == 1, r
    assert sent[0].name.endswith(":2,S")          # \Seen
    text = sent[0].read_text()
    assert "I am away" in text and "Auto-Submitted: auto-replied" in text
    assert len(list((md / "new").glob("*"))) == 1  # the implicit keep


def test_notify_fcc(run_tamis, tmp_workdir):
    r, md = run_e(run_tamis, tmp_workdir,
                  'require ["enotify", "fcc", "mailbox"];\n'
                  'notify :fcc "Sent" :create :message "new mail" "mailto:carol@example.com";\n')
    assert r.returncode == 0, r
    sent = files(md, "Sent")
    assert len(sent) == 1
    assert "carol@example.com" in sent[0].read_text()


def test_fcc_without_create_into_missing_mailbox_only_warns(run_tamis, tmp_workdir):
    r, md = run_e(run_tamis, tmp_workdir,
                  'require ["vacation", "fcc"];\n'
                  'vacation :fcc "Nope" :addresses "bob@example.net" "away";\n')
    assert r.returncode == 0, r
    assert "failed to store a copy into :fcc mailbox 'Nope'" in r.stderr
    assert "sending message from" in r.stderr   # the reply still went out


def test_no_fcc_when_nothing_was_sent(run_tamis, tmp_workdir):
    # the reply is suppressed (the message is not addressed to the
    # envelope recipient): no copy either
    r, md = run_e(run_tamis, tmp_workdir,
                  'require ["vacation", "fcc", "mailbox"];\n'
                  'vacation :fcc "Sent" :create "away";\n', "-r", "someone@example.net")
    assert "discarding vacation response" in r.stderr, r
    assert not (md / ".Sent").exists() or files(md, "Sent") == [], r


def test_fcc_tag_errors(run_tamis, tmp_workdir):
    d = pathlib.Path(tmp_workdir)
    (d / "s.sieve").write_text(
        'require ["vacation", "fcc", "enotify"];\n'
        'vacation :create "x";\n'
        'vacation :fcc "A" :flags "\\\\Seen" "x";\n'
        'notify :fcc "A" :create "mailto:a@example.com";\n')
    (d / "m.eml").write_text(MSG)
    r = run_tamis("test", "s.sieve", "m.eml")
    assert r.returncode == 1
    errs = [l for l in r.stderr.splitlines() if ": error: " in l]
    assert errs == [
        "s:2:10: error: the :create tag of the vacation command requires the :fcc tag.",
        "s:3:19: error: the :flags tag for :fcc requires the imap4flags extension to be active.",
        "s:4:17: error: the :create tag for :fcc requires the mailbox extension to be active.",
        "s: error: validation failed.",
    ], r


# ---- RFC 8580 (https://www.rfc-editor.org/rfc/rfc8580) examples ----

def test_rfc8580_notify_example(run_tamis, tmp_workdir):
    # RFC 8580 section 3.3 example, as written there
    r, md = run_e(run_tamis, tmp_workdir,
                  'require ["enotify", "fcc", "mailbox"];\n'
                  'notify :fcc "INBOX.Sent"\n'
                  '       :message "You got mail!"\n'
                  '       "mailto:ken@example.com";\n')
    assert r.returncode == 0, r
    # no :create: a missing INBOX.Sent only warns, the notification goes out
    assert "failed to store a copy into :fcc mailbox 'INBOX.Sent'" in r.stderr, r


def test_rfc8580_vacation_example_with_tags_first(run_tamis, tmp_workdir):
    # RFC 8580 section 3.2 / 3.5 examples; the RFC prints the tags after
    # the reason, which RFC 5228's grammar does not allow, so the tags
    # come first here.  :specialuse is left out (see test below).
    r, md = run_e(run_tamis, tmp_workdir,
                  'require ["vacation", "fcc", "mailbox", "imap4flags"];\n'
                  'vacation :days 7\n'
                  '         :from "hemingway@example.com"\n'
                  '         :fcc "Sent" :create :flags ["\\\\Seen"]\n'
                  '         :addresses "bob@example.net" "Gone Fishin\'";\n')
    assert r.returncode == 0, r
    sent = files(md, "Sent")
    assert len(sent) == 1 and sent[0].name.endswith(":2,S"), r
    assert "Gone Fishin'" in sent[0].read_text()


def test_rfc8580_fcc_notify_method_capability(run_tamis, tmp_workdir):
    # RFC 8580 section 3.3.1: notification-capability "fcc" is "yes" for
    # methods whose messages can be filed (mailto here); the URI needs
    # only a scheme.
    d = pathlib.Path(tmp_workdir)
    (d / "s.sieve").write_text(
        'require ["enotify", "fcc", "fileinto"];\n'
        'if notify_method_capability "mailto:" "Fcc" "yes" { fileinto "yes"; }\n'
        'if notify_method_capability "mailto:ken@example.com" "fcc" "no" { fileinto "no"; }\n')
    (d / "m.eml").write_text(MSG)
    r = run_tamis("test", "s.sieve", "m.eml")
    assert r.returncode == 0, r
    out = r.stdout.split("Implicit keep:")[0]
    assert "folder: yes" in out and "folder: no" not in out, r


def test_fcc_on_other_actions_is_an_error(run_tamis, tmp_workdir):
    # RFC 8580 section 3.4: :fcc with an action that generates no message
    d = pathlib.Path(tmp_workdir)
    (d / "s.sieve").write_text('require ["fileinto", "fcc"];\nfileinto :fcc "Sent" "x";\n')
    (d / "m.eml").write_text(MSG)
    r = run_tamis("test", "s.sieve", "m.eml")
    assert r.returncode == 1, r
