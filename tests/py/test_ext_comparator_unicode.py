"""comparator-i;unicode-casemap (RFC 5051): the comparator folds case by
Unicode titlecase mapping after NFKD decomposition, for equality,
substrings, wildcards and ordering; RFC 5228 section 2.7.3 wants it
required by name.
"""
import pathlib

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
