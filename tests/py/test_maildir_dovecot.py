"""Dovecot opens what Tamis delivers, as it is: `tamis test -e` files mail
into a Maildir++ (folders, flags, keywords), then Dovecot's own doveadm
(a real peer, Debian's dovecot-core) lists the folders and reads the
messages and their flags.  Skipped when doveadm is not installed."""
import os
import pathlib
import shutil
import subprocess
import tempfile

import pytest

DOVEADM = shutil.which("doveadm")
pytestmark = pytest.mark.skipif(DOVEADM is None or os.geteuid() != 0,
                                reason="needs Dovecot's doveadm, run as root so it can drop to nobody")

MSG = ("From: Alice <alice@example.org>\r\nTo: bob@example.net\r\n"
       "Subject: quarterly report\r\nMessage-ID: <q1@example.org>\r\n\r\nNumbers.\r\n")


def doveadm(root, *args):
    conf = root / "dovecot.conf"
    conf.write_text(f"mail_location = maildir:{root}/Maildir\n"
                    "namespace inbox {\n  inbox = yes\n  separator = .\n}\n"
                    "log_path = /dev/stderr\nssl = no\n")
    for p in [root, *root.rglob("*")]:
        os.chmod(p, 0o777 if p.is_dir() else 0o666)
    cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
           "env", f"HOME={root}", "USER=nobody", DOVEADM, "-c", str(conf), *args]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert p.returncode == 0, p.stderr.decode()
    return p.stdout.decode()


@pytest.fixture
def home():
    # pytest's own temporary folders are private (0700); doveadm runs as
    # nobody and must be able to reach the Maildir.
    root = pathlib.Path(tempfile.mkdtemp(prefix="tamis-dovecot-"))
    os.chmod(root, 0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_dovecot_reads_folders_flags_and_keywords(run_tamis, home):
    root = home
    s = root / "s.sieve"
    s.write_text('require ["fileinto", "mailbox", "imap4flags"];\n'
                 'if header :contains "subject" "report" {\n'
                 '  fileinto :create :flags ["\\\\Seen", "\\\\Flagged", "$Label1"] "Work.Reports";\n'
                 '}\n'
                 'fileinto :create "Entwürfe";\n'
                 'keep;\n')
    m = root / "m.eml"
    m.write_text(MSG)
    r = run_tamis("test", "-e", "-l", root / "Maildir", s, m)
    assert r.returncode == 0, r

    boxes = doveadm(root, "mailbox", "list").split()
    assert set(boxes) >= {"INBOX", "Work.Reports", "Entwürfe"}, boxes

    out = doveadm(root, "fetch", "mailbox hdr.subject flags", "all")
    records = {}
    # doveadm separates records with a form feed line.
    for block in out.split("\f"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "mailbox" in fields:
            records[fields["mailbox"]] = fields
    assert records["Work.Reports"]["hdr.subject"] == "quarterly report"
    flags = set(records["Work.Reports"]["flags"].split())
    assert {"\\Seen", "\\Flagged", "$Label1"} <= flags, flags
    assert "\\Seen" not in records["INBOX"]["flags"].split()
    assert records["Entwürfe"]["hdr.subject"] == "quarterly report"

    # The message body Dovecot reads back is the one that was delivered.
    body = doveadm(root, "fetch", "text", "mailbox", "Work.Reports", "all")
    assert "Numbers." in body
