#!/bin/sh
# Wall time of BTF generation for every corpus module, in one run:
#   upstream: what Makefile.modfinal of 6.12 runs per module (pahole -J, then
#             resolve_btfids), NPROC modules at a time (as make -jNPROC);
#   kbtf:     one `kbtf gen --btf_base vmlinux` over all modules.
# Each starts from the modules with their .BTF removed (objcopy), .BTF_ids as shipped.
# Usage: gen_batch.sh KBTF [CORPUS_DIR]
set -eu
# (a module that fails fails the script.)
KBTF=$(readlink -f "$1")
# The 6.12 corpus was built with pahole 1.24 (kbtf's default is 1.32).
export KBTF_PAHOLE_VERSION=1.24
CORPUS=${2:-${KBTF_CORPUS_DIR:-$HOME/.cache/kbtf/corpus}}
RESOLVE_BTFIDS=${RESOLVE_BTFIDS:-/usr/lib/linux-kbuild-6.12.117+deb12/tools/bpf/resolve_btfids/resolve_btfids}
NPROC=$(nproc)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
VMLINUX=$(readlink -f "$CORPUS/vmlinux")

mkdir "$WORK/upstream" "$WORK/kbtf"
i=0
while read -r rel; do
	i=$((i + 1))
	name=$(printf '%04d-%s' "$i" "$(basename "$rel")")
	objcopy --remove-section .BTF "$CORPUS/$rel" "$WORK/upstream/$name"
	cp "$WORK/upstream/$name" "$WORK/kbtf/$name"
done < "$CORPUS/modules.list"
echo "modules: $i, CPUs: $NPROC"

now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
t0=$(now)
find "$WORK/upstream" -name '*.ko' -print0 | sort -z |
	xargs -0 -n 1 -P "$NPROC" sh -c '
		LLVM_OBJCOPY=objcopy pahole -J --btf_gen_floats -j --lang_exclude=rust --btf_base "$0" "$2" &&
		"$1" -b "$0" "$2"' "$VMLINUX" "$RESOLVE_BTFIDS" >/dev/null
t1=$(now)
"$KBTF" gen --no-progress --btf_base "$VMLINUX" "$WORK"/kbtf/*.ko
t2=$(now)
"$KBTF" gen --no-progress --btf_base "$VMLINUX" "$WORK"/kbtf/*.ko
t3=$(now)
echo "upstream pahole + resolve_btfids, -P$NPROC: $(secs "$t0" "$t1") s"
echo "kbtf gen (batch, first run):          $(secs "$t1" "$t2") s"
echo "kbtf gen (batch, second run):         $(secs "$t2" "$t3") s"
# Both made a .BTF for every module.
for d in upstream kbtf; do
	n=0
	for f in "$WORK/$d"/*.ko; do
		readelf -S -W "$f" | grep -q ' \.BTF ' || n=$((n + 1))
	done
	echo "$d: $n modules without .BTF"
done

