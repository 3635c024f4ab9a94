"""mboxmetadata and servermetadata (RFC 5490 section 4) in the testsuite,
where test_imap_metadata_set plays the IMAP server's METADATA store: the
RFC's examples, annotation-name rules, case-insensitive entry names, and
mailbox versus server annotations.
"""
import pathlib


def write(d, name, text):
    p = pathlib.Path(d) / name
    p.write_text(text)
    return p


def run_svtest(run_tamis, d, body):
    t = write(d, "t.svtest", body)
    r = run_tamis("testsuite", t)
    assert r.returncode == 0 and "FAILED" not in r.stdout, r
    assert "PASS: %d tests succeeded" % body.count('\ntest "') in r.stdout, r
    return r


def test_rfc5490_examples(run_tamis, tmp_workdir):
    run_svtest(run_tamis, tmp_workdir, r'''require "vnd.dovecot.testsuite";
require ["mboxmetadata", "servermetadata", "variables", "vacation"];
test_imap_metadata_set :mailbox "INBOX" "/private/vendor/vendor.isode/auto-replies" "on";
test_imap_metadata_set "/private/vendor/vendor.isode/notification-uri" "mailto:me@example.org";
test "RFC 5490 4.3: metadata" {
  if not metadata :is "INBOX" "/private/vendor/vendor.isode/auto-replies" "on" {
    test_fail "mailbox annotation not seen";
  }
  vacation "I'm away.";
  if not test_result_action "vacation" { test_fail "no vacation"; }
}
test "RFC 5490 4.4: servermetadata" {
  if servermetadata :matches "/private/vendor/vendor.isode/notification-uri" "*" {
    set "notif_uri" "${0}";
  }
  if not string "${notif_uri}" "mailto:me@example.org" { test_fail "wrong uri '${notif_uri}'"; }
}
''')


def test_mailbox_and_server_annotations_are_separate(run_tamis, tmp_workdir):
    run_svtest(run_tamis, tmp_workdir, r'''require "vnd.dovecot.testsuite";
require ["mboxmetadata", "servermetadata"];
test_imap_metadata_set :mailbox "INBOX" "/private/a" "mailbox value";
test_imap_metadata_set "/shared/b" "server value";
test "Separate namespaces" {
  if not metadataexists "INBOX" "/private/a" { test_fail "mailbox annotation"; }
  if metadataexists "INBOX" "/shared/b" { test_fail "server annotation seen on the mailbox"; }
  if not servermetadataexists "/shared/b" { test_fail "server annotation"; }
  if servermetadataexists "/private/a" { test_fail "mailbox annotation seen on the server"; }
  if metadataexists "Other" "/private/a" { test_fail "annotation of another mailbox"; }
}
test "Entry names are case-insensitive; INBOX too" {
  if not metadata :is "inbox" "/PRIVATE/A" "mailbox value" { test_fail "case"; }
}
test "Match types and comparators" {
  if not metadata :contains "INBOX" "/private/a" "box" { test_fail ":contains"; }
  if metadata :is :comparator "i;octet" "INBOX" "/private/a" "MAILBOX VALUE" { test_fail "i;octet"; }
  if not metadata :is "INBOX" "/private/a" "MAILBOX VALUE" { test_fail "ascii-casemap default"; }
  if not servermetadata :matches "/shared/b" "server*" { test_fail ":matches"; }
}
test "Absent annotation never matches, not even empty" {
  if metadata :contains "INBOX" "/private/none" "" { test_fail "absent matched"; }
  if metadata :is "INBOX" "/private/none" "" { test_fail "absent is not empty"; }
}
test "metadataexists needs every name" {
  if metadataexists "INBOX" ["/private/a", "/private/none"] { test_fail "all must exist"; }
}
''')


def test_invalid_annotation_names(run_tamis, tmp_workdir):
    d = tmp_workdir
    write(d, "warn.sieve", '''require ["mboxmetadata", "servermetadata"];
if metadata "INBOX" "frop" "x" { keep; }
if servermetadataexists ["/private/ok", "/other/x"] { keep; }
if metadataexists "INBOX" "/private//x" { keep; }
''')
    run_svtest(run_tamis, d, r'''require "vnd.dovecot.testsuite";
require ["mboxmetadata", "servermetadata", "variables"];
test_imap_metadata_set :mailbox "INBOX" "/private/ok" "1";
test "Warnings only" {
  if not test_script_compile "warn.sieve" { test_fail "invalid names must only warn"; }
}
test "Invalid names are false at run time" {
  set "bad" "/private/ok/";
  if metadataexists "INBOX" "${bad}" { test_fail "trailing slash accepted"; }
  set "bad" "/private/*";
  if metadata :matches "INBOX" "${bad}" "*" { test_fail "wildcard accepted"; }
  set "bad" "private/ok";
  if metadataexists "INBOX" "${bad}" { test_fail "missing slash accepted"; }
}
''')


def test_compile_errors(run_tamis, tmp_workdir):
    s = write(tmp_workdir, "s.sieve", '''require ["mboxmetadata", "servermetadata"];
metadata "INBOX" "/private/a" "x";
if metadata "/private/frop" "friep" {}
if metadataexists 23 "/private/frop" {}
if servermetadataexists "INBOX" "/private/frop" {}
''')
    m = write(tmp_workdir, "m.eml", "Subject: x\r\n\r\nb\r\n")
    r = run_tamis("test", "-x", "+mboxmetadata +servermetadata", s, m)
    assert r.returncode != 0
    assert "attempted to use test 'metadata' as command" in r.stderr
    assert "the metadata test requires 3 positional argument(s), but 2 is/are specified" in r.stderr
    assert "the metadataexists test expects a string as argument 1 (mailbox), but a number was found" in r.stderr
    assert "the servermetadataexists test requires 1 positional argument(s), but 2 is/are specified" in r.stderr


def test_without_a_metadata_store_nothing_exists(run_tamis, tmp_workdir):
    # `tamis test` has no METADATA store: every lookup is "not set".
    s = write(tmp_workdir, "s.sieve", '''require ["mboxmetadata", "servermetadata", "fileinto"];
if metadataexists "INBOX" "/private/x" { fileinto "yes"; }
if not servermetadata :contains "/shared/x" "" { fileinto "no-value"; }
''')
    m = write(tmp_workdir, "m.eml", "Subject: x\r\n\r\nb\r\n")
    r = run_tamis("test", "-x", "+mboxmetadata +servermetadata", s, m)
    assert r.returncode == 0, r
    assert " * store message in folder: no-value\n" in r.stdout and "yes" not in r.stdout
