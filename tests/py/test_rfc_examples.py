"""The example scripts of the extension RFCs, as one auditable corpus.

tests/rfc-examples/<rfc>/ holds each RFC's example scripts (*.sieve, first
line a comment citing the RFC section; anything added to make a fragment a
script or to make its outcome visible is said there) and cases.json, the
manifest:

  extensions   -x argument for both tools (extensions off by default)
  settings     engine settings, `-o NAME=VALUE` (sieve-test: plugin/NAME);
               "{dir}" in a value stands for the example folder
  include_dirs true: personal/ and global/ beside the scripts are the
               :personal and :global script folders
  oracle       true, or the reason why sieve-test is not asked at all
  compile_errors  {script: {"error": text, "why": reason}}: scripts that do
               not compile in Tamis (nor in Pigeonhole), with the reason
  no_case      {script: reason}: scripts with no run case
  cases        [{name, script, message | message_file, from, to, settings,
                 why, expect: {actions: [...], keep: bool} | {fails: true},
                 oracle (optional): the reason it is not compared}]
               message is {headers: [[name, value]...], body, pad_body_to};
               from/to are the envelope (-f/-r)

Expected actions were written from the RFC text, not from running tamis.
An action is the text after " * " in the listing, or {"action": that,
"with": [texts that detail lines must contain], "details": [the exact
detail lines]} (detail lines are the "+"/"=>" lines under the action,
compared without regard to case, as IMAP flags are); keep says whether
the implicit keep happens; {fails: true} expects a run-time failure.
"{month}" and "{year}" in an action stand for the current date.

Spec:
- every .sieve compiles with `tamis compile` (or fails with the recorded
  error, for the reason given);
- every case gives the expected actions with `tamis test`;
- where Debian's Pigeonhole has the extension, sieve-test (as nobody) gives
  the same action list and outcome, unless tests/difftest/known-differences.md
  records the case (a line "- `rfcex:<rfc>/<case>`: reason");
- every script is also in fuzz/corpus/compile/ as rfc-<rfc>-<name>.sieve.
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "rfc-examples"
FUZZ = ROOT / "fuzz" / "corpus" / "compile"
KNOWN = ROOT / "tests" / "difftest" / "known-differences.md"
SIEVE_TEST = os.environ.get("SIEVE_TEST", "/usr/bin/sieve-test")


def manifests():
    out = {}
    for d in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        out[d.name] = (d, json.loads((d / "cases.json").read_text()))
    return out


MANIFESTS = manifests()
SCRIPTS = sorted(str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*.sieve"))
CASES = [(rfc, c) for rfc, (_, m) in MANIFESTS.items() for c in m["cases"]]


def case_id(rc):
    return f"{rc[0]}/{rc[1]['name']}"


def known_rfc_differences():
    """`rfcex:<rfc>/<case>` entries of known-differences.md, with reasons."""
    out = {}
    for line in KNOWN.read_text().splitlines():
        m = re.match(r"^- `rfcex:([^`]+)`:\s*(.+)$", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def tool_args(d, m, extra=None, oracle=False):
    """Options for tamis test / sieve-test from the manifest."""
    args = []
    if m.get("extensions"):
        args += ["-x", m["extensions"]]
    settings = dict(m.get("settings", {}))
    settings.update(extra or {})
    if m.get("include_dirs"):
        # Pigeonhole finds personal scripts through its script storage
        # ("sieve"); Tamis reads sieve_dir.
        if oracle:
            settings["sieve"] = "file:" + str(d / "personal")
        else:
            settings["sieve_dir"] = str(d / "personal")
        settings["sieve_global"] = str(d / "global")
    for k, v in settings.items():
        # "{dir}" in a value is the example folder (files a setting names).
        v = v.replace("{dir}", str(d))
        args += ["-o", f"plugin/{k}={v}" if oracle else f"{k}={v}"]
    return args


def message_bytes(d, case):
    if "message_file" in case:
        return (d / case["message_file"]).read_bytes()
    msg = case["message"]
    text = "".join(f"{k}: {v}\r\n" for k, v in msg["headers"]) + "\r\n" + msg.get("body", "Hello.\r\n")
    if msg.get("pad_body_to"):
        # Lines of 78 octets (RFC 5322 section 2.1.1) up to the size asked.
        line = "x" * 76 + "\r\n"
        text += line * -(-(msg["pad_body_to"] - len(text)) // len(line))
    return text.encode()


def envelope_args(case):
    args = []
    if case.get("from") is not None:
        args += ["-f", case["from"]]
    if case.get("to") is not None:
        args += ["-r", case["to"]]
    return args


def parse_listing(stdout):
    """(performed actions, implicit keep actions): each a list of
    (head, [detail lines])."""
    performed, _, keep = stdout.partition("Implicit keep:")

    def actions(text):
        out = []
        for line in text.splitlines():
            if line.startswith(" * "):
                out.append((line[3:].strip(), []))
            elif out and line.strip() and not line.startswith("Performed actions"):
                out[-1][1].append(line.strip())
        return out
    return actions(performed), actions(keep)


def outcome(returncode, stdout):
    if returncode != 0:
        return {"fails": True}
    performed, keep = parse_listing(stdout)
    return {"performed": performed, "keep": keep}


def run_tamis_case(tamis, d, m, case, tmp):
    msg = tmp / "msg.eml"
    msg.write_bytes(message_bytes(d, case))
    cmd = [tamis, "test"] + tool_args(d, m, case.get("settings")) + envelope_args(case)
    cmd += [str(d / case["script"]), str(msg)]
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, cwd=str(tmp), timeout=30)


# ---- compile ------------------------------------------------------------

@pytest.mark.parametrize("rel", SCRIPTS)
def test_example_compiles(tamis, tmp_path, rel):
    path = CORPUS / rel
    rfc = rel.split("/")[0]
    d, m = MANIFESTS[rfc]
    first = path.read_text().splitlines()[0]
    assert re.match(r"^# (RFC \d+|draft-[a-z0-9-]+) section \d", first), first
    out = tmp_path / "out.tmsbin"
    cmd = [tamis, "compile"] + tool_args(d, m)
    r = subprocess.run(cmd + [str(path), str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=30, text=True)
    expected = m.get("compile_errors", {}).get(str(path.relative_to(d)))
    if expected is None:
        assert r.returncode == 0, r.stderr
        assert "error" not in r.stderr, r.stderr
        assert out.is_file()
    else:
        assert expected["why"], rel
        assert r.returncode == 1, r.stderr
        assert expected["error"] in r.stderr, r.stderr
        assert not out.exists()


def test_every_script_is_run_or_explained():
    for rfc, (d, m) in MANIFESTS.items():
        ran = {c["script"] for c in m["cases"]}
        explained = set(m.get("no_case", {})) | set(m.get("compile_errors", {}))
        for p in d.rglob("*.sieve"):
            rel = str(p.relative_to(d))
            assert rel in ran or rel in explained, f"{rfc}/{rel} has no case and no reason"
        for c in m["cases"]:
            assert (d / c["script"]).is_file(), f"{rfc}: {c['script']}"
            assert c.get("why"), f"{rfc}/{c['name']}: say why the actions are expected"
        assert len({c["name"] for c in m["cases"]}) == len(m["cases"]), rfc


def test_fuzz_corpus_has_every_example():
    names = set()
    for rel in SCRIPTS:
        rfc, _, rest = rel.partition("/")
        name = "rfc-" + rfc.removeprefix("rfc") + "-" + rest.replace("/", "-")
        names.add(name)
        copy = FUZZ / name
        assert copy.is_file(), f"missing {copy}"
        assert copy.read_bytes() == (CORPUS / rel).read_bytes(), f"{copy} differs from {rel}"
    # and no copy of an example that is gone
    stale = sorted(p.name for p in FUZZ.glob("rfc-*.sieve") if p.name not in names)
    assert stale == [], stale


# ---- run ----------------------------------------------------------------

def now_fields(text):
    """{month} and {year} of the current local date (currentdate cases)."""
    if "{" not in text:
        return text
    now = time.localtime()
    return text.replace("{month}", "%02d" % now.tm_mon).replace("{year}", "%04d" % now.tm_year)


def expected_matches(exp, got):
    """Compares a case's expectation with the outcome; returns a problem
    text or None."""
    if exp.get("fails"):
        return None if got.get("fails") else "expected a run-time failure"
    if got.get("fails"):
        return "the run failed"
    performed = got["performed"]
    want = exp["actions"]
    if len(performed) != len(want):
        return f"expected {len(want)} actions, got {len(performed)}"
    for w, (head, details) in zip(want, performed):
        if isinstance(w, str):
            w = {"action": w}
        action = now_fields(w["action"])
        if head != action:
            return f"expected action {action!r}, got {head!r}"
        # IMAP flags are case-insensitive (RFC 3501), and the listing
        # writes system flags in lower case.
        lower = [line.lower() for line in details]
        for sub in w.get("with", []):
            if not any(sub.lower() in line for line in lower):
                return f"action {head!r}: no detail line with {sub!r} in {details}"
        if "details" in w and [d.lower() for d in w["details"]] != lower:
            return f"action {head!r}: details {details}, expected {w['details']}"
    keep = bool(got["keep"])
    if keep != exp["keep"]:
        return f"implicit keep {'happens' if keep else 'does not happen'}"
    return None


@pytest.mark.parametrize("rc", CASES, ids=case_id)
def test_example_actions(tamis, tmp_path, rc):
    rfc, case = rc
    d, m = MANIFESTS[rfc]
    r = run_tamis_case(tamis, d, m, case, tmp_path)
    got = outcome(r.returncode, r.stdout.decode())
    problem = expected_matches(case["expect"], got)
    assert problem is None, (problem, r.stdout.decode(), r.stderr.decode())


# ---- the oracle ---------------------------------------------------------

def sieve_test_usable():
    return os.path.isfile(SIEVE_TEST) and shutil.which("setpriv") is not None


def run_sieve_test(d, m, case):
    # sieve-test runs as nobody (it refuses root): a scratch folder it can
    # use, with copies of everything it reads.
    tmp = pathlib.Path(tempfile.mkdtemp(prefix="tamis-rfcex-"))
    try:
        os.chmod(tmp, 0o777)
        work = tmp / "w"
        shutil.copytree(d, work)
        for p in [work] + list(work.rglob("*")):
            os.chmod(p, 0o777 if p.is_dir() else 0o666)
        msg = tmp / "msg.eml"
        msg.write_bytes(message_bytes(d, case))
        os.chmod(msg, 0o644)
        # A mail store with IMAP METADATA (nothing set) for mboxmetadata.
        cmd = [SIEVE_TEST, "-l", f"maildir:{tmp}/Maildir", "-o", f"mail_attribute_dict=file:{tmp}/attributes"]
        cmd += tool_args(work, m, case.get("settings"), oracle=True)
        cmd += envelope_args(case) + [str(work / case["script"]), str(msg)]
        if os.geteuid() == 0:
            cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + cmd
        env = dict(os.environ, HOME=str(tmp))
        return subprocess.run(cmd, cwd=str(tmp), env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


ORACLE_CASES = [rc for rc in CASES if MANIFESTS[rc[0]][1].get("oracle") is True]


ORACLE_COMPILE_ERRORS = [(rfc, script) for rfc, (_, m) in MANIFESTS.items() if m.get("oracle") is True
                         for script in sorted(m.get("compile_errors", {}))]


@pytest.mark.skipif(not sieve_test_usable(), reason="sieve-test (Pigeonhole) not installed")
@pytest.mark.parametrize("rs", ORACLE_COMPILE_ERRORS, ids=lambda rs: f"{rs[0]}/{rs[1]}")
def test_compile_error_agrees_with_sieve_test(rs):
    # A script Tamis refuses must be refused by Pigeonhole too, with the
    # same message (the reasons in the manifests say "as Pigeonhole").
    rfc, script = rs
    d, m = MANIFESTS[rfc]
    case = {"script": script, "message": {"headers": [["From", "a@example.org"], ["To", "b@example.net"]]}}
    ref = run_sieve_test(d, m, case)
    assert ref.returncode == 89, (ref.stdout.decode(), ref.stderr.decode())
    assert m["compile_errors"][script]["error"] in ref.stderr.decode(), ref.stderr.decode()


@pytest.mark.skipif(not sieve_test_usable(), reason="sieve-test (Pigeonhole) not installed")
@pytest.mark.parametrize("rc", ORACLE_CASES, ids=case_id)
def test_example_agrees_with_sieve_test(tamis, tmp_path, rc):
    rfc, case = rc
    if case.get("oracle") is not None:
        pytest.skip(f"not compared: {case['oracle']}")
    d, m = MANIFESTS[rfc]
    mine = run_tamis_case(tamis, d, m, case, tmp_path)
    ref = run_sieve_test(d, m, case)
    # sieve-test exits 89 when the script does not compile, 1 on a run-time
    # failure; Tamis exits 1 for both (the case expectation says which).
    a = outcome(0 if ref.returncode == 0 else 1, ref.stdout.decode())
    b = outcome(mine.returncode, mine.stdout.decode())
    if a == b:
        return
    known = known_rfc_differences().get(case_id(rc))
    if known:
        pytest.xfail(f"known difference: {known}")
    raise AssertionError(f"sieve-test and tamis differ on {case_id(rc)}:\n"
                         f"sieve-test (exit {ref.returncode}):\n{ref.stdout.decode()}{ref.stderr.decode()}\n"
                         f"tamis (exit {mine.returncode}):\n{mine.stdout.decode()}{mine.stderr.decode()}")
