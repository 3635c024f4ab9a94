"""Differential test: `tamis test` against Debian's `sieve-test` on
generated script/message pairs (tests/difftest/, see its README.md).

Environment: TAMIS (binary, default build/tamis), DIFFTEST_SEED (1),
DIFFTEST_COUNT (400), DIFFTEST_EXTENSIONS (overrides
tests/difftest/enabled-extensions), DIFFTEST_JOBS, DIFFTEST_REPORT
(default build/difftest-report.txt), DIFFTEST_KEEP=1 keeps the scratch dir.

Skips cleanly when sieve-test or tamis is missing.
"""

import os
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "difftest"))

import gen  # noqa: E402
import oracle  # noqa: E402

PAIRS = gen.generate()
FAMILIES = list(dict.fromkeys(p.family for p in PAIRS))
REPORT = Path(os.environ.get("DIFFTEST_REPORT", REPO / "build" / "difftest-report.txt"))
SHOW_IN_FAILURE = 8       # pairs rendered in full in a failure message


@pytest.fixture(scope="module")
def workspace():
    ws = oracle.Workspace()
    yield ws
    ws.cleanup()


@pytest.fixture(scope="module")
def oracle_results(workspace):
    if not oracle.sieve_test_available():
        pytest.skip(f"sieve-test not installed ({oracle.SIEVE_TEST})")
    t0 = time.monotonic()
    res = oracle.run_all(PAIRS, lambda p: oracle.run_sieve_test(workspace, p))
    res["__seconds__"] = time.monotonic() - t0
    return res


@pytest.fixture(scope="module")
def tamis_results(workspace):
    tamis = oracle.default_tamis()
    if not oracle.tamis_available(tamis):
        pytest.skip(f"tamis not built ({tamis})")
    t0 = time.monotonic()
    res = oracle.run_all(PAIRS, lambda p: oracle.run_tamis(workspace, p, tamis))
    res["__seconds__"] = time.monotonic() - t0
    return res


@pytest.fixture(scope="module")
def comparison(oracle_results, tamis_results):
    known = oracle.load_known()
    mism, hits, excluded = oracle.compare_all(PAIRS, oracle_results, tamis_results, known)
    cmp = oracle.Comparison(PAIRS, oracle_results, tamis_results, mism, hits, excluded, known,
                            {"oracle": oracle_results["__seconds__"],
                             "tamis": tamis_results["__seconds__"]})
    oracle.write_report(REPORT, cmp, oracle.report_header(PAIRS, None, None, None, cmp))
    return cmp


# ---------------------------------------------------------------------------
# Generator (needs neither tool)

def test_generator_is_deterministic():
    a = gen.generate()
    b = gen.generate()
    assert [(p.id, p.fingerprint) for p in a] == [(p.id, p.fingerprint) for p in b]
    # a smaller count yields a subset of the same pairs: ids are stable
    small = {p.id: p.fingerprint for p in gen.generate(count=50)}
    full = {p.id: p.fingerprint for p in a}
    assert all(full.get(i) == f for i, f in small.items())


def test_generator_covers_the_base_language():
    if int(os.environ.get("DIFFTEST_COUNT", gen.DEFAULT_COUNT)) < 300:
        pytest.skip("coverage is only asserted for DIFFTEST_COUNT >= 300")
    if int(os.environ.get("DIFFTEST_SEED", gen.DEFAULT_SEED)) != gen.DEFAULT_SEED:
        # Which constructs appear is random per seed (a seed may draw no
        # `text:` string); the default seed is the one make test and CI
        # run, and its pairs are asserted to cover the base language.
        pytest.skip("coverage is asserted for the default seed; other seeds explore")
    assert len(PAIRS) >= 300
    assert len({p.id for p in PAIRS}) == len(PAIRS)
    scripts = b"\n".join(p.script for p in PAIRS if p.expect in (gen.OK, gen.OK_OR_RUNTIME))
    for needle in [b"elsif", b"else", b"allof", b"anyof", b"not ", b":is", b":contains",
                   b":matches", b'"i;octet"', b'"i;ascii-casemap"', b'"i;ascii-numeric"',
                   b":all", b":localpart", b":domain", b"header", b"address", b"exists",
                   b"size :over", b"size :under", b"true", b"false", b"keep;", b"discard;",
                   b"stop;", b"redirect", b"fileinto", b"envelope", b"text:"]:
        assert needle in scripts, needle
    msgs = b"\n".join(p.message for p in PAIRS)
    for needle in [b"=?UTF-8?B?", b"=?UTF-8?Q?", b"\n\t", b"\r\n", "ü".encode(), b"\xfc",
                   b":;", b"Cc:"]:
        assert needle in msgs, needle
    args = [a for p in PAIRS for a in p.args]
    for opt in ["-f", "-r", "-a", "-m"]:
        assert opt in args
    kinds = {p.expect for p in PAIRS}
    assert {gen.OK, gen.COMPILE_FAIL, gen.RUNTIME_FAIL, gen.ORACLE_CRASH} <= kinds
    invalid = sum(p.expect == gen.COMPILE_FAIL for p in PAIRS)
    assert invalid >= len(PAIRS) // 10


def test_known_differences_file_parses():
    for k in oracle.load_known():
        assert k.reason, f"known-differences.md line {k.line}: `{k.pattern}` has no reason"


# ---------------------------------------------------------------------------
# Oracle (needs sieve-test)

def test_oracle_agrees_with_generator_intent(oracle_results):
    """sieve-test accepts the valid scripts, rejects the invalid ones,
    fails at run time on the runtime ones and crashes on the excluded
    ones: otherwise the generator does not produce what it claims."""
    bad = oracle.oracle_self_check(PAIRS, oracle_results)
    if bad:
        text = "\n\n".join(oracle.render_pair_outcome(p, r, None, [f"expected {p.expect}"], 40)
                           for p, r in bad[:SHOW_IN_FAILURE])
        pytest.fail(f"{len(bad)} pair(s) where sieve-test disagrees with the generator's "
                    f"intent: {[p.id for p, _ in bad]}\n\n{text}")


# ---------------------------------------------------------------------------
# Differential (needs both)

@pytest.mark.parametrize("family", FAMILIES)
def test_differential(family, comparison):
    mism = [(p, pr) for p, pr in comparison.mismatches if p.family == family]
    if not mism:
        return
    lines = [f"{len(mism)} unexpected difference(s) in family '{family}' "
             f"(full report: {REPORT}; accepted ones go in "
             f"tests/difftest/known-differences.md):"]
    lines += [f"  {p.id}: {'; '.join(pr)}  [{p.note}]" for p, pr in mism]
    for p, pr in mism[:SHOW_IN_FAILURE]:
        lines.append("=" * 70)
        lines.append(oracle.render_pair_outcome(p, comparison.oracle[p.id],
                                                comparison.tamis[p.id], pr, 40))
    pytest.fail("\n".join(lines), pytrace=False)


def test_tamis_survives_pairs_that_crash_the_oracle(tamis_results):
    """The excluded pairs are not compared, but tamis must exit 0 or 1."""
    bad = [(p, tamis_results[p.id]) for p in PAIRS if p.exclude
           and tamis_results[p.id].status not in (0, 1)]
    assert not bad, "\n\n".join(
        oracle.render_pair_outcome(p, None, r, [f"tamis exit {r.status}"]) for p, r in bad)
