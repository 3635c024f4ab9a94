"""The date extension (RFC 5260 section 4) through `tamis test`: the date and
currentdate tests, every date-part, :zone / :originalzone / the local zone,
the lenient RFC 5322 date parsing Pigeonhole does (Dovecot's
message_date_parse), and the compile-time warnings.
"""
import datetime
import pathlib

import pytest

REQ = 'require ["date", "relational", "variables", "fileinto"];\n'


def msg(date="Mon, 20 Jul 2009 21:44:43 +0300", extra=""):
    return ("From: boss@example.com\r\n"
            "To: me@example.org\r\n"
            f"Date: {date}\r\n"
            f"{extra}"
            "Subject: dates\r\n"
            "\r\n"
            "Hi.\r\n")


def write(d, name, text):
    p = pathlib.Path(d) / name
    p.write_text(text)
    return p


def folders(run_tamis, d, script, message=None, env=None):
    s = write(d, "s.sieve", script)
    m = write(d, "m.eml", message if message is not None else msg())
    r = run_tamis("test", s, m, env=env)
    assert r.returncode == 0, r
    return [l[len(" * store message in folder: "):]
            for l in r.stdout.split("Implicit keep:")[0].splitlines()
            if l.startswith(" * store message in folder: ")]


def part_of(run_tamis, d, part, tags=":originalzone", header="date", message=None, env=None):
    script = REQ + f'if date {tags} :matches "{header}" "{part}" "*" {{ fileinto "v=${{1}}"; }}\n'
    got = folders(run_tamis, d, script, message, env)
    return got[0][2:] if got else None


# ---- date-parts (RFC 5260 section 4.2) ----------------------------------

@pytest.mark.parametrize("part,value", [
    ("year", "2009"), ("month", "07"), ("day", "20"), ("date", "2009-07-20"),
    ("julian", "55032"), ("hour", "21"), ("minute", "44"), ("second", "43"),
    ("time", "21:44:43"), ("iso8601", "2009-07-20T21:44:43+03:00"),
    ("std11", "Mon, 20 Jul 2009 21:44:43 +0300"), ("zone", "+0300"), ("weekday", "1"),
    ("YEAR", "2009"),   # date-part names are case-insensitive
])
def test_date_parts_in_original_zone(run_tamis, tmp_workdir, part, value):
    assert part_of(run_tamis, tmp_workdir, part) == value


@pytest.mark.parametrize("zone,part,value", [
    ("+0000", "iso8601", "2009-07-20T18:44:43Z"),       # offset zero is "Z"
    ("+0000", "zone", "+0000"),
    ("-0730", "iso8601", "2009-07-20T11:14:43-07:30"),
    ("+1400", "date", "2009-07-21"),                     # crosses midnight
    ("+1400", "weekday", "2"),
    ("+1400", "julian", "55033"),
    ("-1200", "std11", "Mon, 20 Jul 2009 06:44:43 -1200"),
])
def test_zone_conversion(run_tamis, tmp_workdir, zone, part, value):
    assert part_of(run_tamis, tmp_workdir, part, tags=f':zone "{zone}"') == value


def test_local_zone_is_the_default(run_tamis, tmp_workdir):
    # POSIX TZ "XYZ-05:30" is 5h30 east of UTC.
    assert part_of(run_tamis, tmp_workdir, "iso8601", tags="",
                   env={"TZ": "XYZ-05:30"}) == "2009-07-21T00:14:43+05:30"
    # An invalid constant zone is a warning, and the local zone is used.
    assert part_of(run_tamis, tmp_workdir, "zone", tags=':zone "frop"',
                   env={"TZ": "XYZ-05:30"}) == "+0530"


def test_julian_rfc_example(run_tamis, tmp_workdir):
    # Day 0 is 1858-11-17, so 1900-01-01 is day 15020.  (1858 itself
    # cannot be tested: a four-digit year before 1900 is refused.)
    m = msg("Mon, 01 Jan 1900 00:00:00 +0000")
    assert part_of(run_tamis, tmp_workdir, "julian", message=m) == "15020"
    m = msg("Mon, 22 Jul 2009 23:30:14 +0300")   # the weekday is not checked
    assert part_of(run_tamis, tmp_workdir, "julian", message=m) == "55034"


# ---- RFC 5260 examples ----------------------------------------------------

def test_rfc_office_hours_example(run_tamis, tmp_workdir):
    script = REQ + (
        'if allof(header :is "from" "boss@example.com",\n'
        '         date :value "ge" :originalzone "date" "hour" "09",\n'
        '         date :value "lt" :originalzone "date" "hour" "17")\n'
        '{ fileinto "urgent"; }\n')
    assert folders(run_tamis, tmp_workdir, script, msg("Tue, 21 Jul 2009 10:00:00 -0500")) == ["urgent"]
    assert folders(run_tamis, tmp_workdir, script, msg("Tue, 21 Jul 2009 18:00:00 -0500")) == []


def test_rfc_weekend_example(run_tamis, tmp_workdir):
    script = REQ + (
        'if anyof(date :is :originalzone "received" "weekday" "0",\n'
        '         date :is :originalzone "received" "weekday" "6")\n'
        '{ fileinto "weekend"; }\n')
    rcvd = "Received: from a by b; Sat, 25 Jul 2009 10:00:00 +0200\r\n"
    assert folders(run_tamis, tmp_workdir, script, msg(extra=rcvd)) == ["weekend"]
    rcvd = "Received: from a by b; Fri, 24 Jul 2009 10:00:00 +0200\r\n"
    assert folders(run_tamis, tmp_workdir, script, msg(extra=rcvd)) == []


def test_value_comparisons_and_count(run_tamis, tmp_workdir):
    script = REQ + (
        'if date :originalzone :value "ge" "date" "date" "2009-07-20" { fileinto "ge"; }\n'
        'if date :originalzone :value "lt" "date" "date" "2009-07-21" { fileinto "lt"; }\n'
        'if date :count "eq" "date" "date" "1" { fileinto "one"; }\n'
        'if date :count "eq" "resent-date" "date" "0" { fileinto "none"; }\n'
        # the default match type is :is and the comparator i;ascii-casemap
        'if date :originalzone "date" "std11" "mon, 20 JUL 2009 21:44:43 +0300" { fileinto "is"; }\n'
        'if date :originalzone "date" "std11" "Mon" { fileinto "wrong"; }\n')
    assert folders(run_tamis, tmp_workdir, script) == ["ge", "lt", "one", "none", "is"]


# ---- parsing ------------------------------------------------------------------

@pytest.mark.parametrize("date,iso", [
    ("20 Jul 2009 21:44:43 +0300", "2009-07-20T21:44:43+03:00"),      # no weekday
    ("Mon, 20 Jul 09 21:44:43 +0300", "2009-07-20T21:44:43+03:00"),   # 2-digit year
    ("Mon, 20 Jul 70 21:44:43 +0300", "1970-07-20T21:44:43+03:00"),
    ("Mon, 20 Jul 2009 21:44 +0300", "2009-07-20T21:44:00+03:00"),    # no seconds
    ("Mon, 20 Jul 2009 21.44.43 +0300", "2009-07-20T21:44:43+03:00"),
    ("Mon, 2 jul 2009 1:44:43 +0300", "2009-07-02T01:44:43+03:00"),
    ("Mon, 20 Jul 2009 21:44:60 +0000", "2009-07-20T21:44:59Z"),     # leap second
    ("Mon, 20 Jul 2009 21:44:43 EDT", "2009-07-20T21:44:43-04:00"),
    ("Mon, 20 Jul 2009 21:44:43 GMT", "2009-07-20T21:44:43Z"),
    ("Mon, 20 Jul 2009 21:44:43 XYZ", "2009-07-20T21:44:43Z"),        # unknown zone = UTC
    ("Mon, 20 Jul 2009 21:44:43", "2009-07-20T21:44:43Z"),            # no zone
    ("Mon, 20 Jul 2009 21:44:43 (a comment) +0300 (EEST)", "2009-07-20T21:44:43+03:00"),
    ("Mon, 29 Feb 2000 12:00:00 +0000", "2000-02-29T12:00:00Z"),
])
def test_lenient_parsing(run_tamis, tmp_workdir, date, iso):
    assert part_of(run_tamis, tmp_workdir, "iso8601", message=msg(date)) == iso


@pytest.mark.parametrize("date", [
    "Moo, 34 Juul 3060 25:30:42 +6600", "Mon, 20 Jul 2009", "garbage",
    "Mon, 31 Jun 2009 21:44:43 +0300", "Mon, 29 Feb 1900 21:44:43 +0300",
    "Mon, 20 Jul 2009 24:00:00 +0300", "Mon, 20 Jul 1899 21:44:43 +0300",
    "Monday, 20 Jul 2009 21:44:43 +0300", "Mon, 20 Jul 2009 21:44:43 (open comment",
])
def test_invalid_dates_give_no_value(run_tamis, tmp_workdir, date):
    assert part_of(run_tamis, tmp_workdir, "date", message=msg(date)) is None


def test_received_date_follows_the_last_semicolon(run_tamis, tmp_workdir):
    rcvd = "Received: from a (b; c) by d; Sat, 25 Jul 2009 10:00:00 +0200\r\n"
    assert part_of(run_tamis, tmp_workdir, "date", header="received",
                   message=msg(extra=rcvd)) == "2009-07-25"


def test_only_the_first_field_counts(run_tamis, tmp_workdir):
    rcvd = ("Received: from a by b; Sat, 25 Jul 2009 10:00:00 +0200\r\n"
            "Received: from c by d; Fri, 24 Jul 2009 10:00:00 +0200\r\n")
    script = REQ + 'if date :originalzone "received" "day" "24" { fileinto "second"; }\n'
    assert folders(run_tamis, tmp_workdir, script, msg(extra=rcvd)) == []


# ---- currentdate ---------------------------------------------------------------

def test_currentdate(run_tamis, tmp_workdir):
    script = REQ + (
        'if currentdate :zone "+0000" :matches "date" "*" { fileinto "${1}"; }\n'
        'if currentdate :zone "+0000" :matches "zone" "*" { fileinto "${1}"; }\n'
        'if currentdate :value "gt" "date" "2009-07-20" { fileinto "after2009"; }\n')
    before = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    got = folders(run_tamis, tmp_workdir, script)
    after = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    assert got[0] in (before, after), got
    assert got[1:] == ["+0000", "after2009"]


# ---- compile-time checks ------------------------------------------------------

def test_warnings_and_errors(run_tamis, tmp_workdir):
    s = write(tmp_workdir, "w.sieve", REQ + (
        'if date :zone "frop" "date" "year" "2009" {}\n'
        'if date "da:te" "year" "2009" {}\n'
        'if date "date" "yearx" "2009" {}\n'))
    r = run_tamis("compile", s, tmp_workdir / "w.bin")
    assert r.returncode == 0, r
    assert "w:2:15: warning: specified :zone argument 'frop' is not a valid timezone." in r.stderr, r
    assert "w:3:9: warning: specified header field name 'da:te' is invalid." in r.stderr, r
    assert "w:4:16: warning: specified date part `yearx' is not known." in r.stderr, r

    s = write(tmp_workdir, "e.sieve", REQ + (
        'if date :zone "+0100" :originalzone "date" "year" "2009" {}\n'
        'if currentdate :originalzone "year" "2009" {}\n'
        'if date "date" "year" {}\n'))
    r = run_tamis("compile", s, tmp_workdir / "e.bin")
    assert r.returncode == 1, r
    assert "e:2:23: error: encountered duplicate :originalzone argument for the date test." in r.stderr, r
    assert ("e:3:16: error: unknown tagged argument ':originalzone' for the currentdate test "
            "(reported only once at first occurrence).") in r.stderr, r
    assert "the date test requires 3 positional argument(s), but 2 is/are specified" in r.stderr, r


def test_unknown_date_part_at_run_time(run_tamis, tmp_workdir):
    script = REQ + 'set "p" "frop";\nif date "date" "${p}" "x" { fileinto "wrong"; }\n'
    s = write(tmp_workdir, "s.sieve", script)
    m = write(tmp_workdir, "m.eml", msg())
    r = run_tamis("test", s, m)
    assert r.returncode == 0, r
    assert "warning: specified date part argument `frop' is not known" in r.stderr, r
    assert "wrong" not in r.stdout
