#!/bin/bash
# fuzz/run.sh: runs the libFuzzer targets built by `make fuzz` (see
# fuzz/README.md).
#
#   fuzz/run.sh smoke [SECONDS]   each fuzzer SECONDS (default 20) over a scratch
#                                 copy of its committed corpus; exit 1 on a finding
#   fuzz/run.sh seeds             (re)generate run-time seeds in build-fuzz/seeds:
#                                 compile/ = Pigeonhole's scripts from ../shared,
#                                 binary/  = those and fuzz/corpus/compile compiled
#   fuzz/run.sh long [SECONDS]    the fuzzers of FUZZ_TARGETS in parallel for
#                                 SECONDS (default 600, or FUZZ_TIME), new inputs in
#                                 build-fuzz/work-all/NAME (work-own/NAME with
#                                 FUZZ_SEEDS=own), logs in build-fuzz/logs
#   fuzz/run.sh merge             minimize fuzz/corpus/NAME + build-fuzz/work-own/NAME
#                                 back into fuzz/corpus/NAME, for FUZZ_TARGETS
#
# Env: TAMIS (tamis binary for `seeds`, default build/tamis); FUZZ_TIME;
# FUZZ_SEEDS=own: run without the seeds generated from ../shared (only such
# a run's inputs are merged into the committed corpus, which so holds no
# Pigeonhole text); FUZZ_TARGETS: the fuzzers `long` and `merge` run
# (default "compile binary message": three fuzzers share the CPUs, two on
# the usual VM, so each gets about two thirds of one; set it to fewer for
# more executions each).
# Findings (crash-*, leak-*, timeout-*, oom-*) land in build-fuzz/artifacts/.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
BIN=build-fuzz/fuzz
ART=build-fuzz/artifacts
TAMIS=${TAMIS:-build/tamis}
PIGEONHOLE=../shared/conformance/pigeonhole-0.5.19/tests
COMMON=(-rss_limit_mb=2048 -timeout=10 -print_final_stats=1)
TARGETS=${FUZZ_TARGETS:-compile binary message}

# Corpus folder name of a fuzzer: fuzz_compile -> compile.
corpus_name() { basename "$1" | sed 's/^fuzz_//'; }

extra_args() {
    case $1 in
        compile) echo "-dict=fuzz/sieve.dict -max_len=8192" ;;
        binary) echo "-max_len=16384" ;;
        message) echo "-dict=fuzz/message.dict -max_len=65536" ;;
        *) echo "" ;;
    esac
}

# Every extension name a script may require: the registry's names (unknown
# names in the setting are ignored by the engine).
all_extensions() {
    grep -ho '\.name = "[^"@]*"' sieve/ext/*.c | sed 's/.*"\(.*\)"/+\1/' | sort -u | tr '\n' ' '
}

smoke() {
    local secs=${1:-20} rc=0 tmp
    tmp=$(mktemp -d) || exit 1
    mkdir -p "$ART"
    for f in "$BIN"/fuzz_*; do
        [ -x "$f" ] || continue
        local n
        n=$(corpus_name "$f")
        mkdir -p "$tmp/$n"
        [ -d "fuzz/corpus/$n" ] && cp -r "fuzz/corpus/$n/." "$tmp/$n/"
        echo "=== $n: ${secs}s over $(find "$tmp/$n" -type f | wc -l) corpus files"
        # shellcheck disable=SC2046
        if ! "$f" "${COMMON[@]}" $(extra_args "$n") -max_total_time="$secs" \
             -artifact_prefix="$ART/$n-" "$tmp/$n" >"$tmp/$n.log" 2>&1; then
            echo "!!! $n: finding (see $ART/$n-*)"
            tail -n 40 "$tmp/$n.log"
            rc=1
        fi
        grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$tmp/$n.log" | sed "s/^/    /"
    done
    rm -rf "$tmp"
    return $rc
}

seeds() {
    local exts out=build-fuzz/seeds
    exts=$(all_extensions)
    rm -rf "$out"
    mkdir -p "$out/compile" "$out/binary"
    if [ "${FUZZ_SEEDS:-all}" != own ] && [ -d "$PIGEONHOLE" ]; then
        find "$PIGEONHOLE" -type f \( -name '*.sieve' -o -name '*.svtest' \) | while read -r s; do
            cp "$s" "$out/compile/$(echo "$s" | md5sum | cut -c1-16)"
        done
    fi
    local i=0
    for s in fuzz/corpus/compile/* "$out"/compile/*; do
        [ -f "$s" ] || continue
        i=$((i + 1))
        "$TAMIS" compile -x "$exts" "$s" "$out/binary/seed$i.tmsbin" >/dev/null 2>&1 || true
    done
    echo "seeds: $(find "$out/compile" -type f | wc -l) scripts, $(find "$out/binary" -type f | wc -l) binaries"
}

long() {
    local secs=${1:-${FUZZ_TIME:-600}}
    seeds
    mkdir -p build-fuzz/logs "$ART"
    local pids=()
    local work=build-fuzz/work-${FUZZ_SEEDS:-all}
    for n in $TARGETS; do
        mkdir -p "$work/$n" "fuzz/corpus/$n"
        local dirs=("$work/$n" "fuzz/corpus/$n")
        [ -d "build-fuzz/seeds/$n" ] && dirs+=("build-fuzz/seeds/$n")
        echo "=== fuzz_$n: ${secs}s, log build-fuzz/logs/$n.log"
        # shellcheck disable=SC2046
        "$BIN/fuzz_$n" "${COMMON[@]}" $(extra_args "$n") -max_total_time="$secs" \
            -artifact_prefix="$ART/$n-" "${dirs[@]}" >"build-fuzz/logs/$n.log" 2>&1 &
        pids+=($!)
    done
    local rc=0
    for p in "${pids[@]}"; do wait "$p" || rc=1; done
    for n in $TARGETS; do
        echo "--- $n"
        grep -E '^stat::|^==[0-9]+==ERROR|SUMMARY' "build-fuzz/logs/$n.log" | head -n 20
    done
    ls "$ART" 2>/dev/null | sed 's/^/finding: /'
    return $rc
}

# The committed corpus stays small (a few hundred files per fuzzer): inputs
# are kept for the edges they cover (-use_counters=0, not hit counts), and
# the larger inputs are offered first, so that a few of them cover what
# many small ones would.
merge() {
    for n in $TARGETS; do
        [ -x "$BIN/fuzz_$n" ] || continue
        local new="fuzz/corpus/$n.new" big
        big=$(mktemp -d) || return 1
        rm -rf "$new"
        mkdir -p "$new" "fuzz/corpus/$n" "build-fuzz/logs"
        find "fuzz/corpus/$n" build-fuzz/work-own/"$n" -type f -size +400c -exec cp {} "$big/" \; 2>/dev/null
        local ok=1
        # shellcheck disable=SC2046
        for src in "$big" "fuzz/corpus/$n build-fuzz/work-own/$n"; do
            # shellcheck disable=SC2086
            "$BIN/fuzz_$n" -merge=1 -use_counters=0 "${COMMON[@]}" $(extra_args "$n") "$new" $src \
                >>"build-fuzz/logs/merge-$n.log" 2>&1 || ok=0
        done
        rm -rf "$big"
        if [ $ok = 0 ]; then
            echo "merge of $n failed (build-fuzz/logs/merge-$n.log)"
            rm -rf "$new"
            return 1
        fi
        # Keep the hand-written seeds under their names.
        for f in "fuzz/corpus/$n"/*.sieve "fuzz/corpus/$n"/*.tmsbin "fuzz/corpus/$n"/*.eml; do
            [ -f "$f" ] || continue
            h=$(sha1sum "$f" | cut -d' ' -f1)
            rm -f "$new/$h"
            cp "$f" "$new/"
        done
        rm -rf "fuzz/corpus/$n"
        mv "$new" "fuzz/corpus/$n"
        echo "$n: $(find "fuzz/corpus/$n" -type f | wc -l) files"
    done
}

case ${1:-} in
    smoke) smoke "${2:-}" ;;
    seeds) seeds ;;
    long) long "${2:-}" ;;
    merge) merge ;;
    *) sed -n '2,24p' "$0" >&2; exit 2 ;;
esac
