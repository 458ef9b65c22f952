#!/usr/bin/env bash
# Runs the cargo-fuzz targets of btf/fuzz, one after another, SECONDS each
# (default 60): all of them, or the named ones. Prints executions per target;
# exits 1 if any target crashed (the input is saved under
# btf/fuzz/artifacts/TARGET/), 2 if it cannot run. See testdata/FUZZING.md.
#
#   testdata/fuzz.sh [SECONDS] [TARGET...]
#   FUZZ_SANITIZER=address testdata/fuzz.sh 60 roundtrip
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
fuzz_dir=$root/btf/fuzz
secs=${1:-60}
shift || true
# kbtf's fuzzed code is safe Rust: no sanitizer doubles the executions, and
# cargo-fuzz still builds with debug assertions and overflow checks.
sanitizer=${FUZZ_SANITIZER:-none}
# cargo-fuzz passes nightly flags (-Zsanitizer, -Cpasses=sancov...); this lets
# the stable toolchain take them.
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: cargo-fuzz is missing: cargo install --locked cargo-fuzz" >&2
    exit 2
fi
fuzz=(--fuzz-dir "$fuzz_dir" --sanitizer "$sanitizer")
if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo fuzz list --fuzz-dir "$fuzz_dir")
fi

# Seed directories (under btf/fuzz/seeds) of each target; blob input by
# default. dedup makes its BTF from the input (no seeds).
seeds_of() {
    case $1 in
        elf) echo elf ;;
        encode) echo dwarf elf ;;
        btfids) echo btfids elf ;;
        dedup | builder | base_index) ;;
        parse_split) echo split blob ;;
        *) echo blob split ;;
    esac
}

cargo fuzz build "${fuzz[@]}" >&2
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
failed=()
printf '%-14s %12s %10s  %s\n' target executions exec/s result
for t in "${targets[@]}"; do
    # New inputs go to corpus/TARGET (not in git); seeds are read only.
    corpus=$fuzz_dir/corpus/$t
    mkdir -p "$corpus" "$fuzz_dir/artifacts/$t"
    dirs=("$corpus")
    for s in $(seeds_of "$t"); do dirs+=("$fuzz_dir/seeds/$s"); done
    result=ok
    if ! cargo fuzz run "${fuzz[@]}" "$t" "${dirs[@]}" -- \
        -max_total_time="$secs" -timeout=30 -rss_limit_mb=2048 \
        -print_final_stats=1 >"$logs/$t" 2>&1; then
        artifact=$(grep -ho 'artifacts/[^ ]*' "$logs/$t" | tail -1 || true)
        # A stack overflow dies in libFuzzer's signal handler, saving nothing.
        result="CRASHED: ${artifact:-no input saved (a stack overflow? see FUZZING.md)}"
        failed+=("$t")
        # The panic (or libFuzzer's report), then how to reproduce it.
        grep -A4 -m1 -E 'panicked at|^==[0-9]+== ERROR' "$logs/$t" >&2 || true
        # (Without the input's bytes, which cargo-fuzz prints as a list.)
        sed -n '/^Failing input:/,/^Minimize/p' "$logs/$t" | grep -v -e Debug -e '^\s*\[' >&2 || true
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$logs/$t" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$logs/$t" | tail -1)
    printf '%-14s %12s %10s  %s\n' "$t" "${runs:-?}" "${rate:-?}" "$result"
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz.sh: crashed: ${failed[*]} (inputs in btf/fuzz/artifacts/)" >&2
    exit 1
fi
