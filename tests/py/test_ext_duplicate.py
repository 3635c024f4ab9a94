"""The duplicate test (RFC 7352) and the deprecated vnd.dovecot.duplicate:
the listing in sieve-test's layout and the compile-time checks through
`tamis test`, and the tracking itself through `tamis testsuite` scripts
written here (the testsuite host keeps duplicate records in memory until
test_result_reset): a message is a duplicate only after a run that checked
it was executed successfully, :last re-marks, :seconds bounds the record,
and vacation replies are suppressed the same way.
"""
import pathlib
import textwrap

import pytest

MSG = ("From: a@example.org\r\n"
       "To: b@example.org\r\n"
       "Subject: Frop\r\n"
       "Message-ID: <m1@example.org>\r\n"
       "X-Frop: one\r\n"
       "\r\n"
       "x\r\n")


def write(d, name, text):
    p = pathlib.Path(d) / name
    p.write_text(text)
    return p


def listing(run_tamis, d, script, *opts, message=MSG):
    s = write(d, "s.sieve", script)
    m = write(d, "m.eml", message)
    return run_tamis("test", *opts, s, m)


def performed(r):
    return [l for l in r.stdout.split("Implicit keep:")[0].splitlines() if l.startswith(" * ")]


@pytest.mark.parametrize("test,line", [
    ("duplicate", " * track duplicate"),
    ('duplicate :handle "news"', " * track duplicate with handle: news"),
    ('duplicate :last :handle "x"', " * track last duplicate with handle: x"),
    ('duplicate :header "X-Frop"', " * track duplicate"),
    ('duplicate :uniqueid "abc" :seconds 60', " * track duplicate"),
])
def test_listing(run_tamis, tmp_workdir, test, line):
    r = listing(run_tamis, tmp_workdir, f'require "duplicate";\nif {test} {{ discard; }}\n')
    assert r.returncode == 0, r
    assert performed(r) == [line]


def test_no_value_no_tracking(run_tamis, tmp_workdir):
    # Nothing to identify the message by: not a duplicate, nothing tracked.
    r = listing(run_tamis, tmp_workdir, 'require "duplicate";\nif duplicate :header "X-None" { discard; }\n')
    assert performed(r) == []
    r = listing(run_tamis, tmp_workdir, 'require "duplicate";\nif duplicate { discard; }\n',
                message=MSG.replace("Message-ID: <m1@example.org>\r\n", ""))
    assert performed(r) == []


def test_same_check_twice_is_answered_once(run_tamis, tmp_workdir):
    r = listing(run_tamis, tmp_workdir,
                'require "duplicate";\nif duplicate { discard; }\nif duplicate { discard; }\n'
                'if duplicate :handle "a" { discard; }\n')
    assert r.returncode == 0, r
    assert performed(r) == [" * track duplicate", " * track duplicate with handle: a"]


@pytest.mark.parametrize("test,error", [
    ('duplicate :header "X" :uniqueid "y"', "conflicting :header and :uniqueid arguments specified for the duplicate test"),
    ('duplicate :uniqueid "y" :header "X"', "conflicting :header and :uniqueid arguments specified for the duplicate test"),
    ('duplicate :seconds "a"', "the :seconds tag for the duplicate test requires a number as parameter, but a string was found"),
    ('duplicate :seconds :last', "the :seconds tag for the duplicate test requires a number as parameter, but a tag was found"),
    ('duplicate :handle ["a", "b"]', "the :handle tag for the duplicate test requires a string as parameter, but a string list was found"),
    ('duplicate "x"', "the duplicate test requires 0 positional argument(s), but 1 is/are specified"),
    ('duplicate :last :last', "encountered duplicate :last argument for the duplicate test"),
])
def test_compile_errors(run_tamis, tmp_workdir, test, error):
    r = listing(run_tamis, tmp_workdir, f'require "duplicate";\nif {test} {{ discard; }}\n')
    assert r.returncode != 0
    assert error in r.stderr


def test_warnings(run_tamis, tmp_workdir):
    r = listing(run_tamis, tmp_workdir, 'require "duplicate";\nif duplicate :header "X Frop" :seconds 9999999 {}\n')
    assert r.returncode == 0
    assert "specified header field name 'X Frop' is invalid" in r.stderr
    assert "specified :seconds value '172800' is over the maximum" in r.stderr


def test_vnd_duplicate(run_tamis, tmp_workdir):
    script = 'require "vnd.dovecot.duplicate";\nif duplicate :value "x" { discard; }\n'
    r = listing(run_tamis, tmp_workdir, script)
    assert r.returncode != 0, "deprecated: off unless enabled"
    r = listing(run_tamis, tmp_workdir, script, "-x", "+vnd.dovecot.duplicate")
    assert performed(r) == [" * track duplicate"]
    r = listing(run_tamis, tmp_workdir, 'require ["duplicate", "vnd.dovecot.duplicate"];\n',
                "-x", "+vnd.dovecot.duplicate")
    assert "cannot be used together with the duplicate extension" in r.stderr


SVTEST = r'''
require "vnd.dovecot.testsuite";
require "relational";
require "comparator-i;ascii-numeric";

test_set "message" text:
From: a@example.org
To: b@example.org
Subject: Frop
Message-ID: <m1@example.org>
X-Frop: one

x
.
;
test_set "envelope.from" "a@example.org";
test_set "envelope.to" "b@example.org";

test "First delivery is new, the second a duplicate" {
	if not test_script_compile "check.sieve" { test_fail "compile"; }
	if not test_script_run { test_fail "run 1"; }
	if test_result_action "store" { test_fail "duplicate on first delivery"; }
	if not test_result_action :index 1 "duplicate_mark" { test_fail "no mark"; }
	if not test_result_execute { test_fail "execute 1"; }
	if not test_script_run { test_fail "run 2"; }
	if not test_result_action :index 1 "store" { test_fail "not a duplicate on second delivery"; }
	if test_result_action "duplicate_mark" { test_fail "re-marked without :last"; }
}

test_result_reset;

test "A failed delivery is not marked" {
	if not test_script_compile "fail.sieve" { test_fail "compile"; }
	if not test_script_run { test_fail "run 1"; }
	if test_result_execute { test_fail "execute should have failed"; }
	if not test_script_compile "check-fail.sieve" { test_fail "compile 2"; }
	if not test_script_run { test_fail "run 2"; }
	if test_result_action "store" { test_fail "marked although the delivery failed"; }
}

test_result_reset;

test "Records expire" {
	if not test_script_compile "expire.sieve" { test_fail "compile"; }
	if not test_script_run { test_fail "run 1"; }
	if not test_result_execute { test_fail "execute"; }
	if not test_script_run { test_fail "run 2"; }
	if test_result_action "store" { test_fail "a record of 0 seconds was still there"; }
}

test_result_reset;

test "Handles, values and :last" {
	if not test_script_compile "values.sieve" { test_fail "compile"; }
	if not test_script_run { test_fail "run 1"; }
	if not test_result_action :count "eq" :comparator "i;ascii-numeric" "4" { test_fail "four marks expected"; }
	if not test_result_execute { test_fail "execute"; }
	if not test_script_run { test_fail "run 2"; }
	/* all four are duplicates now; only the :last one is marked again */
	if not test_result_action :count "eq" :comparator "i;ascii-numeric" "5" { test_fail "4 stores + 1 mark expected"; }
	if not test_result_action :index 4 "duplicate_mark" { test_fail ":last not re-marked"; }
	test_set "message" text:
From: a@example.org
To: b@example.org
Subject: Frop
Message-ID: <m2@example.org>
X-Frop: two

x
.
;
	if not test_script_run { test_fail "run 3"; }
	/* another Message-ID and X-Frop; the :uniqueid check stays a duplicate */
	if not test_result_action :index 3 "store" { test_fail ":uniqueid should still match"; }
	if not test_result_action :count "eq" :comparator "i;ascii-numeric" "4" { test_fail "3 marks + 1 store expected"; }
}

test_result_reset;

test_set "message" text:
From: a@example.org
To: b@example.org
Subject: Frop
Message-ID: <m3@example.org>

x
.
;
test_set "envelope.from" "a@example.org";
test_set "envelope.to" "b@example.org";

test "Vacation answers a sender once per period" {
	if not test_script_compile "vacation.sieve" { test_fail "compile"; }
	if not test_script_run { test_fail "run 1"; }
	if not test_result_execute { test_fail "execute 1"; }
	if not test_message :smtp 0 { test_fail "no first reply"; }
	if not test_script_run { test_fail "run 2"; }
	if not test_result_execute { test_fail "execute 2"; }
	if test_message :smtp 1 { test_fail "answered twice"; }
}

test_result_reset;
/* test_message replaced the message with the reply: back to the original. */
test_set "message" text:
From: a@example.org
To: b@example.org
Subject: Frop
Message-ID: <m3@example.org>

x
.
;
test_set "envelope.from" "a@example.org";
test_set "envelope.to" "b@example.org";

test "Another handle is another reply" {
	if not test_script_compile "vacation.sieve" { test_fail "compile"; }
	if not test_script_run { test_fail "run 1"; }
	if not test_result_execute { test_fail "execute 1"; }
	if not test_script_compile "vacation2.sieve" { test_fail "compile 2"; }
	if not test_script_run { test_fail "run 2"; }
	if not test_result_execute { test_fail "execute 2"; }
	if not test_message :smtp 1 { test_fail "second reply missing"; }
}
'''

SCRIPTS = {
    "check.sieve": 'require ["duplicate", "fileinto"];\nif duplicate { fileinto "Dups"; }\n',
    "fail.sieve": 'require ["duplicate", "fileinto"];\nif duplicate :handle "f" {}\nfileinto "NoSuchFolder";\n',
    "check-fail.sieve": 'require ["duplicate", "fileinto"];\nif duplicate :handle "f" { fileinto "Dups"; }\n',
    "expire.sieve": 'require ["duplicate", "fileinto"];\nif duplicate :handle "e" :seconds 0 { fileinto "Dups"; }\n',
    "values.sieve": ('require ["duplicate", "fileinto"];\n'
                     'if duplicate :handle "a" { fileinto "A"; }\n'
                     'if duplicate :handle "b" :header "x-frop" { fileinto "B"; }\n'
                     'if duplicate :handle "c" :uniqueid "fixed" { fileinto "C"; }\n'
                     'if duplicate :handle "d" :last { fileinto "D"; }\n'),
    "vacation.sieve": 'require "vacation";\nvacation "away";\n',
    "vacation2.sieve": 'require "vacation";\nvacation :handle "other" "away";\n',
}


def test_tracking_in_the_testsuite(run_tamis, tmp_workdir):
    for name, text in SCRIPTS.items():
        write(tmp_workdir, name, text)
    t = write(tmp_workdir, "dup.svtest", textwrap.dedent(SVTEST))
    r = run_tamis("testsuite", t)
    assert "FAILED" not in r.stdout, r
    assert r.returncode == 0, r
    assert r.stdout.count("SUCCEEDED") == 6
