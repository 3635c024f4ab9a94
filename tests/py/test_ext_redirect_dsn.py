"""redirect-dsn and redirect-deliverby (RFC 6009 sections 3 and 5): the
:notify/:ret and :bytimerelative/:bytimeabsolute/:bymode/:bytrace tags of
redirect become the DSN and BY parameters handed to the MTA; `tamis test
-e` logs them as "delivery options" next to the message it would send.
"""
import pathlib
import re

MSG = "From: user@example.com\r\nTo: me@example.net\r\nSubject: x\r\n\r\nbody\r\n"
EXT = ["-x", "+redirect-dsn +redirect-deliverby"]


def run(run_tamis, d, body, execute=True):
    d = pathlib.Path(d)
    (d / "s.sieve").write_text(body)
    (d / "m.eml").write_text(MSG)
    args = ["test", *EXT]
    if execute:
        args += ["-e", "-l", d / "Maildir"]
    return run_tamis(*args, "s.sieve", "m.eml")


def options(stderr):
    return [l[len("tamis: delivery options: "):] for l in stderr.splitlines()
            if l.startswith("tamis: delivery options: ")]


def test_rfc6009_examples(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir,
            'require ["copy", "redirect-dsn", "redirect-deliverby"];\n'
            'if address "from" "user@example.com" {\n'
            '  redirect :copy :notify "NEVER" "elsewhere@example.com";\n'
            '  redirect :copy :bytimerelative 600 "cellphone@example.com";\n'
            '}\n')
    assert r.returncode == 0, r
    opts = options(r.stderr)
    assert opts[0] == "NOTIFY=NEVER"
    m = re.fullmatch(r"BY=(\d+);R", opts[1])
    assert m and 590 <= int(m.group(1)) <= 600, opts


def test_notify_list_ret_and_mode(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir,
            'require ["redirect-dsn", "redirect-deliverby"];\n'
            'redirect :notify "delay,Failure" :ret "hdrs" :bytimerelative 60 :bymode "notify" :bytrace '
            '"a@example.com";\n')
    opts = options(r.stderr)
    assert re.fullmatch(r"NOTIFY=FAILURE,DELAY RET=HDRS BY=\d+;NT", opts[0]), opts


def test_bytimeabsolute(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir,
            'require ["redirect-deliverby"];\n'
            'redirect :bytimeabsolute "2099-01-01T00:00:00+01:00" :bymode "return" "a@example.com";\n')
    opts = options(r.stderr)
    secs = int(re.fullmatch(r"BY=(\d+);R", opts[0]).group(1))
    assert secs > 365 * 86400, opts


def test_computed_values_checked_at_run_time(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir,
            'require ["redirect-dsn", "variables"];\nset "n" "sometimes";\n'
            'redirect :notify "${n}" "a@example.com";\n', execute=False)
    assert r.returncode == 1
    assert "redirect :notify: invalid value 'sometimes'" in r.stderr


def test_compile_errors(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir,
            'require ["redirect-dsn", "redirect-deliverby"];\n'
            'redirect :notify "never,success" "a@example.com";\n'
            'redirect :ret "x" "a@example.com";\n'
            'redirect :bymode "notify" "a@example.com";\n'
            'redirect :bytimerelative 5 :bytimeabsolute "2030-01-01T00:00:00Z" "a@example.com";\n'
            'redirect :bytimeabsolute "2030-13-01T00:00:00Z" "a@example.com";\n'
            'redirect :bytimerelative 5 :bymode "soon" "a@example.com";\n', execute=False)
    errs = [l for l in r.stderr.splitlines() if ": error: " in l]
    assert len(errs) == 7, r
    assert "invalid value 'never,success'" in errs[0]
    assert "invalid value 'x'" in errs[1]
    assert "redirect :bymode requires :bytimerelative or :bytimeabsolute" in errs[2]
    assert "encountered duplicate :bytimeabsolute argument" in errs[3]
    assert "invalid date-time '2030-13-01T00:00:00Z'" in errs[4]
    assert "invalid mode 'soon'" in errs[5]


def test_plain_redirect_has_no_options(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir, 'require "redirect-dsn";\nredirect "a@example.com";\n')
    assert options(r.stderr) == [], r


# RFC 6009's example script as a whole (section 8), with "# do whatever"
# bodies replaced by keep.  Its last redirect builds :bytimeabsolute from
# currentdate's "zone" date-part, which is "+hhmm", not RFC 3339's "+hh:mm";
# the RFC's own example has to work, so both forms are accepted.
RFC6009_EXAMPLE = r'''require ["copy", "redirect-deliverby", "date", "variables",
        "relational", "comparator-i;ascii-numeric", "envelope", "envelope-dsn",
        "envelope-deliverby", "redirect-dsn", "fileinto"];
if envelope "notify" "SUCCESS" { keep; }
if allof ( envelope "notify" "FAILURE",
           envelope :comparator "i;ascii-numeric" :count "eq" "notify" "1") { keep; }
if envelope :matches "orcpt" "rfc822;*@example.com" { keep; }
if anyof (envelope :contains "bytimerelative" "-",
          envelope :value "eq" :comparator "i;ascii-numeric" "bytimerelative" "0") { keep; }
if currentdate :matches "iso8601" "*" {
    set "cdate" "${0}";
    if envelope :value "ge" "bytimeabsolute" "${cdate}" { keep; }
}
if envelope :matches :zone "+0000" "bytimeabsolute" "*T*:*:*" {
    set "bdate" "${0}";
    set "bhour" "${2}";
    if currentdate :zone "+0000" :value "lt" "iso8601" "${bdate}" { fileinto "missed-${bhour}"; }
}
if address "from" "user@example.com" { redirect :copy :notify "NEVER" "elsewhere@example.com"; }
if address "from" "user@example.com" { redirect :copy :bytimerelative 600 "cellphone@example.com"; }
if currentdate :value "lt" :comparator "i;ascii-numeric" "hour" "22" {
    if currentdate :matches "date" "*" {set "date" "${0}";}
    if currentdate :matches "zone" "*" {set "zone" "${0}";}
    redirect :copy :bytimeabsolute "${date}T20:00:00${zone}" :bymode "return" "cellphone@example.com";
}
'''


def test_rfc6009_complete_example_script(run_tamis, tmp_workdir):
    d = pathlib.Path(tmp_workdir)
    (d / "s.sieve").write_text(RFC6009_EXAMPLE)
    (d / "m.eml").write_text("From: user@example.com\r\nTo: me@example.org\r\nSubject: x\r\n\r\nhi\r\n")
    exts = ["-x", "+envelope-dsn +envelope-deliverby +redirect-dsn +redirect-deliverby"]
    r = run_tamis("compile", *exts, d / "s.sieve")
    assert r.returncode == 0, r
    r = run_tamis("test", *exts, d / "s.sieve", d / "m.eml")
    assert r.returncode == 0, r
    assert "redirect message to: <elsewhere@example.com>" in r.stdout
    assert "redirect message to: <cellphone@example.com>" in r.stdout
    assert "Implicit keep:\n\n * store message in folder: INBOX" in r.stdout
