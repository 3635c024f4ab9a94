#!/usr/bin/python3
"""Runs Debian's sieve-test (the oracle) and `tamis test` on generated
pairs and compares them.

sieve-test (Pigeonhole 0.5.19) refuses to run as root, writes
<script>.svbin beside the script and needs a mail_location.  So each run
gets a scratch directory readable and writable by `nobody`, one
sub-directory per pair, and a minimal dovecot config; when we are root
sieve-test is started through
  setpriv --reuid=65534 --regid=65534 --clear-groups env -i HOME=... sieve-test -c CONF ...

Outcome classes (Result.cls):
  ok            exit 0
  compile-fail  sieve-test: exit 89 with "failed to compile" on stderr;
                tamis: exit 1 and a compile error on stderr (see tamis_class)
  runtime-fail  sieve-test: exit 1 ("final result: failed"); tamis: exit 1
                and "final result: failed" on stderr
  fail          tamis exit 1 that could be either of the two above
  crash         killed by a signal (sieve-test: Panic/abort = 134 too)
  timeout       did not finish in time
  error         anything else (bad option, fatal error of the tool, ...)

Command line: `oracle.py --help`.
"""

import argparse
import difflib
import fnmatch
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(HERE))
import gen  # noqa: E402

SIEVE_TEST = os.environ.get("SIEVE_TEST", "/usr/bin/sieve-test")
NOBODY_UID = 65534
NOBODY_GID = 65534
TIMEOUT = float(os.environ.get("DIFFTEST_TIMEOUT", "20"))
JOBS = int(os.environ.get("DIFFTEST_JOBS", str(min(4, max(2, os.cpu_count() or 2)))))

# Minimal dovecot config: sieve-test needs a mail_location; the sieve
# extension set is the 2.3 default (all that the generator may use are in
# it).  sieve_extensions can be extended here when a family needs more.
DOVECOT_CONF = """\
# written by tests/difftest/oracle.py
mail_location = maildir:~/Maildir
plugin {
  # the 2.3 default set already has every extension the generator uses;
  # add off-by-default ones here, e.g. "sieve_extensions = +editheader"
}
"""


@dataclass
class Result:
    cls: str
    status: int          # exit status, or -signal
    stdout: bytes
    stderr: bytes
    seconds: float = 0.0


def default_tamis():
    return os.environ.get("TAMIS") or str(REPO / "build" / "tamis")


def sieve_test_available():
    return os.path.isfile(SIEVE_TEST) and os.access(SIEVE_TEST, os.X_OK)


def tamis_available(path=None):
    path = path or default_tamis()
    return os.path.isfile(path) and os.access(path, os.X_OK)


def sieve_test_version():
    if not sieve_test_available():
        return "(sieve-test not installed)"
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", "dovecot-sieve"],
                             capture_output=True, timeout=10).stdout.decode().strip()
        return f"dovecot-sieve {out}" if out else SIEVE_TEST
    except (OSError, subprocess.SubprocessError):
        return SIEVE_TEST


# ---------------------------------------------------------------------------
# Scratch space

class Workspace:
    """A scratch directory with one sub-directory per pair."""

    def __init__(self, base=None, keep=False):
        base = base or os.environ.get("DIFFTEST_TMP") or None
        self.root = Path(tempfile.mkdtemp(prefix="tamis-difftest-", dir=base))
        self.keep = keep or bool(os.environ.get("DIFFTEST_KEEP"))
        self.as_root = os.geteuid() == 0
        os.chmod(self.root, 0o755)
        self.home = self.root / "home"
        self.home.mkdir()
        os.chmod(self.home, 0o777)
        self.conf = self.root / "dovecot.conf"
        self.conf.write_text(DOVECOT_CONF)
        os.chmod(self.conf, 0o644)
        # sieve-test must be able to reach the scratch dir when we are root:
        # the directories above it may be private (e.g. mode 0700 $TMPDIR)
        if self.as_root:
            p = self.root.parent
            while p != p.parent:
                st = p.stat()
                if not st.st_mode & 0o001:
                    raise RuntimeError(f"{p} is not searchable by nobody; set DIFFTEST_TMP")
                p = p.parent

    def pair_dir(self, pair, side):
        d = self.root / side / pair.id
        d.mkdir(parents=True, exist_ok=True)
        os.chmod(d.parent, 0o755)
        os.chmod(d, 0o777)
        script = d / "script.sieve"
        msg = d / "message.eml"
        script.write_bytes(pair.script)
        msg.write_bytes(pair.message)
        os.chmod(script, 0o644)
        os.chmod(msg, 0o644)
        # extra files (included scripts): sieve-test writes .svbin beside
        # them, so their directories are writable by nobody too
        for rel, data in getattr(pair, "files", ()):
            f = d / rel
            for sub in reversed(f.relative_to(d).parents[:-1]):
                (d / sub).mkdir(exist_ok=True)
                os.chmod(d / sub, 0o777)
            f.write_bytes(data)
            os.chmod(f, 0o644)
        return d, script, msg

    def cleanup(self):
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)


def _run(cmd, cwd, env, timeout=TIMEOUT):
    t0 = time.monotonic()
    try:
        cp = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, timeout=timeout,
                            stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        return None, e.stdout or b"", e.stderr or b"", time.monotonic() - t0
    return cp.returncode, cp.stdout, cp.stderr, time.monotonic() - t0


# ---------------------------------------------------------------------------
# The oracle

def pair_args(pair, d):
    """The pair's options, "{dir}" standing for its directory d."""
    return [a.replace("{dir}", str(d)) for a in pair.args]


def sieve_test_class(status, stderr):
    if status is None:
        return "timeout"
    if status < 0 or status == 128 + signal.SIGABRT or b"Panic:" in stderr:
        return "crash"
    if status == 0:
        return "ok"
    if status == 89 and b"failed to compile sieve script" in stderr:
        return "compile-fail"
    if status == 1 and b"final result: failed" in stderr:
        return "runtime-fail"
    return "error"


def run_sieve_test(ws, pair):
    d, script, msg = ws.pair_dir(pair, "oracle")
    cmd = [SIEVE_TEST, "-c", str(ws.conf)] + pair_args(pair, d) + [str(script), str(msg)]
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": str(ws.home), "LANG": "C"}
    if ws.as_root:
        cmd = ["setpriv", f"--reuid={NOBODY_UID}", f"--regid={NOBODY_GID}", "--clear-groups",
               "env", "-i"] + [f"{k}={v}" for k, v in env.items()] + cmd
    status, out, err, secs = _run(cmd, d, env)
    return Result(sieve_test_class(status, err), -1 if status is None else status, out, err, secs)


# ---------------------------------------------------------------------------
# Tamis

COMPILE_MARKERS = (b"failed to compile", b"parse failed", b"validation failed")
RUNTIME_MARKERS = (b"final result: failed",)


def tamis_class(status, stderr):
    """Exit 0 = ran, 1 = failed.  Tamis documents exit 1 for a compile
    failure; a run-time failure is told apart by Pigeonhole's wording on
    stderr when tamis prints it, otherwise the class stays "fail" and
    matches either failure of the oracle."""
    if status is None:
        return "timeout"
    if status < 0:
        return "crash"
    if status == 0:
        return "ok"
    if status == 1:
        if any(m in stderr for m in RUNTIME_MARKERS):
            return "runtime-fail"
        if any(m in stderr for m in COMPILE_MARKERS):
            return "compile-fail"
        return "fail"
    return "error"


def run_tamis(ws, pair, tamis):
    d, script, msg = ws.pair_dir(pair, "tamis")
    cmd = [tamis, "test"] + pair_args(pair, d) + [str(script), str(msg)]
    env = dict(os.environ)
    env.setdefault("HOME", str(ws.home))
    status, out, err, secs = _run(cmd, d, env)
    return Result(tamis_class(status, err), -1 if status is None else status, out, err, secs)


def run_mirror(ws, pair):
    """sieve-test standing in for tamis (exit 89 mapped to 1, as tamis
    documents): exercises the comparison and report without tamis."""
    r = run_sieve_test(ws, _Renamed(pair))
    status = 1 if r.status == 89 or r.cls == "crash" else r.status
    return Result(tamis_class(status, r.stderr), status, r.stdout, r.stderr, r.seconds)


class _Renamed:
    """A pair seen under another directory name (mirror runs)."""

    def __init__(self, pair):
        self._p = pair
        self.id = pair.id + ".mirror"

    def __getattr__(self, name):
        return getattr(self._p, name)


def run_all(pairs, fn, jobs=JOBS):
    """fn(pair) -> Result, run on `jobs` threads (the work is in the
    child processes).  Returns {pair id: Result}."""
    with ThreadPoolExecutor(max_workers=jobs) as ex:
        results = list(ex.map(fn, pairs))
    return {p.id: r for p, r in zip(pairs, results)}


# ---------------------------------------------------------------------------
# Comparison

_MASKS = [
    (re.compile(rb"^(Date:).*$", re.M), rb"\1 <masked>"),
    (re.compile(rb"^(Message-ID:\s*<dovecot-sieve-).*$", re.M | re.I), rb"\1<masked>"),
    (re.compile(rb"(X-Sieve: Pigeonhole Sieve )\S+( \([0-9a-f]+\))?"), rb"\1<version>"),
]


def normalize(stdout):
    """The normalisation of pigeonhole.md 4.2.  Without -e the action
    listing has no dates, ids or versions, so this changes nothing for the
    pairs we generate; it is kept for -e runs."""
    for rx, rep in _MASKS:
        stdout = rx.sub(rep, stdout)
    return stdout


def classes_agree(ref, got):
    if ref == got:
        return True
    return got == "fail" and ref in ("compile-fail", "runtime-fail")


def compare(pair, ref, got):
    """Returns a list of problems (strings); empty when the pair agrees."""
    problems = []
    if got.cls in ("crash", "timeout"):
        problems.append(f"tamis {got.cls} (status {got.status})")
        return problems
    if pair.exclude:
        # the oracle is not usable; tamis only has to exit 0 or 1
        if got.status not in (0, 1):
            problems.append(f"tamis exit status {got.status} (expected 0 or 1)")
        return problems
    if ref.cls in ("crash", "timeout", "error"):
        problems.append(f"oracle {ref.cls} (status {ref.status}) on a pair not marked excluded")
        return problems
    if got.cls == "error":
        problems.append(f"tamis exit status {got.status} (expected 0 or 1)")
    elif not classes_agree(ref.cls, got.cls):
        problems.append(f"outcome differs: sieve-test {ref.cls} (exit {ref.status}), "
                        f"tamis {got.cls} (exit {got.status})")
    if normalize(ref.stdout) != normalize(got.stdout):
        problems.append("stdout differs")
    return problems


# ---------------------------------------------------------------------------
# Known differences

@dataclass
class Known:
    pattern: str
    reason: str
    line: int
    used: int = 0

    def matches(self, pair):
        if self.pattern.startswith("script~"):
            return re.search(self.pattern[len("script~"):],
                             pair.script.decode("utf-8", "replace")) is not None
        if self.pattern.startswith("note~"):
            return re.search(self.pattern[len("note~"):], pair.note) is not None
        return fnmatch.fnmatchcase(pair.id, self.pattern)


def load_known(path=None):
    """Table rows `| `pattern` | reason |` of known-differences.md
    (env DIFFTEST_KNOWN names another file)."""
    path = path or os.environ.get("DIFFTEST_KNOWN") or HERE / "known-differences.md"
    out = []
    if not Path(path).exists():
        return out
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        m = re.match(r"^\|\s*`([^`]+)`\s*\|(.*)\|\s*$", line)
        if m:
            out.append(Known(m.group(1), m.group(2).strip(), n))
    return out


def known_for(pair, known):
    for k in known:
        if k.matches(pair):
            return k
    return None


# ---------------------------------------------------------------------------
# Report

def _text(b):
    return b.decode("utf-8", "backslashreplace")


def render_pair_outcome(pair, ref, got, problems, max_message_lines=None):
    out = [gen.describe(pair, max_message_lines)]
    if problems:
        out.append("-- problems: " + "; ".join(problems))
    if ref is not None:
        out.append(f"-- sieve-test: {ref.cls} (exit {ref.status})")
        out.append("   stderr: " + _text(ref.stderr).strip().replace("\n", "\n           "))
    if got is not None:
        out.append(f"-- tamis: {got.cls} (exit {got.status})")
        out.append("   stderr: " + _text(got.stderr).strip().replace("\n", "\n           "))
    if ref is not None and got is not None and normalize(ref.stdout) != normalize(got.stdout):
        diff = difflib.unified_diff(
            _text(normalize(ref.stdout)).splitlines(keepends=True),
            _text(normalize(got.stdout)).splitlines(keepends=True),
            "sieve-test", "tamis", n=20)
        out.append("-- stdout diff (- sieve-test, + tamis):")
        out.append("".join(d if d.endswith("\n") else d + "\n\\ no newline\n"
                           for d in diff).rstrip("\n"))
    elif ref is not None:
        out.append("-- stdout (both):" if got is not None else "-- sieve-test stdout:")
        out.append(_text(ref.stdout).rstrip("\n") or "(empty)")
    return "\n".join(out)


@dataclass
class Comparison:
    pairs: list
    oracle: dict
    tamis: dict
    mismatches: list        # (pair, problems) not covered by known-differences
    known_hits: list        # (pair, problems, Known)
    excluded: list          # pairs not compared
    known: list
    seconds: dict


def compare_all(pairs, oracle, tamis, known):
    mism, hits, excluded = [], [], []
    for p in pairs:
        ref, got = oracle[p.id], tamis[p.id]
        problems = compare(p, ref, got)
        if p.exclude:
            excluded.append(p)
        if not problems:
            continue
        k = known_for(p, known)
        # a crash of tamis is never an accepted difference
        if k and not any(s.startswith("tamis crash") or s.startswith("tamis timeout")
                         for s in problems):
            k.used += 1
            hits.append((p, problems, k))
        else:
            mism.append((p, problems))
    return mism, hits, excluded


def write_report(path, cmp, header):
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [header, ""]
    fams = {}
    for p in cmp.pairs:
        fams.setdefault(p.family, [0, 0])[0] += 1
    for p, _ in cmp.mismatches:
        fams[p.family][1] += 1
    lines.append("Per family (pairs / unexpected mismatches):")
    for f, (n, m) in fams.items():
        lines.append(f"  {f:12s} {n:5d} {m:5d}")
    lines.append("")
    lines.append(f"Unexpected mismatches: {len(cmp.mismatches)}")
    lines.append(f"Known differences hit: {len(cmp.known_hits)}")
    lines.append(f"Excluded (oracle unusable): {len(cmp.excluded)}")
    stale = [k for k in cmp.known if not k.used]
    if stale:
        lines.append("Known-differences entries that matched nothing in this run:")
        for k in stale:
            lines.append(f"  line {k.line}: `{k.pattern}`")
    lines.append("")
    for title, items in (("UNEXPECTED MISMATCH", [(p, pr, None) for p, pr in cmp.mismatches]),
                         ("KNOWN DIFFERENCE", cmp.known_hits)):
        for p, pr, k in items:
            lines.append("=" * 78)
            lines.append(f"{title}: {p.id}" + (f"  (known-differences.md line {k.line}: {k.reason})"
                                                 if k else ""))
            lines.append(render_pair_outcome(p, cmp.oracle[p.id], cmp.tamis[p.id], pr))
            lines.append("")
    if cmp.excluded:
        lines.append("=" * 78)
        lines.append("EXCLUDED PAIRS (tamis checked for exit 0/1 only):")
        for p in cmp.excluded:
            t = cmp.tamis.get(p.id)
            lines.append(f"  {p.id}: {p.exclude}; tamis exit {t.status if t else '?'}")
    path.write_text("\n".join(lines) + "\n")


def oracle_self_check(pairs, oracle):
    """Pairs where sieve-test's outcome is not what the generator meant."""
    bad = []
    for p in pairs:
        r = oracle[p.id]
        if r.cls not in p.expect.split("|"):
            bad.append((p, r))
    return bad


# ---------------------------------------------------------------------------
# Command line

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--count", type=int, default=None)
    ap.add_argument("--extensions", default=None, help="comma separated, or 'all'")
    ap.add_argument("--jobs", type=int, default=JOBS)
    ap.add_argument("--only", metavar="ID_GLOB", help="restrict to matching pair ids")
    ap.add_argument("--verify", action="store_true",
                    help="oracle only: check sieve-test agrees with the generator's intent")
    ap.add_argument("--tamis", default=None, help="tamis binary (default $TAMIS or build/tamis)")
    ap.add_argument("--mirror", action="store_true",
                    help="compare sieve-test with itself (checks the harness without tamis)")
    ap.add_argument("--report", default=os.environ.get("DIFFTEST_REPORT")
                    or str(REPO / "build" / "difftest-report.txt"))
    ap.add_argument("--show", action="store_true", help="print every selected pair with outputs")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    a = ap.parse_args(argv)

    enabled = None
    if a.extensions is not None:
        enabled = gen.enabled_extensions(env={"DIFFTEST_EXTENSIONS": a.extensions})
    t0 = time.monotonic()
    pairs = gen.generate(a.seed, a.count, enabled)
    if a.only:
        pairs = [p for p in pairs if fnmatch.fnmatchcase(p.id, a.only)]
    t_gen = time.monotonic() - t0
    if not sieve_test_available():
        print(f"sieve-test not found at {SIEVE_TEST}", file=sys.stderr)
        return 2
    ws = Workspace(keep=a.keep)
    try:
        t1 = time.monotonic()
        oracle = run_all(pairs, lambda p: run_sieve_test(ws, p), a.jobs)
        t_oracle = time.monotonic() - t1
        per = sum(r.seconds for r in oracle.values()) / max(1, len(oracle))
        print(f"{len(pairs)} pairs generated in {t_gen:.2f}s; sieve-test on {a.jobs} jobs: "
              f"{t_oracle:.2f}s wall, {per * 1000:.1f} ms per invocation")
        classes = {}
        for r in oracle.values():
            classes[r.cls] = classes.get(r.cls, 0) + 1
        print("sieve-test outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(classes.items())))
        bad = oracle_self_check(pairs, oracle)
        for p, r in bad:
            print("=" * 78)
            print(f"GENERATOR INTENT MISMATCH: expected {p.expect}, sieve-test {r.cls}")
            print(render_pair_outcome(p, r, None, []))
        print(f"generator intent mismatches: {len(bad)}")
        if a.show:
            for p in pairs:
                print("=" * 78)
                print(render_pair_outcome(p, oracle[p.id], None, []))
        if a.verify:
            return 1 if bad else 0
        tamis = a.tamis or default_tamis()
        if a.mirror:
            runner = lambda p: run_mirror(ws, p)  # noqa: E731
        elif not tamis_available(tamis):
            print(f"tamis not found at {tamis}; oracle side only", file=sys.stderr)
            return 1 if bad else 0
        else:
            runner = lambda p: run_tamis(ws, p, tamis)  # noqa: E731
        t2 = time.monotonic()
        got = run_all(pairs, runner, a.jobs)
        t_tamis = time.monotonic() - t2
        known = load_known()
        mism, hits, excluded = compare_all(pairs, oracle, got, known)
        cmp = Comparison(pairs, oracle, got, mism, hits, excluded, known,
                         {"oracle": t_oracle, "tamis": t_tamis})
        write_report(a.report, cmp, report_header(pairs, a.seed, a.count, enabled, cmp))
        print(f"tamis: {t_tamis:.2f}s wall; unexpected mismatches {len(mism)}, "
              f"known differences {len(hits)}, excluded {len(excluded)}; report: {a.report}")
        return 1 if mism else 0
    finally:
        ws.cleanup()


def report_header(pairs, seed, count, enabled, cmp):
    seed = seed if seed is not None else int(os.environ.get("DIFFTEST_SEED", gen.DEFAULT_SEED))
    count = count if count is not None else int(os.environ.get("DIFFTEST_COUNT", gen.DEFAULT_COUNT))
    enabled = enabled if enabled is not None else gen.enabled_extensions()
    return "\n".join([
        "Tamis differential test report (tamis test vs sieve-test)",
        f"generator version {gen.GEN_VERSION}, seed {seed}, count {count}, "
        f"enabled extensions: {' '.join(enabled) or '(none)'}",
        f"oracle: {sieve_test_version()}",
        f"pairs: {len(pairs)}; sieve-test {cmp.seconds.get('oracle', 0):.1f}s, "
        f"tamis {cmp.seconds.get('tamis', 0):.1f}s",
        "Reproduce one pair: tests/difftest/gen.py --show <id>; "
        "tests/difftest/oracle.py --only <id> --show",
    ])


if __name__ == "__main__":
    sys.exit(main())
