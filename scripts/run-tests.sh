#!/bin/bash
# Run the whole test suite: every cmocka unit test binary in $BUILD/tests, then
# the pytest suite in tests/py against $BUILD/tamis.
#
#   BUILD=build PYTHON=/usr/bin/python3 scripts/run-tests.sh     (what `make test` does)
#
# Every part runs even when an earlier one fails.  A per-part summary comes
# first, and the very last line is always "N passed, N failed" (unit test
# cases plus pytest tests).  Exit status is 1 when anything failed.
#
# Env: BUILD (default build), PYTHON (default /usr/bin/python3: Debian's python
# has python3-pytest, a pyenv python3 earlier on PATH may not), UNIT_TIMEOUT
# (seconds per unit test binary, default 300), PYTEST_ARGS (extra arguments).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-/usr/bin/python3}
UNIT_TIMEOUT=${UNIT_TIMEOUT:-300}
case $BUILD in /*) ABS_BUILD=$BUILD ;; *) ABS_BUILD=$PWD/$BUILD ;; esac

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

summary=()
total_pass=0
total_fail=0

# --- unit tests (cmocka) ---------------------------------------------------
# cmocka prints "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s), listed
# below:" per group (1.1.x: possibly "[  FAILED  ] group: N test(s)").  Its
# stdout and stderr may interleave mid-line, so match anywhere in the text.
unit_pass=0 unit_fail=0 unit_bins=0 unit_bad=()
echo "=== unit tests ($BUILD/tests)"
shopt -s nullglob
bins=()
for f in "$BUILD"/tests/test_*; do
    [ -f "$f" ] && [ -x "$f" ] && bins+=("$f")
done
shopt -u nullglob
buf=()
command -v stdbuf >/dev/null 2>&1 && buf=(stdbuf -oL -eL)
if [ ${#bins[@]} -eq 0 ]; then
    echo "no unit test binaries in $BUILD/tests"
fi
for t in "${bins[@]}"; do
    unit_bins=$((unit_bins + 1))
    echo "--- $t"
    out=$tmp/unit.out
    CMOCKA_MESSAGE_OUTPUT=stdout timeout -k 10 "$UNIT_TIMEOUT" "${buf[@]}" "$t" </dev/null >"$out" 2>&1
    rc=$?
    cat "$out"
    p=$(grep -oE '\[  PASSED  \] [0-9]+ test\(s\)' "$out" | grep -oE '[0-9]+' | awk '{s+=$1} END {print s+0}')
    f=$(grep -oE '\[  FAILED  \] ([^][]*: )?[0-9]+ test\(s\)' "$out" | grep -oE '[0-9]+ test' \
        | grep -oE '[0-9]+' | awk '{s+=$1} END {print s+0}')
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        # Crashed, timed out or failed outside a test case: one failure.
        case $rc in
            124|137) why="timed out after ${UNIT_TIMEOUT}s" ;;
            *) if [ "$rc" -gt 128 ]; then why="killed by signal $((rc - 128))"; else why="exit status $rc"; fi ;;
        esac
        echo "!!! $t: $why without a cmocka failure count; counting 1 failure"
        f=1
    elif [ "$rc" -eq 0 ] && [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
        echo "!!! $t: no cmocka summary found (no test cases ran?)"
    fi
    [ "$f" -gt 0 ] && unit_bad+=("$(basename "$t")")
    unit_pass=$((unit_pass + p))
    unit_fail=$((unit_fail + f))
done
line="unit:   $unit_pass passed, $unit_fail failed ($unit_bins binaries)"
[ ${#unit_bad[@]} -gt 0 ] && line+="; failing: ${unit_bad[*]}"
summary+=("$line")
total_pass=$((total_pass + unit_pass))
total_fail=$((total_fail + unit_fail))

# --- pytest ------------------------------------------------------------------
py_pass=0 py_fail=0 py_note=""
echo
echo "=== pytest (tests/py, TAMIS=$ABS_BUILD/tamis, $PYTHON)"
if [ ! -d tests/py ]; then
    py_note="no tests/py folder"
    echo "$py_note"
elif ! "$PYTHON" -c 'import pytest' >/dev/null 2>&1; then
    py_note="cannot import pytest with $PYTHON (run scripts/deps.sh)"
    echo "!!! $py_note"
    py_fail=1
else
    out=$tmp/pytest.out
    # shellcheck disable=SC2086
    TAMIS=$ABS_BUILD/tamis "$PYTHON" -m pytest -q -rfEs -p no:cacheprovider tests/py ${PYTEST_ARGS:-} \
        </dev/null 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    # The summary is the last line naming counts, e.g.
    # "3 passed, 1 failed, 2 skipped in 0.12s" or "= 1 error in 0.05s =".
    sline=$(grep -E '[0-9]+ (passed|failed|errors?|skipped|xfailed|xpassed|deselected)|no tests ran' "$out" \
        | grep -E ' in [0-9.]+s' | tail -n 1)
    count() { printf '%s\n' "$sline" | grep -oE "[0-9]+ $1\\b" | grep -oE '^[0-9]+' | head -n 1; }
    passed=$(count passed); failed=$(count failed); errors=$(count 'errors?')
    xpassed=$(count xpassed); skipped=$(count skipped)
    py_pass=$(( ${passed:-0} + ${xpassed:-0} ))
    py_fail=$(( ${failed:-0} + ${errors:-0} ))
    [ -n "${skipped:-}" ] && py_note="${skipped} skipped"
    case $rc in
        0) ;;
        5) py_note="no tests collected" ;;
        *) if [ "$py_fail" -eq 0 ]; then
               py_note="pytest exited $rc without a failure count; counting 1 failure"
               echo "!!! $py_note"
               py_fail=1
           fi ;;
    esac
fi
line="pytest: $py_pass passed, $py_fail failed"
[ -n "$py_note" ] && line+=" ($py_note)"
summary+=("$line")
total_pass=$((total_pass + py_pass))
total_fail=$((total_fail + py_fail))

# --- summary -----------------------------------------------------------------
echo
echo "=== summary"
printf '%s\n' "${summary[@]}"
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
