"""Regression tests for what fuzz_message found (fuzz/README.md, "Findings"):
each replays a reproducer kept in fuzz/corpus/message/regress-*.eml through
`tamis test` and checks what the fix guarantees, where the fuzzer's host
checked it: the message stored after editheader is the one the run's
header index describes, and a rejection never carries the envelope path's
raw text into its header.
"""
import pathlib

import pytest
from conftest import make_maildir

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "fuzz" / "corpus" / "message"


def reproducer(name):
    """The message of a reproducer and its envelope sender (the
    "MAIL FROM:" line fuzz_message reads in front of the message)."""
    data = (CORPUS / name).read_bytes()
    sender = None
    if data.startswith(b"MAIL FROM:"):
        line, data = data.split(b"\n", 1)
        sender = line[len(b"MAIL FROM:"):].decode("latin-1")
    return data, sender


def run(run_tamis, d, script, msg, execute=False, extra=()):
    s = pathlib.Path(d) / "s.sieve"
    s.write_text(script)
    m = pathlib.Path(d) / "m.eml"
    m.write_bytes(msg)
    args = ["test", "-x", "+editheader"] + list(extra)
    if execute:
        md = make_maildir(pathlib.Path(d) / "Maildir")
        args += ["-e", "-l", md]
    return run_tamis(*(args + [s, m]))


def stored(d):
    base = pathlib.Path(d) / "Maildir"
    files = sorted(list((base / "new").glob("*")) + list((base / "cur").glob("*")))
    return [f.read_bytes() for f in files]


# addheader :last on a header whose last byte is a bare CR.
#  - "Subject: x\r" without LF: the CR already ends the value, an LF
#    completes the line break (it used to get "\r\n": "x\r\r\n").
#  - An LF message whose last line is a lone CR: an LF alone would make
#    that line the end of the header and put the new field in the body.
@pytest.mark.parametrize("name, want", [
    ("regress-editheader-cr-at-end.eml", b"Subject: x\r\nX-A: 1\r\n"),
    ("regress-editheader-lone-cr.eml", b"Subject: x\n\r\r\nX-A: 1\n"),
])
def test_addheader_last_after_a_final_bare_cr(run_tamis, tmp_workdir, name, want):
    msg, _ = reproducer(name)
    r = run(run_tamis, tmp_workdir, 'require "editheader";\naddheader :last "X-A" "1";\n',
            msg, execute=True)
    assert r.returncode == 0, r
    assert stored(tmp_workdir) == [want], r


def test_addheader_on_top_of_a_line_starting_with_a_blank(run_tamis, tmp_workdir):
    # The first line " ro: 1" becomes a continuation of the field added on
    # top; later tests see the message as it will be delivered.
    msg, _ = reproducer("regress-editheader-leading-blank.eml")
    script = ('require ["editheader", "fileinto"];\naddheader "X-A" "1";\n'
              'if header :is "x-a" "1 ro: 1" { fileinto "merged"; }\n'
              'if header :is "subject" "s" { fileinto "subject"; }\n')
    r = run(run_tamis, tmp_workdir, script, msg)
    assert r.returncode == 0, r
    assert "store message in folder: merged" in r.stdout, r
    assert "store message in folder: subject" in r.stdout, r


def test_reject_to_an_envelope_sender_that_does_not_parse(run_tamis, tmp_workdir):
    msg, sender = reproducer("regress-reject-sender-cr.eml")
    assert "\r" in sender
    r = run(run_tamis, tmp_workdir, 'require "reject";\nreject "no";\n', msg,
            execute=True, extra=["-f", sender, "-r", "bob@example.com"])
    assert r.returncode == 0, r
    # No rejection: the path is not an address to write into one.
    assert "START MESSAGE" not in r.stdout, r
    # A well-formed sender in angle brackets still gets the rejection.
    r = run(run_tamis, tmp_workdir, 'require "reject";\nreject "no";\n', msg,
            execute=True, extra=["-f", "<a@example.org>", "-r", "bob@example.com"])
    assert "To: <a@example.org>\r\n" in r.stdout, r


def test_mailto_with_an_empty_first_recipient(run_tamis, tmp_workdir):
    # From ",@x" URL-encoded is "%2C%40x": the recipient before the comma
    # is empty.  It is invalid; the parser used to get it as a NULL
    # pointer and compute NULL + 0, which `make asan` (UBSan) refuses.
    msg, _ = reproducer("regress-notify-empty-recipient.eml")
    script = ('require ["enotify", "variables", "fileinto"];\n'
              'if header :matches "from" "*" { set :encodeurl "ef" "${1}"; }\n'
              'if valid_notify_method "mailto:${ef}" { fileinto "valid"; }\n'
              'else { fileinto "invalid"; }\n')
    r = run(run_tamis, tmp_workdir, script, msg)
    assert r.returncode == 0, r
    assert "store message in folder: invalid" in r.stdout, r
