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


def test_by_time_has_at_most_nine_digits(run_tamis, tmp_workdir):
    # RFC 2852's by-time is 1*9DIGIT: deadlines further ahead are cut to
    # 999999999 seconds, relative or absolute.
    r = run(run_tamis, tmp_workdir,
            'require ["redirect-deliverby", "copy"];\n'
            'redirect :copy :bytimerelative 2000000000 "a@example.com";\n'
            'redirect :copy :bytimeabsolute "2200-01-01T00:00:00Z" "b@example.com";\n')
    opts = options(r.stderr)
    assert len(opts) == 2, r
    for o in opts:
        secs = int(re.fullmatch(r"BY=(\d+);R", o).group(1))
        assert 999999990 <= secs <= 999999999, opts


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
    assert "redirect :bytimerelative and :bytimeabsolute are mutually exclusive" in errs[3]
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


# ---- RFC 6009's examples (tests/rfc-examples/rfc6009, run by
# test_rfc_examples.py) where the outcome depends on the time of the run or
# shows only in the delivery options; `tamis test` simulates the
# delivery's DSN and BY parameters with the setting sieve_test_smtp_params ----

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "rfc-examples" / "rfc6009"
ALL_EXTS = ["-x", "+envelope-dsn +envelope-deliverby +redirect-dsn +redirect-deliverby"]


def test_orcpt_address_parts(run_tamis, tmp_workdir):
    # :all (the default) is the whole "addr-type;address", as the RFC's
    # example matches it; the other address parts are pieces of the
    # address of an rfc822 ORCPT, and of nothing else.
    d = pathlib.Path(tmp_workdir)
    (d / "s.sieve").write_text(
        'require ["envelope", "envelope-dsn", "fileinto", "variables", "subaddress"];\n'
        'if envelope :domain "orcpt" "example.com" { fileinto "domain"; }\n'
        'if envelope :localpart :matches "orcpt" "*" { fileinto "local-${1}"; }\n'
        'if envelope :detail "orcpt" "filter" { fileinto "detail"; }\n'
        'if envelope :all :matches "orcpt" "*;*" { fileinto "type-${1}"; }\n'
        'if envelope :domain :matches ["notify", "ret", "envid"] "*" { fileinto "never"; }\n')
    (d / "m.eml").write_text(MSG)
    params = "NOTIFY=FAILURE RET=FULL ENVID=e1 ORCPT=rfc822;Bob+2Bfilter@Example.COM"
    r = run_tamis("test", "-x", "+envelope-dsn", "-o", f"sieve_test_smtp_params={params}",
                  d / "s.sieve", d / "m.eml")
    out = r.stdout.split("Implicit keep:")[0]
    assert ["domain", "local-Bob+filter", "detail", "type-rfc822"] == \
        [l.split(": ", 1)[1] for l in out.splitlines() if "folder:" in l], r
    r = run_tamis("test", "-x", "+envelope-dsn", "-o", "sieve_test_smtp_params=ORCPT=x400;c+3Dus",
                  d / "s.sieve", d / "m.eml")
    out = r.stdout.split("Implicit keep:")[0]
    assert [l.split(": ", 1)[1] for l in out.splitlines() if "folder:" in l] == ["type-x400"], r


def test_rfc6009_example_files_by_deadline_hour(run_tamis, tmp_workdir):
    # As printed the example files by the deadline's hour (UTC) while now is
    # before the deadline (its comment speaks of the opposite); it runs as
    # printed.
    import datetime
    d = pathlib.Path(tmp_workdir)
    (d / "m.eml").write_text(MSG)
    r = run_tamis("test", *ALL_EXTS, "-o", "sieve_test_smtp_params=BY=7200;R",
                  EXAMPLES / "s4-file-by-hour.sieve", d / "m.eml")
    assert r.returncode == 0, r
    hour = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=7200)).hour
    m = re.search(r"store message in folder: missed-(\d\d)\n", r.stdout)
    assert m and int(m.group(1)) in (hour, (hour - 1) % 24), r


def test_rfc6009_redirect_examples_delivery_options(run_tamis, tmp_workdir):
    d = pathlib.Path(tmp_workdir)
    (d / "m.eml").write_text(MSG)
    r = run_tamis("test", *ALL_EXTS, "-e", "-l", d / "Maildir", EXAMPLES / "s3-redirect-notify-never.sieve",
                  d / "m.eml")
    assert r.returncode == 0 and options(r.stderr) == ["NOTIFY=NEVER"], r
    r = run_tamis("test", *ALL_EXTS, "-e", "-l", d / "Maildir", EXAMPLES / "s5-redirect-relative.sieve",
                  d / "m.eml")
    assert re.fullmatch(r"BY=(59\d|600);R", options(r.stderr)[0]), r
    # the last example sends before 22:00 with a deadline at 20:00 today
    # (local zone, given as "+hhmm" from date's "zone" part); after 22:00
    # it does nothing
    import datetime
    r = run_tamis("test", *ALL_EXTS, "-e", "-l", d / "Maildir", EXAMPLES / "s5-redirect-absolute.sieve",
                  d / "m.eml")
    assert r.returncode == 0, r
    now = datetime.datetime.now().astimezone()
    if now.hour < 22:
        assert "redirect message to: <cellphone@example.com>" in r.stdout, r
        deadline = now.replace(hour=20, minute=0, second=0, microsecond=0)
        by = int(re.fullmatch(r"BY=(-?\d+);R", options(r.stderr)[0]).group(1))
        assert abs(by - (deadline - now).total_seconds()) < 10, r
    else:
        assert options(r.stderr) == [], r


def test_smtp_params_are_checked(run_tamis, tmp_workdir):
    # RFC 2852: a time of zero or less is not allowed with mode R; ORCPT
    # and ENVID are xtext, where "=" must be encoded.
    d = pathlib.Path(tmp_workdir)
    (d / "m.eml").write_text(MSG)
    for bad in ("BY=-5;R", "BY=0;R", "BY=1234567890;N", "BY=5;X", "ORCPT=rfc822;a=b@example.com",
                "ORCPT=nosemicolon", "ENVID=a+4", "SIZE=5", "NOTIFY"):
        r = run_tamis("test", *ALL_EXTS, "-o", f"sieve_test_smtp_params={bad}",
                      EXAMPLES / "s2-notify-success.sieve", d / "m.eml")
        assert r.returncode == 2 and "sieve_test_smtp_params" in r.stderr, (bad, r)


def test_bytimeabsolute_day_must_exist(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir,
            'require "redirect-deliverby";\n'
            'redirect :bytimeabsolute "2030-02-29T00:00:00Z" "a@example.com";\n'
            'redirect :bytimeabsolute "2032-02-29T00:00:00Z" "b@example.com";\n'
            'redirect :bytimeabsolute "2030-04-31T00:00:00Z" "c@example.com";\n', execute=False)
    errs = [l for l in r.stderr.splitlines() if ": error: " in l]
    assert len(errs) == 3 and "'2030-02-29T00:00:00Z'" in errs[0] and "'2030-04-31T00:00:00Z'" in errs[1], r


def test_redirect_list_members_each_get_the_options(run_tamis, tmp_workdir):
    # extlists' redirect :list makes one redirect per member; each carries
    # the DSN and BY options of the command.
    d = pathlib.Path(tmp_workdir)
    (d / "members").write_text("x@example.com\ny@example.com\n")
    (d / "s.sieve").write_text(
        'require ["extlists", "redirect-dsn", "redirect-deliverby"];\n'
        'redirect :list :notify "failure" :bytimerelative 300 :bymode "notify" "tag:example.com,2025:team";\n')
    (d / "m.eml").write_text(MSG)
    r = run_tamis("test", "-x", "+extlists +redirect-dsn +redirect-deliverby",
                  "-o", f"sieve_extlists_list=tag:example.com,2025:team {d / 'members'}",
                  "-e", "-l", d / "Maildir", d / "s.sieve", d / "m.eml")
    assert r.returncode == 0, r
    assert "RECIPIENT: x@example.com" in r.stdout and "RECIPIENT: y@example.com" in r.stdout, r
    opts = options(r.stderr)
    assert len(opts) == 2 and all(re.fullmatch(r"NOTIFY=FAILURE BY=(29\d|300);N", o) for o in opts), opts
