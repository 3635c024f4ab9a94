"""comparator-i;unicode-casemap (RFC 5051): the comparator folds case by
Unicode titlecase mapping after NFKD decomposition, for equality,
substrings, wildcards and ordering; RFC 5228 section 2.7.3 wants it
required by name.  The tables behind it are generated from Unicode data
(scripts/gen-unicode-casemap.py) and cover every script.
"""
import pathlib

import pytest

MSG = ("From: a@example.org\r\n"
       "X-A: This is a header with T\u00c8ST\r\n"
       "X-B: stra\u00dfe\r\n"
       "X-C: \u01c4\r\n"
       "X-D: \uff21bc\r\n"
       "X-E: A\r\n"
       "Subject: x\r\n\r\nbody\r\n")


def run(run_tamis, d, body):
    s = pathlib.Path(d) / "s.sieve"
    s.write_text('require ["comparator-i;unicode-casemap", "fileinto", "relational"];\n' + body)
    m = pathlib.Path(d) / "m.eml"
    m.write_bytes(MSG.encode("utf-8"))
    return run_tamis("test", s, m)


def stores(out):
    performed = out.split("Implicit keep:")[0]
    return [l.split(": ", 1)[1] for l in performed.splitlines()
            if l.startswith(" * store message in folder: ")]


def cmp(hdr, mt, key):
    return f'if header {mt} :comparator "i;unicode-casemap" "{hdr}" "{key}" {{ fileinto "yes"; }}\n'


def test_contains_ignores_case_beyond_ascii(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir, cmp("X-A", ":contains", "t\u00e8st"))
    assert stores(r.stdout) == ["yes"], r


def test_matches_with_wildcards(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir, cmp("X-A", ":matches", "ThIs*with*t\u00e8sT"))
    assert stores(r.stdout) == ["yes"], r


def test_titlecase_digraph(run_tamis, tmp_workdir):
    # U+01C4 (DZ with caron) and U+01C6 (its lower case) share a titlecase
    r = run(run_tamis, tmp_workdir, cmp("X-C", ":is", "\u01c6"))
    assert stores(r.stdout) == ["yes"], r


def test_compatibility_decomposition(run_tamis, tmp_workdir):
    # FULLWIDTH LATIN CAPITAL LETTER A decomposes (NFKD) to "A"
    r = run(run_tamis, tmp_workdir, cmp("X-D", ":is", "abc"))
    assert stores(r.stdout) == ["yes"], r


def test_sharp_s_is_not_ss(run_tamis, tmp_workdir):
    # simple titlecase mapping: no full case folding of U+00DF
    r = run(run_tamis, tmp_workdir, cmp("X-B", ":is", "STRASSE"))
    assert stores(r.stdout) == [], r


def test_ordering(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir,
            'if header :value "lt" :comparator "i;unicode-casemap" "X-E" "b" { fileinto "lt"; }\n'
            'if header :value "eq" :comparator "i;unicode-casemap" "X-E" "a" { fileinto "eq"; }\n')
    assert stores(r.stdout) == ["lt", "eq"], r


def test_invalid_utf8_key_does_not_match(run_tamis, tmp_workdir):
    r = run(run_tamis, tmp_workdir,
            'require "encoded-character";\n' + cmp("X-A", ":matches", "*t${hex:ff}st"))
    assert r.returncode == 0, r
    assert stores(r.stdout) == [], r


def test_must_be_required(run_tamis, tmp_workdir):
    s = pathlib.Path(tmp_workdir) / "s.sieve"
    s.write_text('if header :is :comparator "i;unicode-casemap" "X-A" "x" { keep; }\n')
    m = pathlib.Path(tmp_workdir) / "m.eml"
    m.write_bytes(MSG.encode())
    r = run_tamis("test", s, m)
    assert r.returncode == 1
    assert "unknown comparator 'i;unicode-casemap'" in r.stderr


def run_string(run_tamis, d, value, mt, key):
    """`string` test of one value against one key (no message header
    involved, so any code point can be tried)."""
    s = pathlib.Path(d) / "s.sieve"
    s.write_text('require ["comparator-i;unicode-casemap", "fileinto", "variables"];\n'
                 f'if string {mt} :comparator "i;unicode-casemap" "{value}" "{key}" '
                 '{ fileinto "yes"; }\n', encoding="utf-8")
    m = pathlib.Path(d) / "m.eml"
    m.write_bytes(MSG.encode("utf-8"))
    return run_tamis("test", s, m)


# The tables cover every script of Unicode, not a chosen few (they are
# generated from Unicode data by scripts/gen-unicode-casemap.py).
@pytest.mark.parametrize("value,key", [
    ("\U0001D400BC", "abc"),          # MATHEMATICAL BOLD CAPITAL A (NFKD -> A)
    ("\u2460", "1"),                  # CIRCLED DIGIT ONE
    ("\uf900", "\u8c48"),             # CJK compatibility ideograph (canonical)
    ("\u0958", "\u0915\u093c"),       # DEVANAGARI QA = KA + NUKTA
    ("\u1e9b\u0323", "\u1e60\u0323"),  # long s with dot: titlecase after NFKD
    ("\u3250", "PTE"),                # PARTNERSHIP SIGN, three letters
])
def test_decompositions_beyond_latin(run_tamis, tmp_workdir, value, key):
    r = run_string(run_tamis, tmp_workdir, value, ":is", key)
    assert stores(r.stdout) == ["yes"], r


def test_longest_decomposition(run_tamis, tmp_workdir):
    # U+FDFA ARABIC LIGATURE SALLALLAHOU ALAYHE WASALLAM decomposes into
    # 18 characters, the longest compatibility decomposition there is.
    import unicodedata
    long = unicodedata.normalize("NFKD", "\ufdfa")
    assert len(long) == 18
    r = run_string(run_tamis, tmp_workdir, "x\ufdfay", ":is", "X" + long + "Y")
    assert stores(r.stdout) == ["yes"], r
    r = run_string(run_tamis, tmp_workdir, "x\ufdfay", ":matches", "X*" + long[5:9] + "*")
    assert stores(r.stdout) == ["yes"], r


def test_tables_match_their_generator():
    """sieve/match-unicode.inc is what scripts/gen-unicode-casemap.py writes
    (checked where Python's Unicode data is the version the file was made
    from)."""
    import subprocess
    import sys
    import unicodedata
    root = pathlib.Path(__file__).resolve().parents[2]
    inc = (root / "sieve" / "match-unicode.inc").read_text()
    if f"Unicode {unicodedata.unidata_version} data" not in inc:
        pytest.skip("this Python has another Unicode version than the tables")
    out = subprocess.run([sys.executable, str(root / "scripts" / "gen-unicode-casemap.py")],
                         capture_output=True, text=True, check=True).stdout
    assert out == inc
