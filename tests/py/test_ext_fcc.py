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


# ---- :specialuse with :fcc (RFC 8580 section 3, RFC 8579 section 4) ----
# `tamis test` takes special-use attributes from sieve_special_use_mailboxes
# ("\Sent=Name ..."); with -e only a listed mailbox that exists has one.

SENT_IS_MINE = "sieve_special_use_mailboxes=\\Sent=Sent.Mine \\Junk=Spam"
VAC_SU = ('require ["vacation", "fcc", "special-use", "mailbox", "imap4flags"];\n'
          'vacation :fcc "Sent" :specialuse "\\\\Sent" :create :flags ["\\\\Seen", "$Auto"]\n'
          '         :addresses "bob@example.net" "I am away";\n')


def mkbox(md, box):
    for sub in ("new", "cur", "tmp"):
        (md / ("." + box) / sub).mkdir(parents=True, exist_ok=True)


def test_fcc_specialuse_files_into_the_attribute_mailbox(run_tamis, tmp_workdir):
    md = tmp_workdir / "Maildir"
    mkbox(md, "Sent.Mine")
    r, md = run_e(run_tamis, tmp_workdir, VAC_SU, "-x", "+special-use", "-o", SENT_IS_MINE)
    assert r.returncode == 0, r
    copies = files(md, "Sent.Mine")
    assert len(copies) == 1, r
    # \Seen and the keyword $Auto (first custom keyword: 'a')
    assert copies[0].name.endswith(":2,Sa"), copies
    assert "I am away" in copies[0].read_text()
    # the attribute mailbox exists: the named one is neither used nor created
    assert not (md / ".Sent").exists(), r


def test_fcc_specialuse_without_the_attribute_falls_back_to_the_name(run_tamis, tmp_workdir):
    # \Sent is listed for Sent.Mine, which does not exist: no mailbox has
    # the attribute, so the :fcc name is used and :create makes it
    r, md = run_e(run_tamis, tmp_workdir, VAC_SU, "-x", "+special-use", "-o", SENT_IS_MINE)
    assert r.returncode == 0, r
    copies = files(md, "Sent")
    assert len(copies) == 1 and copies[0].name.endswith(":2,Sa"), r
    assert not (md / ".Sent.Mine").exists()


def test_fcc_specialuse_fallback_without_create_only_warns(run_tamis, tmp_workdir):
    r, md = run_e(run_tamis, tmp_workdir,
                  'require ["vacation", "fcc", "special-use"];\n'
                  'vacation :fcc "Sent" :specialuse "\\\\Sent" :addresses "bob@example.net" "away";\n',
                  "-x", "+special-use")
    assert r.returncode == 0, r
    assert "failed to store a copy into :fcc mailbox 'Sent'" in r.stderr, r
    assert "sending message from" in r.stderr
    assert len(list((md / "new").glob("*"))) == 1   # the implicit keep


def test_notify_fcc_specialuse(run_tamis, tmp_workdir):
    md = tmp_workdir / "Maildir"
    mkbox(md, "Sent.Mine")
    r, md = run_e(run_tamis, tmp_workdir,
                  'require ["enotify", "fcc", "special-use"];\n'
                  'notify :fcc "Elsewhere" :specialuse "\\\\sent" :message "new mail" "mailto:carol@example.com";\n',
                  "-x", "+special-use", "-o", SENT_IS_MINE)
    assert r.returncode == 0, r
    copies = files(md, "Sent.Mine")    # attributes compare case-insensitively
    assert len(copies) == 1 and "carol@example.com" in copies[0].read_text(), r


def test_fcc_specialuse_from_a_variable(run_tamis, tmp_workdir):
    md = tmp_workdir / "Maildir"
    mkbox(md, "Spam")
    r, md = run_e(run_tamis, tmp_workdir,
                  'require ["vacation", "fcc", "special-use", "variables"];\n'
                  'set "use" "\\\\Junk";\n'
                  'vacation :fcc "Sent" :specialuse "${use}" :addresses "bob@example.net" "away";\n',
                  "-x", "+special-use", "-o", SENT_IS_MINE)
    assert r.returncode == 0, r
    assert len(files(md, "Spam")) == 1, r


def test_fcc_specialuse_invalid_flag_at_run_time_is_an_error(run_tamis, tmp_workdir):
    d = pathlib.Path(tmp_workdir)
    (d / "s.sieve").write_text(
        'require ["vacation", "fcc", "special-use", "variables"];\n'
        'set "use" "Sent";\n'
        'vacation :fcc "Sent" :specialuse "${use}" :addresses "bob@example.net" "away";\n')
    (d / "m.eml").write_text(MSG)
    r = run_tamis("test", "-x", "+special-use", "s.sieve", "m.eml")
    assert "specialuse tag: invalid special-use flag 'Sent' specified" in r.stderr, r
    assert "send vacation message" not in r.stdout


def test_fcc_option_errors(run_tamis, tmp_workdir):
    d = pathlib.Path(tmp_workdir)
    (d / "s.sieve").write_text(
        'require ["vacation", "fcc", "enotify", "mailboxid"];\n'
        'vacation :specialuse "\\\\Sent" "x";\n'
        'vacation :fcc "A" :specialuse "\\\\Sent" "x";\n'
        'notify :fcc "A" :create :flags "x" "mailto:a@example.com";\n')
    (d / "m.eml").write_text(MSG)
    r = run_tamis("test", "-x", "+mailboxid", "s.sieve", "m.eml")
    assert r.returncode == 1
    errs = [l for l in r.stderr.splitlines() if ": error: " in l]
    assert errs == [
        "s:2:10: error: the :specialuse tag of the vacation command requires the :fcc tag.",
        "s:3:19: error: the :specialuse tag for :fcc requires the special-use extension to be active.",
        "s:4:17: error: the :create tag for :fcc requires the mailbox extension to be active.",
        "s:4:25: error: the :flags tag for :fcc requires the imap4flags extension to be active.",
        "s: error: validation failed.",
    ], r


def test_fcc_specialuse_syntax_errors(run_tamis, tmp_workdir):
    d = pathlib.Path(tmp_workdir)
    (d / "s.sieve").write_text(
        'require ["vacation", "fcc", "special-use", "mailboxid"];\n'
        'vacation :fcc "A" :specialuse "Sent" "x";\n'
        'vacation :fcc "A" :mailboxid "F1" :specialuse "\\\\Sent" "y";\n')
    (d / "m.eml").write_text(MSG)
    r = run_tamis("test", "-x", "+special-use +mailboxid", "s.sieve", "m.eml")
    assert r.returncode == 1
    assert "s:2:31: error: specialuse tag: invalid special-use flag 'Sent' specified." in r.stderr, r
    # RFC 9042: :mailboxid and :specialuse both name the target another way
    assert "vacation: the :mailboxid and :specialuse tags cannot be used together" in r.stderr, r


def test_fcc_is_printed_with_its_options(run_tamis, tmp_workdir):
    d = pathlib.Path(tmp_workdir)
    (d / "s.sieve").write_text(VAC_SU)
    (d / "m.eml").write_text(MSG)
    r = run_tamis("test", "-x", "+special-use", "s.sieve", "m.eml")
    assert r.returncode == 0, r
    assert ("    => fcc     : Sent\n"
            "        + use mailbox with special-use flag `\\Sent' instead if accessible\n"
            "        + create mailbox if it does not exist\n"
            "        + add IMAP flags: \\Seen $Auto\n"
            "\nSTART MESSAGE\n") in r.stdout, r


def test_fcc_mailboxid_missing_id_creates_the_named_mailbox(run_tamis, tmp_workdir):
    # RFC 9042 section 4.1 for the copy: an id that names no mailbox
    # leaves the :fcc name, which :create makes
    r, md = run_e(run_tamis, tmp_workdir,
                  'require ["vacation", "fcc", "mailboxid", "mailbox"];\n'
                  'vacation :fcc "Sent" :mailboxid "Fnosuch" :create :addresses "bob@example.net" "away";\n',
                  "-x", "+mailboxid", "-o", "sieve_mailboxids=Fother=Other")
    assert r.returncode == 0, r
    assert len(files(md, "Sent")) == 1, r
    assert not (md / ".Other").exists()


# ---- RFC 8580 examples, as written there where RFC 5228 allows ----

def test_rfc8580_vacation_example_simple(run_tamis, tmp_workdir):
    # RFC 8580 section 3.2 (":fcc" moved before the reason, see above);
    # INBOX.Sent is the Maildir++ folder .INBOX.Sent
    md = tmp_workdir / "Maildir"
    mkbox(md, "INBOX.Sent")
    r, md = run_e(run_tamis, tmp_workdir,
                  'require ["vacation", "fcc", "mailbox", "imap4flags"];\n\n'
                  'vacation :days 7\n'
                  '         :from "hemingway@example.com"\n'
                  '         :fcc "INBOX.Sent" "Gone Fishin\'";\n',
                  "-r", "bob@example.net")
    assert r.returncode == 0, r
    copies = files(md, "INBOX.Sent")
    assert len(copies) == 1, r
    text = copies[0].read_text()
    assert "From: hemingway@example.com" in text and "Gone Fishin'" in text


def test_rfc8580_vacation_example_all_options(run_tamis, tmp_workdir):
    # the same with every fcc option RFC 8580 section 3 allows
    md = tmp_workdir / "Maildir"
    mkbox(md, "Outbox")
    r, md = run_e(run_tamis, tmp_workdir,
                  'require ["vacation", "fcc", "mailbox", "special-use", "imap4flags"];\n\n'
                  'vacation :days 7\n'
                  '         :from "hemingway@example.com"\n'
                  '         :fcc "INBOX.Sent" :specialuse "\\\\Sent" :create :flags ["\\\\Seen"]\n'
                  '         "Gone Fishin\'";\n',
                  "-r", "bob@example.net", "-x", "+special-use",
                  "-o", "sieve_special_use_mailboxes=\\Sent=Outbox")
    assert r.returncode == 0, r
    # Outbox has the \Sent attribute: the copy goes there, and
    # INBOX.Sent is not created
    copies = files(md, "Outbox")
    assert len(copies) == 1 and copies[0].name.endswith(":2,S"), r
    assert not (md / ".INBOX.Sent").exists()


def test_rfc8580_notify_example_as_written(run_tamis, tmp_workdir):
    md = tmp_workdir / "Maildir"
    mkbox(md, "INBOX.Sent")
    r, md = run_e(run_tamis, tmp_workdir,
                  'require ["enotify", "fcc"];\n\n'
                  'notify :fcc "INBOX.Sent"\n'
                  '       :message "You got mail!"\n'
                  '       "mailto:ken@example.com";\n')
    assert r.returncode == 0, r
    copies = files(md, "INBOX.Sent")
    assert len(copies) == 1 and "ken@example.com" in copies[0].read_text(), r


XMPP_EXAMPLE = ('require ["enotify", "fcc"];\n\n'
                'if notify_method_capability "xmpp:" "fcc" "yes" {\n'
                '    notify :fcc "INBOX.Sent"\n'
                '           :message "You got mail"\n'
                '           "xmpp:ken@example.com?message;subject=SIEVE";\n'
                '} else {\n'
                '    notify :fcc "INBOX.Sent"\n'
                '           :message "You got mail!"\n'
                '           "mailto:ken@example.com";\n'
                '}\n')


def test_rfc8580_notify_method_capability_example(run_tamis, tmp_workdir):
    # RFC 8580 section 3.3.1.  Without xmpp support the constant xmpp URI
    # is refused when the script is compiled, with Pigeonhole's wording
    # (sieve-test 0.5.19 refuses it the same way), so the example as
    # written does not compile; with the URI in a variable it runs and
    # takes the mailto branch.
    d = pathlib.Path(tmp_workdir)
    (d / "s.sieve").write_text(XMPP_EXAMPLE)
    r = run_tamis("compile", "s.sieve")
    assert r.returncode == 1
    assert "s:6:12: error: notify command: invalid method 'xmpp'." in r.stderr, r
    body = XMPP_EXAMPLE.replace('["enotify", "fcc"]', '["enotify", "fcc", "variables"]').replace(
        '"xmpp:ken@example.com?message;subject=SIEVE"', '"${xmpp}"').replace(
        '\n\nif', '\n\nset "xmpp" "xmpp:ken@example.com?message;subject=SIEVE";\nif')
    (d / "s.sieve").write_text(body)
    (d / "m.eml").write_text(MSG)
    r = run_tamis("test", "s.sieve", "m.eml")
    assert r.returncode == 0, r
    assert "    => subject      : You got mail!\n    => fcc          : INBOX.Sent\n" in r.stdout, r


def test_rfc8580_reject_fcc_example_is_an_error(run_tamis, tmp_workdir):
    # RFC 8580 section 3.4: reject sends no message of its own
    d = pathlib.Path(tmp_workdir)
    (d / "s.sieve").write_text(
        'require ["reject", "fcc"];\n\n'
        'if size :over 100K {\n'
        '    reject :fcc "foo" text:\n'
        'Your message is too big.  If you want to send me a big attachment,\n'
        'put it on a public web site and send me a URL.\n'
        '.\n'
        '    ;\n'
        '}\n')
    r = run_tamis("compile", "s.sieve")
    assert r.returncode == 1
    assert "unknown tagged argument ':fcc' for the reject command" in r.stderr, r


def test_fcc_copy_ignores_the_internal_flags(run_tamis, tmp_workdir):
    # only :flags flags the copy (as Cyrus files it); setflag's internal
    # variable is for the incoming message (the implicit keep)
    r, md = run_e(run_tamis, tmp_workdir,
                  'require ["vacation", "fcc", "mailbox", "imap4flags"];\n'
                  'setflag "\\\\Flagged";\n'
                  'vacation :fcc "Sent" :create :addresses "bob@example.net" "away";\n')
    assert r.returncode == 0, r
    copies = files(md, "Sent")
    assert len(copies) == 1 and ":2," not in copies[0].name, copies
    kept = list((md / "new").glob("*")) + list((md / "cur").glob("*"))
    assert len(kept) == 1 and kept[0].name.endswith(":2,F"), kept
