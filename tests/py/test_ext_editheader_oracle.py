"""A small differential test for the extensions that the generator in
tests/difftest does not cover: editheader, spamtest/spamtestplus/virustest,
vnd.dovecot.report and mboxmetadata/servermetadata.  Each case runs
through Debian's sieve-test (Pigeonhole 0.5.19, as nobody) and `tamis
test` with the same extensions and settings; stdout (the action listing)
must be the same byte for byte, and both must accept or reject the script.
Skipped when sieve-test is not installed.
"""
import os
import pathlib
import shutil
import subprocess
import tempfile

import pytest

SIEVE_TEST = os.environ.get("SIEVE_TEST", "/usr/bin/sieve-test")

MSG = ("Received: from mx.example.org by mail.example.net; Mon, 1 Jan 2024 10:00:00 +0000\r\n"
       "X-Spam-Status: Yes, score=6.3 required=5.0 tests=FOO\r\n"
       "X-Spam-Level: ******\r\n"
       "X-Virus: infected\r\n"
       "From: Alice <alice@example.org>\r\n"
       "X-Tag: one\r\n"
       "To: bob@example.net\r\n"
       "X-Tag: =?utf-8?q?tw=C3=B6?=\r\n"
       "Subject: hello there\r\n"
       "X-Tag:   three  \r\n"
       "X-Fold: first\r\n second\r\n"
       "\r\n"
       "Body text.\r\n")

EH = ["editheader", "fileinto", "variables", "relational", "comparator-i;ascii-numeric"]

CASES = {
    "eh-add-visible": (EH, """addheader "X-New" "value";
if header :is "x-new" "value" { fileinto "seen"; }
if header :count "eq" :comparator "i;ascii-numeric" "x-new" "1" { fileinto "one"; }
addheader :last "X-New" "second";
if header :count "eq" :comparator "i;ascii-numeric" "x-new" "2" { fileinto "two"; }
if header :matches "x-new" "*" { fileinto "first-${1}"; }"""),
    "eh-delete-index": (EH, """deleteheader :index 2 "x-tag";
if header :is "x-tag" "twö" { fileinto "still-two"; }
deleteheader :last :index 1 "x-tag";
if header :is "x-tag" "three" { fileinto "still-three"; }
if header :is "x-tag" "one" { fileinto "one-left"; }"""),
    "eh-delete-match": (EH, """deleteheader :contains "x-tag" ["wö", "hre"];
if header :count "eq" :comparator "i;ascii-numeric" "x-tag" "1" { fileinto "one-left"; }
deleteheader :matches "x-fold" "first*second";
if not exists "x-fold" { fileinto "fold-gone"; }
deleteheader :is "x-tag" "ONE";
if not exists "x-tag" { fileinto "all-gone"; }"""),
    "eh-protected": (EH, """deleteheader "received";
addheader "X-Sieve-Redirected-From" "x@example.org";
if exists "received" { fileinto "received-kept"; }
if not exists "x-sieve-redirected-from" { fileinto "not-added"; }
deleteheader "subject";
if not exists "subject" { fileinto "subject-gone"; }"""),
    "eh-size": (EH, """addheader "X-Pad" "0123456789";
if size :over 400 { fileinto "over"; }
deleteheader "x-tag";
if size :under 400 { fileinto "under"; }"""),
    "eh-variables": (EH, """if header :matches "subject" "hello *" {
  deleteheader "subject";
  addheader :last "Subject" "[${1}] hello";
}
if header :is "subject" "[there] hello" { fileinto "rewritten"; }
keep;"""),
    "eh-edge": (EH, """addheader "" "empty name";
if exists "" { fileinto "empty-exists"; }
deleteheader :index 1 :matches "x-tag" "*";
if header :is "x-tag" "twö" { fileinto "second-remains"; }
deleteheader :index 2 :last :is "x-tag" "one";
if exists "x-tag" { fileinto "still"; }
set "v" "";
addheader "X-Empty" "${v}";
if header :is "x-empty" "" { fileinto "empty-value"; }
deleteheader "X-EMPTY";
if not exists "x-empty" { fileinto "empty-gone"; }
deleteheader :index 5 "from";
deleteheader :last :index 1 "from";
if not exists "from" { fileinto "from-gone"; }"""),
    "eh-errors": (EH, """addheader "Bad Name" "x";
deleteheader :last "x";"""),
    "eh-runtime-error": (EH, """set "n" "bad name";
fileinto "before";
addheader "${n}" "x";"""),
    "spam-score": (["spamtest", "fileinto", "variables"],
                   """if spamtest :matches "*" { fileinto "s${1}"; }""",
                   {"sieve_spamtest_status_header": "X-Spam-Status: [a-zA-Z]+, score=(-?[0-9]+.[0-9]+)",
                    "sieve_spamtest_max_header": "X-Spam-Status: [a-zA-Z]+, score=-?[0-9]+.[0-9]+ required=([0-9]+.[0-9]+)"}),
    "spam-strlen-percent": (["spamtestplus", "fileinto", "variables"],
                            """if spamtest :percent :matches "*" { fileinto "p${1}"; }
if spamtest :matches "*" { fileinto "s${1}"; }""",
                            {"sieve_spamtest_status_header": "X-Spam-Level",
                             "sieve_spamtest_status_type": "strlen", "sieve_spamtest_max_value": "8"}),
    "spam-unconfigured": (["spamtest", "virustest", "fileinto", "variables"],
                          """if spamtest :is "0" { fileinto "spam0"; }
if virustest :is "0" { fileinto "virus0"; }"""),
    "virus-text": (["virustest", "fileinto", "variables"],
                   """if virustest :matches "*" { fileinto "v${1}"; }""",
                   {"sieve_virustest_status_header": "X-Virus", "sieve_virustest_status_type": "text",
                    "sieve_virustest_text_value1": "clean", "sieve_virustest_text_value5": "infected"}),
    "spam-errors": (["spamtest", "virustest"], """if spamtest 3 { }
if virustest :percent "3" { }
if spamtest :percent "3" { }"""),
    "report": (["vnd.dovecot.report"], """report "abuse" "This is spam." "abuse@example.com";
report :headers_only " fraud " "x" "Desk <ABUSE@EXAMPLE.com>";
report "other" "y" "<other@example.com>";"""),
    "report-long-type": (["vnd.dovecot.report"],
                         """report "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGH" "x" "a@example.com";"""),
    "report-errors": (["vnd.dovecot.report"], """report "ab/use" "x" "a@example.com";
report "abuse" "x" "nonsense";"""),
    "metadata": (["mboxmetadata", "servermetadata", "fileinto"],
                 """if metadataexists "INBOX" "/private/x" { fileinto "a"; }
if not metadata :contains "INBOX" "/shared/x" "" { fileinto "b"; }
if not servermetadataexists ["/private/x", "/bad"] { fileinto "c"; }
if servermetadata :matches "/private/y" "*" { fileinto "d"; }"""),
}

OPTIONAL_EXTS = {"editheader", "spamtest", "spamtestplus", "virustest", "vnd.dovecot.report",
                 "mboxmetadata", "servermetadata"}


def sieve_test_usable():
    return os.path.isfile(SIEVE_TEST) and shutil.which("setpriv") is not None


def run_sieve_test(d, script, msg, exts, settings):
    # A mail location nobody can use, with IMAP METADATA storage (the
    # metadata tests open INBOX and read its attributes: none are set).
    cmd = [SIEVE_TEST, "-x", exts, "-l", "maildir:%s/Maildir" % d,
           "-o", "mail_attribute_dict=file:%s/attributes" % d]
    for k, v in settings.items():
        cmd += ["-o", "plugin/%s=%s" % (k, v)]
    cmd += [str(script), str(msg)]
    if os.geteuid() == 0:
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + cmd
    env = dict(os.environ, HOME=str(d))
    p = subprocess.run(cmd, cwd=str(d), env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    return p


@pytest.mark.skipif(not sieve_test_usable(), reason="sieve-test (Pigeonhole) not installed")
@pytest.mark.parametrize("name", sorted(CASES))
def test_agrees_with_sieve_test(tamis, name):
    case = CASES[name]
    requires, body = case[0], case[1]
    settings = case[2] if len(case) > 2 else {}
    # sieve-test runs as nobody: the folder must be reachable by it (pytest's
    # own temporary folders are private to root).
    d = pathlib.Path(tempfile.mkdtemp(prefix="tamis-oracle-"))
    os.chmod(d, 0o777)
    try:
        _compare(tamis, d, name, requires, body, settings)
    finally:
        shutil.rmtree(d, ignore_errors=True)


def _compare(tamis, d, name, requires, body, settings):
    script = d / (name + ".sieve")
    script.write_text("require %s;\n%s\n" % ("[" + ", ".join('"%s"' % r for r in requires) + "]", body))
    msg = d / "m.eml"
    msg.write_text(MSG)
    for p in (script, msg):
        os.chmod(p, 0o644)
    exts = " ".join("+" + e for e in requires if e in OPTIONAL_EXTS)
    oracle = run_sieve_test(d, script, msg, exts, settings)
    args = [tamis, "test", "-x", exts]
    for k, v in settings.items():
        args += ["-o", "%s=%s" % (k, v)]
    mine = subprocess.run(args + [str(script), str(msg)], cwd=str(d), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    # sieve-test exits 89 (i_fatal) on a compile error, tamis 1.
    assert (oracle.returncode == 0) == (mine.returncode == 0), (oracle, mine)
    assert mine.stdout == oracle.stdout, (oracle.stdout.decode(), mine.stdout.decode(),
                                          oracle.stderr.decode(), mine.stderr.decode())
