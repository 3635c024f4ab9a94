"""The subaddress extension (RFC 5233) through `tamis test`: :user and
:detail on envelope and address tests, the recipient_delimiter setting
(several characters, each one a delimiter, the first one found splitting)
and the cases RFC 5233 section 4 singles out.
"""
import pathlib

import pytest

MSG = ("From: Ken <ken+mta-filters@example.com>\r\n"
       "To: undisclosed-recipients:;\r\n"
       "Cc: postmaster@example.com, joe-a+b@example.com\r\n"
       "Subject: subaddress\r\n"
       "\r\n"
       "Hi.\r\n")

REQ = 'require ["envelope", "subaddress", "fileinto", "variables"];\n'


def write(d, name, text):
    p = pathlib.Path(d) / name
    p.write_text(text)
    return p


def performed(run_tamis, d, script, *opts, msg=MSG):
    s = write(d, "s.sieve", script)
    m = write(d, "m.eml", msg)
    r = run_tamis("test", *opts, s, m)
    assert r.returncode == 0, r
    return [l.strip() for l in r.stdout.split("Implicit keep:")[0].splitlines()
            if l.startswith(" * ")]


RFC_SCRIPT = REQ + (
    'if envelope :user "to" "postmaster" {\n'
    '  fileinto "inbox.postmaster";\n'
    '  stop;\n'
    '}\n'
    'if envelope :detail "to" "mta-filters" {\n'
    '  fileinto "inbox.ietf-mta-filters";\n'
    '}\n'
    'if envelope :detail "to" "foo" {\n'
    '  redirect "ken@example.net";\n'
    '}\n')


@pytest.mark.parametrize("rcpt,expected", [
    ("postmaster@example.com", ["store message in folder: inbox.postmaster"]),
    ("postmaster+spam@example.com", ["store message in folder: inbox.postmaster"]),
    ("ken+mta-filters@example.com", ["store message in folder: inbox.ietf-mta-filters"]),
    ("ken+foo@example.com", ["redirect message to: <ken@example.net>"]),
    ("ken@example.com", []),
])
def test_rfc5233_example(run_tamis, tmp_workdir, rcpt, expected):
    assert performed(run_tamis, tmp_workdir, RFC_SCRIPT, "-r", rcpt) == ["* " + e for e in expected]


def test_user_and_detail_values(run_tamis, tmp_workdir):
    script = REQ + (
        'if envelope :user :matches "to" "*" { fileinto "u-${1}"; }\n'
        'if envelope :detail :matches "to" "*" { fileinto "d-${1}"; }\n'
        'if address :detail :matches "from" "*" { fileinto "from-${1}"; }\n')
    assert performed(run_tamis, tmp_workdir, script, "-r", "ken+a+b@example.com") == [
        "* store message in folder: u-ken", "* store message in folder: d-a+b",
        "* store message in folder: from-mta-filters"]


def test_empty_detail_exists_missing_detail_does_not(run_tamis, tmp_workdir):
    script = REQ + (
        'if envelope :detail :is "to" "" { fileinto "empty-detail"; }\n'
        'if envelope :detail :matches "to" "*" { fileinto "has-detail"; }\n')
    assert performed(run_tamis, tmp_workdir, script, "-r", "ken+@example.com") == [
        "* store message in folder: empty-detail", "* store message in folder: has-detail"]
    # Without a delimiter there is no detail at all: not even "*" matches.
    assert performed(run_tamis, tmp_workdir, script, "-r", "ken@example.com") == []


def test_group_and_invalid_addresses_have_no_user_or_detail(run_tamis, tmp_workdir):
    script = REQ + (
        'if address :user :contains "to" "undisclosed" { fileinto "wrong-user"; }\n'
        'if address :detail :contains "to" "" { fileinto "wrong-detail"; }\n'
        # :all still sees the raw value (as Pigeonhole)
        'if address :all :contains "to" "undisclosed" { fileinto "all"; }\n')
    assert performed(run_tamis, tmp_workdir, script) == ["* store message in folder: all"]


def test_every_address_of_a_header(run_tamis, tmp_workdir):
    script = REQ + (
        'if address :user :is "cc" "joe-a" { fileinto "user"; }\n'
        'if address :detail :is "cc" "b" { fileinto "detail"; }\n')
    assert performed(run_tamis, tmp_workdir, script) == [
        "* store message in folder: user", "* store message in folder: detail"]


@pytest.mark.parametrize("delims,user,detail", [
    ("-", "joe", "a+b"),
    ("+-", "joe", "a+b"),     # the first delimiter found splits, not the first listed
    ("-+", "joe", "a+b"),
    ("_", "joe-a+b", None),
    ("", "joe-a+b", None),
])
def test_recipient_delimiter_setting(run_tamis, tmp_workdir, delims, user, detail):
    script = REQ + (
        'if envelope :user :matches "to" "*" { fileinto "u-${1}"; }\n'
        'if envelope :detail :matches "to" "*" { fileinto "d-${1}"; }\n')
    expected = ["* store message in folder: u-" + user]
    if detail is not None:
        expected.append("* store message in folder: d-" + detail)
    assert performed(run_tamis, tmp_workdir, script, "-r", "joe-a+b@example.com",
                     "-o", f"recipient_delimiter={delims}") == expected


def test_null_sender_parts_are_empty(run_tamis, tmp_workdir):
    script = REQ + (
        'if envelope :user :is "from" "" { fileinto "user-empty"; }\n'
        'if envelope :detail :is "from" "" { fileinto "detail-empty"; }\n')
    assert performed(run_tamis, tmp_workdir, script, "-f", "") == [
        "* store message in folder: user-empty", "* store message in folder: detail-empty"]


def test_tags_need_the_extension(run_tamis, tmp_workdir):
    s = write(tmp_workdir, "e.sieve", 'require "envelope";\nif envelope :user "to" "x" { keep; }\n')
    r = run_tamis("compile", s, tmp_workdir / "e.bin")
    assert r.returncode == 1, r
    assert "unknown tagged argument ':user' for the envelope test" in r.stderr, r
