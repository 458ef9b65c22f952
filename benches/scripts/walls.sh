#!/usr/bin/env bash
# The profiles behind the speed targets kbtf misses (issue 6): where the
# time and memory of each scenario go, measured on the corpus with the same
# tools the harness runs. Prints one section per wall; see benches/README.md.
#
#   benches/scripts/walls.sh [KBTF]    (default target/release/kbtf)
#
# Needs the corpus (testdata/fetch-corpus.sh), pahole, strace, GNU time and,
# for the symbol profile, perf (linux-perf); sections whose tool is missing
# say so and are skipped.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
kbtf=$(realpath "${1:-$root/target/release/kbtf}")
# The 6.12 corpus was built with pahole 1.24 (kbtf's default is 1.32).
export KBTF_PAHOLE_VERSION=1.24
corpus=${KBTF_CORPUS:-$HOME/.cache/kbtf/corpus}
vmlinux=$(readlink -f "$corpus/vmlinux")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
have() { command -v "$1" >/dev/null 2>&1; }
pahole_flags=(-J --btf_gen_floats --lang_exclude=rust)

echo "== kbtf $("$kbtf" --version 2>/dev/null || echo '?'), $(pahole --version), $(nproc) cores, $(date -u +%F)"

echo
echo "== 1. vmlinux encode: phases (one process each, kbtf's library)"
cargo build -q --release -p kbtf-btf --example phase_times --manifest-path "$root/Cargo.toml"
for t in 1 2; do
    printf -- '-j%s: ' "$t"
    RAYON_NUM_THREADS=$t "$root/target/release/examples/phase_times" "$vmlinux"
done

echo
echo "== 2. vmlinux encode -j2: resident memory over time (anon = heap, file = mapped vmlinux)"
rm -f "$work/v.btf"
"$kbtf" pahole "${pahole_flags[@]}" -j2 --btf_encode_detached="$work/v.btf" "$vmlinux" &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
    awk '/RssAnon|RssFile/ {printf "%d ", $2 / 1024} END {print ""}' "/proc/$pid/status" 2>/dev/null || true
    sleep 0.02
done >"$work/rss"
wait "$pid"
awk 'NF == 2 { if ($1 + $2 > peak) { peak = $1 + $2; a = $1; f = $2; at = NR } }
     END { printf "peak %d MiB (heap %d + file %d) at sample %d of %d\n", peak, a, f, at, NR }' "$work/rss"
objcopy --dump-section .BTF="$work/shipped.btf" "$vmlinux" "$work/junk"
cmp -s "$work/v.btf" "$work/shipped.btf" || echo "(note: this run's .BTF differs from the shipped one)"

echo
echo "== 3. vmlinux encode -j1: hottest symbols"
if have perf; then
    rm -f "$work/v.btf"
    perf record -q -F 499 -o "$work/perf.data" -- \
        "$kbtf" pahole "${pahole_flags[@]}" -j1 --btf_encode_detached="$work/v.btf" "$vmlinux" 2>/dev/null
    perf report -i "$work/perf.data" --no-children --sort symbol --percent-limit 2 2>/dev/null |
        grep '%' | grep -v '^#' | cut -c1-100
else
    echo "perf is missing (apt-get install linux-perf): skipped"
fi

echo
echo "== 4. one module per process (kbuild's loop): CPU, waiting, and what the wait is"
mod=$(grep -m1 '/crc7.ko$' "$corpus/modules.list")
objcopy --remove-section=.BTF "$corpus/$mod" "$work/m.ko"
runs=20
upstream_ids=${RESOLVE_BTFIDS:-/usr/lib/linux-kbuild-6.12.117+deb12/tools/bpf/resolve_btfids/resolve_btfids}
declare -A cmd=(
    [kbtf]="'$kbtf' gen --btf_base '$vmlinux' '$work/w.ko'"
    [upstream]="LLVM_OBJCOPY=objcopy pahole ${pahole_flags[*]} --btf_base '$vmlinux' '$work/w.ko' && '$upstream_ids' -b '$vmlinux' '$work/w.ko'"
)
for side in kbtf upstream; do
    # The copy restoring the input is in the loop on both sides (~1 ms).
    /usr/bin/time -o "$work/t" -f '%e %U %S' sh -c \
        "for i in \$(seq $runs); do cp '$work/m.ko' '$work/w.ko' && ${cmd[$side]} || exit 1; done"
    awk -v s=$side -v n=$runs '{ printf "%-8s crc7.ko, mean of %d: wall %.1f ms = user %.1f + sys %.1f + waiting %.1f\n",
        s, n, $1 * 1000 / n, $2 * 1000 / n, $3 * 1000 / n, ($1 - $2 - $3) * 1000 / n }' "$work/t"
done
if have perf; then
    # Inclusive shares of kbtf's CPU time: the base (read once per process)
    # against the module's own work.
    perf record -q -F 999 --call-graph dwarf,16384 -o "$work/perf.mod" -- sh -c \
        "for i in \$(seq $runs); do cp '$work/m.ko' '$work/w.ko' && ${cmd[kbtf]} || exit 1; done" 2>/dev/null
    perf report -i "$work/perf.mod" --comm kbtf --children --sort symbol -g none --stdio 2>/dev/null |
        grep -E 'Btf::from_file|BaseCandidates::new|strings::StringTable::index|kbtf_btfids::gen::encode$|encode_elf_kind|dedup_in_place|atomic::write_file_atomic|clear_page_erms|rayon_core::registry::Registry::new' |
        awk '{ sym = $4; for (i = 5; i <= NF; i++) if ($i != "-") sym = sym " " $i; if (!seen[sym]++) printf "  %-7s %s\n", $1, sym }' | sort -rn
fi
if have strace; then
    cp "$work/m.ko" "$work/w.ko"
    strace -f -T -e trace=fsync,fdatasync,rename -o "$work/strace" "$kbtf" gen --btf_base "$vmlinux" "$work/w.ko"
    awk -F'<' '/fsync|fdatasync|rename/ { split($0, a, "("); sub(/^[0-9]+ +/, "", a[1]);
        t[a[1]] += $NF + 0 } END { for (k in t) printf "kbtf gen: %s %.1f ms\n", k, t[k] * 1000 }' "$work/strace"
else
    echo "strace is missing: skipped"
fi

echo
echo "== 5. resolve_btfids on the vmlinux: the atomic copy"
if have strace; then
    cp "$vmlinux" "$work/vm"
    strace -T -e trace=copy_file_range,fdatasync,fsync,pwrite64,rename -o "$work/strace" \
        "$kbtf" resolve_btfids "$work/vm"
    awk -F'<' '/copy_file_range|fdatasync|fsync|pwrite64|rename/ { split($0, a, "(");
        t[a[1]] += $NF + 0 } END { for (k in t) printf "kbtf resolve_btfids: %s %.1f ms\n", k, t[k] * 1000 }' "$work/strace"
    cp "$vmlinux" "$work/vm"
    /usr/bin/time -f 'kbtf resolve_btfids: %e s wall' "$kbtf" resolve_btfids "$work/vm"
    cp "$vmlinux" "$work/vm"
    /usr/bin/time -f 'upstream resolve_btfids (in place): %e s wall' \
        "${RESOLVE_BTFIDS:-/usr/lib/linux-kbuild-6.12.117+deb12/tools/bpf/resolve_btfids/resolve_btfids}" "$work/vm"
else
    echo "strace is missing: skipped"
fi
