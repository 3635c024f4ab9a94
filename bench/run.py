#!/usr/bin/env python3
"""bench/run.py: Tamis's compile and run benchmark, side by side with
Pigeonhole's sievec (`make bench`).

    bench/run.py --tamis build/tamis [--runs 21] [--rules 3000]
                 [--messages 10000] [--write bench/RESULTS.md]

1. bench/gen.py writes a 3,000-rule script (about 250 KB) and 1,000 messages
   into a temporary folder.
2. Whole process, side by side: `tamis compile SCRIPT OUT` and
   `sievec SCRIPT OUT` are run alternately RUNS times each (after one warm-up
   run each), as user nobody when we are root, and the medians of their wall
   time and of their CPU time (user + sys, children included: sievec starts
   doveconf) are compared.  CPU time is the steadier of the two on a busy
   machine; wall time is what a user waits for.
3. In one process: `tamis bench compile SCRIPT 20` (compile only, median)
   and `tamis bench run SCRIPT MSGDIR 10000` (parse + run 10,000 messages).
4. Prints a Markdown report (and writes it with --write).

Exit status 0 when Tamis compiled faster than sievec (median wall and CPU
time), 1 when it did not, 2 on an error.
"""
import argparse
import datetime
import os
import platform
import pwd
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def run_timed(cmd, as_nobody):
    """Runs cmd; returns (wall seconds, CPU seconds of it and its children)."""
    kw = {}
    if as_nobody:
        kw = {"user": "nobody", "group": pwd.getpwnam("nobody").pw_gid}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr.decode(errors='replace')[:2000]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def keyvals(line):
    """'compile: a=1 b=2' -> {'a': '1', 'b': '2'}"""
    out = {}
    for tok in line.split()[1:]:
        k, _, v = tok.partition("=")
        out[k] = v
    return out


def tamis_bench(tamis, *args):
    p = subprocess.run([tamis, "bench", *args], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"tamis bench {' '.join(args)} failed: {p.stderr[:2000]}")
    return keyvals(p.stdout.strip().splitlines()[-1])


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def version(cmd):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return (p.stdout or p.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.SubprocessError):
        return "unknown"


def main():
    ap = argparse.ArgumentParser(description="Tamis vs sievec compile benchmark")
    ap.add_argument("--tamis", default=os.path.join(HERE, "..", "build", "tamis"))
    ap.add_argument("--sievec", default=shutil.which("sievec") or "/usr/bin/sievec")
    ap.add_argument("--runs", type=int, default=21, help="whole-process runs of each (default 21)")
    ap.add_argument("--rules", type=int, default=3000)
    ap.add_argument("--messages", type=int, default=10000)
    ap.add_argument("--write", metavar="FILE", help="also write the report to FILE")
    a = ap.parse_args()

    tamis = os.path.abspath(a.tamis)
    if not os.access(tamis, os.X_OK):
        print(f"bench: {tamis} not found: run make first", file=sys.stderr)
        return 2
    have_sievec = os.access(a.sievec, os.X_OK)
    as_nobody = os.geteuid() == 0

    tmp = tempfile.mkdtemp(prefix="tamis-bench-")
    try:
        os.chmod(tmp, 0o777)   # nobody writes the compiled binaries here
        script = os.path.join(tmp, "bench.sieve")
        msgdir = os.path.join(tmp, "msgs")
        with open(script, "w") as f:
            subprocess.run([sys.executable, os.path.join(HERE, "gen.py"), "script", "--rules", str(a.rules)],
                           stdout=f, check=True)
        os.chmod(script, 0o644)
        subprocess.run([sys.executable, os.path.join(HERE, "gen.py"), "messages", msgdir, "--count", "1000"],
                       check=True)
        size = os.path.getsize(script)

        t_cmd = [tamis, "compile", script, os.path.join(tmp, "bench.tmsbin")]
        s_cmd = [a.sievec, script, os.path.join(tmp, "bench.svbin")]
        # Warm-up (page cache, dynamic loader), then alternate the two so
        # that both see the same machine load.
        run_timed(t_cmd, as_nobody)
        if have_sievec:
            run_timed(s_cmd, as_nobody)
        tw, tc, sw, sc = [], [], [], []
        for _ in range(a.runs):
            w, c = run_timed(t_cmd, as_nobody)
            tw.append(w)
            tc.append(c)
            if have_sievec:
                w, c = run_timed(s_cmd, as_nobody)
                sw.append(w)
                sc.append(c)

        comp = tamis_bench(tamis, "compile", script, "20")
        run = tamis_bench(tamis, "run", script, msgdir, str(a.messages))
    except (RuntimeError, OSError, subprocess.CalledProcessError) as e:
        print(f"bench: {e}", file=sys.stderr)
        return 2
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    med = statistics.median
    ms = lambda s: f"{s * 1e3:.1f} ms"   # noqa: E731
    rules = int(comp["rules"])
    lines = []
    out = lines.append
    out(f"## Run of {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}")
    out("")
    out(f"- machine: {cpu_model()}, {os.cpu_count()} CPUs, load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end")
    out(f"- tamis: {version([tamis, '--version'])} (`{os.path.relpath(tamis)}`); sievec: "
        f"{version(['dpkg-query', '-W', '-f', '${Package} ${Version}', 'dovecot-sieve'])}")
    out(f"- script: bench/gen.py, {rules} rules, {size / 1024:.0f} KB; "
        f"whole-process runs: {a.runs} of each, alternated, as {'nobody' if as_nobody else 'the current user'}")
    out("")
    out("| measure | Tamis | Pigeonhole sievec | sievec / Tamis |")
    out("|---|---:|---:|---:|")
    if have_sievec:
        out(f"| compile, whole process, wall time (median) | {ms(med(tw))} | {ms(med(sw))} | "
            f"{med(sw) / med(tw):.2f}x |")
        out(f"| compile, whole process, CPU time (median) | {ms(med(tc))} | {ms(med(sc))} | "
            f"{med(sc) / med(tc):.2f}x |")
        out(f"| rules/s, whole process (wall) | {rules / med(tw):,.0f} | {rules / med(sw):,.0f} | |")
    else:
        out(f"| compile, whole process, wall time (median) | {ms(med(tw))} | (no sievec) | |")
        out(f"| compile, whole process, CPU time (median) | {ms(med(tc))} | (no sievec) | |")
    out(f"| compile in one process (median of {comp['iterations']}) | {float(comp['median_ms']):.1f} ms | | |")
    out(f"| rules/s, in one process | {float(comp['rules_per_s']):,.0f} | | |")
    out(f"| messages/s, {int(run['messages']):,} messages in one process | "
        f"{float(run['messages_per_s']):,.0f} ({float(run['us_per_message']):.1f} us each) | | |")
    out("")
    faster = have_sievec and med(tw) < med(sw) and med(tc) < med(sc)
    if have_sievec:
        out(f"Tamis faster than sievec (whole process, wall and CPU medians): {'yes' if faster else 'NO'}.")
    out(f"Run: {run['actions']} actions, {run['implicit_keeps']} implicit keeps, "
        f"{run['failures']} failed runs.")
    report = "\n".join(lines) + "\n"
    print(report, end="")
    if a.write:
        with open(a.write, "a") as f:
            f.write("\n" + report)
    return 0 if faster else 1


if __name__ == "__main__":
    sys.exit(main())
