#!/usr/bin/env bash
# The README's test command: every test binary of the workspace, even after
# one fails (--no-fail-fast), then one total. Tests that could not run here
# (no corpus, no oracle, not root) report themselves through
# kbtf_testsupport::skip; they are counted as skipped, with their reasons,
# not as passed. Exits non-zero when anything failed.
# Extra arguments go to cargo test (e.g. -p kbtf-btf).
set -uo pipefail
cd "$(dirname "$0")/.."

log=$(mktemp)
export KBTF_SKIP_LOG
KBTF_SKIP_LOG=$(mktemp)
trap 'rm -f "$log" "$KBTF_SKIP_LOG"' EXIT

cargo test --release --workspace --no-fail-fast "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

if [ -s "$KBTF_SKIP_LOG" ]; then
    echo
    echo "Skipped here (counted as skipped, not passed):"
    sort -u "$KBTF_SKIP_LOG" | sed 's/\t/: /; s/^/  /'
fi
skips=$(sort -u "$KBTF_SKIP_LOG" | cut -f1 | sort -u | wc -l)

# cargo prints one "test result:" line per test binary; a binary that
# failed to build or crashed prints none but makes cargo's status non-zero.
awk -v skips="$skips" -v status="$status" '
    /^test result:/ { p += $4; f += $6; i += $8 }
    END {
        if (status != 0 && f == 0) f = 1
        printf "total: %d passed, %d failed, %d skipped\n", p - skips, f, i + skips
    }' "$log"
exit "$status"
