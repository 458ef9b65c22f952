#!/usr/bin/env bash
# kbtf's main job on real input: what gen-btf.sh / Makefile.modfinal do for
# the Debian 6.12 corpus, done by `kbtf gen`, checked against what Debian shipped.
#
#   testdata/demo.sh [all]    (default: a few modules; "all": all 1138)
#
# Works on copies in a temporary directory; the corpus is never modified.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
corpus=$("$here/fetch-corpus.sh")
cargo build --release -q -p kbtf-cli --manifest-path "$here/../Cargo.toml"
kbtf=$here/../target/release/kbtf
# Debian built this 6.12 with pahole 1.24 (kbtf's default is the newest, 1.32).
export KBTF_PAHOLE_VERSION=1.24
vmlinux=$(readlink -f "$corpus/vmlinux")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if [ "${1:-}" = all ]; then
    list=$(cat "$corpus/modules.list")
else
    list=$(grep -E '/(nf_conntrack|nf_nat|tcp_bbr|fou|xfs|kvm)\.ko$' "$corpus/modules.list")
fi

section() { objcopy --dump-section "$1=$3" "$2" "$work/scratch.o" 2>/dev/null || : > "$3"; }

# The modules as the linker leaves them for the BTF step: no .BTF yet.
n=0
for rel in $list; do
    n=$((n + 1))
    objcopy --remove-section .BTF "$corpus/$rel" "$work/$n-$(basename "$rel")"
done
echo "kbtf gen --btf_base vmlinux on $n modules (.BTF removed):"
start=$(date +%s.%N)
"$kbtf" gen --btf_base "$vmlinux" "$work"/*.ko
awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "  %.2f s\n", e - s }'

same=0
i=0
for rel in $list; do
    i=$((i + 1))
    ours=$work/$i-$(basename "$rel")
    ok=1
    for s in .BTF .BTF_ids; do
        section "$s" "$corpus/$rel" "$work/shipped"
        section "$s" "$ours" "$work/ours"
        cmp -s "$work/shipped" "$work/ours" || { ok=0; echo "  $rel: $s differs from Debian's"; }
    done
    same=$((same + ok))
done
echo "  .BTF and .BTF_ids identical to what Debian shipped: $same of $n"
before=$(cat "$work"/*.ko | sha256sum)
"$kbtf" gen --btf_base "$vmlinux" "$work"/*.ko
[ "$before" = "$(cat "$work"/*.ko | sha256sum)" ] && echo "  a second run changes no byte"

echo "kbtf gen on the vmlinux (writes vmlinux.btf.o and vmlinux.BTF_ids, leaves vmlinux alone):"
ln -s "$vmlinux" "$work/vmlinux"
"$kbtf" gen "$work/vmlinux"
section .BTF "$work/vmlinux.btf.o" "$work/ours"
section .BTF "$vmlinux" "$work/shipped"
cmp -s "$work/ours" "$work/shipped" && echo "  .btf.o holds the shipped .BTF ($(stat -c %s "$work/ours") bytes)"
section .BTF_ids "$vmlinux" "$work/shipped"
cmp -s "$work/vmlinux.BTF_ids" "$work/shipped" && echo "  vmlinux.BTF_ids equals the shipped .BTF_ids section"

conntrack=$(ls "$work"/*-nf_conntrack.ko)
echo "kfuncs of nf_conntrack.ko after kbtf gen (each keeps its own flags):"
"$kbtf" ids --base "$vmlinux" "$conntrack" | grep -i kf_ | head -8
