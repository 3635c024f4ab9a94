"""`header :mime :param` (RFC 5703 section 4.2) on the edges where
Pigeonhole's reading of parameters (Dovecot's rfc2231_parse()) matters:
comments after token values, a plain and an RFC 2231 parameter of the same
name, section order and gaps, undecodable values and broken lists.  Each
row's expectation (the number of values found and the first of them) was
checked with Dovecot 2.3.19's sieve-test, running the same script.
"""
import pathlib

import pytest

SCRIPT = """require ["mime", "variables", "fileinto", "relational",
         "comparator-i;ascii-numeric"];
if header :mime :param ["NAMES"] :count "eq" :comparator "i;ascii-numeric"
        "HEADER" "1" { fileinto "count-1"; }
if header :mime :param ["NAMES"] :count "eq" :comparator "i;ascii-numeric"
        "HEADER" "2" { fileinto "count-2"; }
if header :mime :param ["NAMES"] :count "eq" :comparator "i;ascii-numeric"
        "HEADER" "3" { fileinto "count-3"; }
if header :mime :param ["NAMES"] :matches "HEADER" "*" { fileinto "first=${1}"; }
"""

# (header value, parameter names, folders filed into)
CASES = [
    # RFC 2045 comments are no part of a token value.
    ("text/plain; charset=utf-8 (comment)", ["charset"],
     ["count-1", "first=utf-8"]),
    ("text/plain; x=(y)z; charset=(c1)utf-8(c2)", ["charset"],
     ["count-1", "first=utf-8"]),
    # Plain and RFC 2231 parameters of one name are both there, plain
    # ones first whatever the header order.
    ("text/plain; filename*=utf-8''b; filename=a", ["filename"],
     ["count-2", "first=a"]),
    ("text/plain; FileName=a; filename=b; FILENAME*=utf-8''c", ["filename"],
     ["count-3", "first=a"]),
    # Sections are joined in index order, whatever the header order.
    ("text/plain; x*1=second; x*0=first", ["x"],
     ["count-1", "first=firstsecond"]),
    ("text/plain; X*0=A; x*1=b", ["x"], ["count-1", "first=Ab"]),
    ("text/plain; x*0*=''%41%42; x*1*=%43", ["x"], ["count-1", "first=ABC"]),
    # A gap in the indexes: no "x", each section on its own.
    ("text/plain; x*0=a; x*2=b", ["x"], ["count-1", "first="]),
    ("text/plain; x*0=a; x*2=b", ["x*0"], ["count-1", "first=a"]),
    ("text/plain; x*0=abc; x*1*=%41; x*3=zz; x*=bad", ["x"],
     ["count-1", "first="]),
    # An undecodable "x*" value ends the list.
    ("text/plain; x*=noquotes%41; x=later", ["x"], ["count-1", "first=later"]),
    ("text/plain; x=first; x*=noquotes%41; x=later", ["x"],
     ["count-2", "first=first"]),
    # Broken lists.
    ('text/plain; x=1 "j; c=3"; y=2', ["c"], ["count-1", "first=3"]),
    ("text/plain; a ; x=1", ["x"], ["count-1", "first="]),
    ('text/plain; x="unterminated', ["x"], ["count-1", "first="]),
]


@pytest.mark.parametrize("value,names,want", CASES)
def test_param_as_pigeonhole(run_tamis, tmp_workdir, value, names, want):
    d = pathlib.Path(tmp_workdir)
    script = SCRIPT.replace('"NAMES"', ", ".join(f'"{n}"' for n in names))
    script = script.replace("HEADER", "Content-Type")
    (d / "s.sieve").write_text(script)
    (d / "m.eml").write_text("From: a@example.org\r\nSubject: t\r\n"
                             f"Content-Type: {value}\r\n\r\nbody\r\n")
    r = run_tamis("test", d / "s.sieve", d / "m.eml")
    assert r.returncode == 0, r
    performed = r.stdout.split("Implicit keep:", 1)[0]
    got = [line.split(": ", 1)[1] for line in performed.splitlines()
           if line.startswith(" * store message in folder: ")]
    assert got == want, r


def test_disposition_param(run_tamis, tmp_workdir):
    """Content-Disposition goes the same way (RFC 5703 section 4.2)."""
    d = pathlib.Path(tmp_workdir)
    script = SCRIPT.replace('"NAMES"', '"filename"').replace(
        "HEADER", "Content-Disposition")
    (d / "s.sieve").write_text(script)
    (d / "m.eml").write_text(
        "From: a@example.org\r\n"
        "Content-Disposition: attachment; filename*=utf-8''%C3%A9.txt; "
        "filename=x.txt\r\n\r\nbody\r\n")
    r = run_tamis("test", d / "s.sieve", d / "m.eml")
    assert r.returncode == 0, r
    assert "folder: count-2" in r.stdout and "folder: first=x.txt" in r.stdout, r
