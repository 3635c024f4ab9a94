"""spamtest, spamtestplus and virustest (RFC 5235): the RFC's examples and
the mapping of configured headers onto the 0..10 / 0..100 / 0..5 scales,
through `tamis test -o ...` (what a delivery with these settings does).
"""
import pathlib

import pytest

EXTS = "+spamtest +spamtestplus +virustest"


def write(d, name, text):
    p = pathlib.Path(d) / name
    p.write_text(text)
    return p


def msg(*headers):
    return "".join(h + "\r\n" for h in ("From: a@example.org", "To: b@example.net",
                                        "Subject: s") + headers) + "\r\nbody\r\n"


def folders(stdout):
    """The folders of the performed actions (not the implicit keep)."""
    performed = stdout.split("Implicit keep:", 1)[0]
    return [line.split(": ", 1)[1] for line in performed.splitlines()
            if line.startswith(" * store message in folder: ")]


def run(run_tamis, d, script, message, settings):
    s = write(d, "s.sieve", script)
    m = write(d, "m.eml", message)
    args = ["test", "-x", EXTS]
    for k, v in settings.items():
        args += ["-o", "%s=%s" % (k, v)]
    r = run_tamis(*(args + [s, m]))
    assert r.returncode == 0, r
    return folders(r.stdout)


# Report the value the test sees as a folder name.
VALUE = """require ["spamtest", "fileinto", "variables"];
if spamtest :matches "*" { fileinto "v${0}"; }
"""
PERCENT = """require ["spamtestplus", "fileinto", "variables"];
if spamtest :percent :matches "*" { fileinto "p${0}"; }
"""
VIRUS = """require ["virustest", "fileinto", "variables"];
if virustest :matches "*" { fileinto "v${0}"; }
"""

SA = {"sieve_spamtest_status_type": "score",
      "sieve_spamtest_status_header": r"X-Spam-Status: [a-zA-Z]+, score=(-?[0-9]+\.[0-9]+)",
      "sieve_spamtest_max_header": r"X-Spam-Status: [a-zA-Z]+, score=-?[0-9]+\.[0-9]+ required=([0-9]+\.[0-9]+)"}


@pytest.mark.parametrize("score,value", [
    ("-3.0", "1"), ("0.0", "1"), ("1.0", "2"), ("2.5", "5"), ("4.9", "9"), ("5.0", "10"), ("42.0", "10"),
])
def test_score_from_header_with_max_header(run_tamis, tmp_workdir, score, value):
    m = msg("X-Spam-Status: Yes, score=%s required=5.0 tests=none" % score)
    assert run(run_tamis, tmp_workdir, VALUE, m, SA) == ["v" + value]


def test_not_configured_is_zero(run_tamis, tmp_workdir):
    assert run(run_tamis, tmp_workdir, VALUE, msg("X-Spam-Score: 5"), {}) == ["v0"]


def test_header_missing_or_unparsable_is_zero(run_tamis, tmp_workdir):
    assert run(run_tamis, tmp_workdir, VALUE, msg(), SA) == ["v0"]
    assert run(run_tamis, tmp_workdir, VALUE, msg("X-Spam-Status: garbage"), SA) == ["v0"]


def test_both_max_settings_is_a_configuration_error(run_tamis, tmp_workdir):
    cfg = dict(SA, sieve_spamtest_max_value="5")
    m = msg("X-Spam-Status: Yes, score=5.0 required=5.0")
    assert run(run_tamis, tmp_workdir, VALUE, m, cfg) == ["v0"]


def test_strlen_type(run_tamis, tmp_workdir):
    cfg = {"sieve_spamtest_status_type": "strlen", "sieve_spamtest_status_header": "X-Spam-Level",
           "sieve_spamtest_max_value": "5"}
    assert run(run_tamis, tmp_workdir, VALUE, msg("X-Spam-Level: ***"), cfg) == ["v6"]
    assert run(run_tamis, tmp_workdir, VALUE, msg("X-Spam-Level: *****"), cfg) == ["v10"]
    # mixed characters are not a strlen value
    assert run(run_tamis, tmp_workdir, VALUE, msg("X-Spam-Level: **+"), cfg) == ["v0"]


def test_text_type(run_tamis, tmp_workdir):
    cfg = {"sieve_spamtest_status_type": "text", "sieve_spamtest_status_header": "X-Verdict",
           "sieve_spamtest_text_value1": "clean", "sieve_spamtest_text_value10": "spam"}
    assert run(run_tamis, tmp_workdir, VALUE, msg("X-Verdict: clean"), cfg) == ["v1"]
    assert run(run_tamis, tmp_workdir, VALUE, msg("X-Verdict: spam"), cfg) == ["v10"]
    assert run(run_tamis, tmp_workdir, VALUE, msg("X-Verdict: unknown"), cfg) == ["v0"]


@pytest.mark.parametrize("score,pct", [("0", "0"), ("0.07", "7"), ("0.5", "50"), ("0.99", "99"), ("3", "100")])
def test_spamtestplus_percent(run_tamis, tmp_workdir, score, pct):
    cfg = {"sieve_spamtest_status_header": "X-Spam-Probability", "sieve_spamtest_max_value": "1"}
    assert run(run_tamis, tmp_workdir, PERCENT, msg("X-Spam-Probability: " + score), cfg) == ["p" + pct]


def test_rfc5235_example_spamtest(run_tamis, tmp_workdir):
    # RFC 5235 section 3.2: unclassified mail and likely spam go aside.
    script = """require ["spamtest", "fileinto", "relational", "comparator-i;ascii-numeric"];
if spamtest :value "eq" :comparator "i;ascii-numeric" "0" {
  fileinto "INBOX.unclassified";
} elsif spamtest :value "ge" :comparator "i;ascii-numeric" "3" {
  fileinto "INBOX.spam-trap";
}
"""
    cfg = {"sieve_spamtest_status_header": "X-Spam-Score", "sieve_spamtest_max_value": "10"}
    assert run(run_tamis, tmp_workdir, script, msg(), cfg) == ["INBOX.unclassified"]
    assert run(run_tamis, tmp_workdir, script, msg("X-Spam-Score: 5"), cfg) == ["INBOX.spam-trap"]
    assert run(run_tamis, tmp_workdir, script, msg("X-Spam-Score: 1"), cfg) == []


def test_rfc5235_example_spamtestplus(run_tamis, tmp_workdir):
    script = """require ["spamtestplus", "fileinto", "relational", "comparator-i;ascii-numeric"];
if spamtest :value "eq" :comparator "i;ascii-numeric" "0" {
  fileinto "INBOX.unclassified";
} elsif spamtest :percent :value "eq" :comparator "i;ascii-numeric" "0" {
  fileinto "INBOX.not-spam";
} elsif spamtest :percent :value "lt" :comparator "i;ascii-numeric" "37" {
  fileinto "INBOX.spam-trap";
} else {
  discard;
}
"""
    cfg = {"sieve_spamtest_status_header": "X-Spam-Score", "sieve_spamtest_max_value": "100"}
    assert run(run_tamis, tmp_workdir, script, msg("X-Spam-Score: 0"), cfg) == ["INBOX.not-spam"]
    assert run(run_tamis, tmp_workdir, script, msg("X-Spam-Score: 20"), cfg) == ["INBOX.spam-trap"]
    assert run(run_tamis, tmp_workdir, script, msg("X-Spam-Score: 80"), cfg) == []


@pytest.mark.parametrize("verdict,value", [("clean", "1"), ("suspicious", "3"), ("infected", "5"), ("?", "0")])
def test_virustest_text(run_tamis, tmp_workdir, verdict, value):
    cfg = {"sieve_virustest_status_type": "text", "sieve_virustest_status_header": "X-Virus-Scan: (.*)",
           "sieve_virustest_text_value1": "clean", "sieve_virustest_text_value3": "suspicious",
           "sieve_virustest_text_value5": "infected"}
    assert run(run_tamis, tmp_workdir, VIRUS, msg("X-Virus-Scan: " + verdict), cfg) == ["v" + value]


def test_virustest_score_scale(run_tamis, tmp_workdir):
    cfg = {"sieve_virustest_status_header": "X-Virus-Score", "sieve_virustest_max_value": "4"}
    got = [run(run_tamis, tmp_workdir, VIRUS, msg("X-Virus-Score: %d" % s), cfg)[0] for s in range(5)]
    assert got == ["v1", "v2", "v3", "v4", "v5"]


def test_spamtest_settings_do_not_configure_virustest(run_tamis, tmp_workdir):
    cfg = {"sieve_spamtest_status_header": "X-Spam-Score", "sieve_spamtest_max_value": "10"}
    assert run(run_tamis, tmp_workdir, VIRUS, msg("X-Spam-Score: 5"), cfg) == ["v0"]


def test_compile_errors(run_tamis, tmp_workdir):
    s = write(tmp_workdir, "s.sieve", """require ["spamtest", "virustest"];
if spamtest 3 { }
if virustest :percent "3" { }
if spamtest :percent "3" { }
""")
    m = write(tmp_workdir, "m.eml", msg())
    r = run_tamis("test", "-x", EXTS, s, m)
    assert r.returncode != 0
    assert "the spamtest test expects a string as argument 1 (value), but a number was found" in r.stderr
    assert "unknown tagged argument ':percent' for the virustest test" in r.stderr
    assert ("the spamtest test only accepts the :percent argument when the spamtestplus "
            "extension is active") in r.stderr


def test_off_by_default(run_tamis, tmp_workdir):
    for ext in ("spamtest", "spamtestplus", "virustest"):
        s = write(tmp_workdir, "s.sieve", 'require "%s";\n' % ext)
        m = write(tmp_workdir, "m.eml", msg())
        r = run_tamis("test", s, m)
        assert r.returncode != 0 and "unknown Sieve capability" in r.stderr, r
