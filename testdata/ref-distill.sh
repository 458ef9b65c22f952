#!/usr/bin/env bash
# Builds the libbpf 1.7 references of kbtf's distill and relocate in the sid
# chroot: testdata/oracle/btf_distill.c, compiled there against sid's
# libbpf-dev, runs btf__distill_base() on the shipped .BTF of every module
# of a corpus (split over its vmlinux's .BTF), then btf__relocate() of the
# result back onto that vmlinux's .BTF and onto another kernel's. Four sets:
#
#   sid/                   sid 7.2 modules, relocated back onto sid's vmlinux
#   sid-onto-bookworm/     the same distilled, relocated onto bookworm's 6.12
#                          vmlinux (distilled types go missing: refusals)
#   bookworm/              bookworm 6.12 modules (pahole 1.24), relocated back
#   bookworm-onto-trixie/  the same distilled, relocated onto trixie's 6.12
#                          vmlinux (same kernel, pahole 1.30: other type ids)
#   cases/CASE/{back,onto}/ the hand-made cases of btf/tests/data/distill:
#                          CASE/split.btf over CASE/base.btf, relocated back
#                          and onto CASE/onto.btf (files split.btf.EXT), and
#                          the same big-endian (split-be.btf.EXT)
#
# Each holds <module path>.base, .split, .reloc for the distill sets, .reloc
# for the onto sets; where libbpf refused, .err instead ("STEP ERRNO" and
# libbpf's warnings). kernels.list names each set's vmlinux; libbpf.version;
# .complete when done. Needs root. Idempotent: a complete reference
# directory is kept. Prints the reference directory.
#
#   KBTF_SID_DIR, KBTF_CORPUS_DIR, KBTF_TRIXIE_DIR  the corpora
#                (testdata/fetch-sid.sh, fetch-corpus.sh, fetch-trixie.sh)
#   KBTF_SID_CHROOT       the chroot (testdata/chroot-sid.sh)
#   KBTF_SID_DISTILL_REF  where to write (default: ~/.cache/kbtf/sid-distill)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}
sid=$(realpath "$("$here/fetch-sid.sh")")
bookworm=$(realpath "$("$here/fetch-corpus.sh")")
trixie=$(realpath "$("$here/fetch-trixie.sh")")
chroot_dir=$("$here/chroot-sid.sh")
ref=${KBTF_SID_DISTILL_REF:-$cache/kbtf/sid-distill}
mkdir -p "$ref"
ref=$(realpath "$ref")
if [ -f "$ref/.complete" ]; then
    echo "$ref"
    exit 0
fi

in_chroot() { chroot "$chroot_dir" "$@"; }
apt_opts=(-o Acquire::Check-Valid-Until=false)
if ! in_chroot dpkg -s libbpf-dev gcc libc6-dev >/dev/null 2>&1; then
    in_chroot apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends libbpf-dev gcc libc6-dev >&2 ||
        { in_chroot apt-get "${apt_opts[@]}" update -qq >&2 &&
          in_chroot apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends libbpf-dev gcc libc6-dev >&2; }
fi
version=$(in_chroot dpkg-query -W -f '${Version}' libbpf-dev)
case $version in
    *:1.7.*|1.7.*) ;;
    *) echo "ref-distill: the chroot's libbpf-dev is $version, not 1.7" >&2; exit 1 ;;
esac

# Mount points of this script's own, so that it can run beside ref-sid.sh.
mnt=$chroot_dir/mnt/distill
mkdir -p "$mnt/out" "$mnt/sid" "$mnt/bookworm" "$mnt/trixie" "$mnt/cases"
cleanup() {
    for m in out sid bookworm trixie cases; do umount "$mnt/$m" 2>/dev/null || true; done
}
trap cleanup EXIT
mountpoint -q "$mnt/out" || mount --bind "$ref" "$mnt/out"
mountpoint -q "$mnt/cases" || mount --bind -o ro "$here/../btf/tests/data/distill" "$mnt/cases"
for c in sid bookworm trixie; do
    mountpoint -q "$mnt/$c" || mount --bind -o ro "${!c}/root" "$mnt/$c"
done

cp "$here/oracle/btf_distill.c" "$ref/btf_distill.c"
in_chroot gcc -O2 -Wall -o /mnt/distill/out/btf_distill /mnt/distill/out/btf_distill.c -lbpf
echo "$version" > "$ref/libbpf.version"

# The chroot's path of a corpus's vmlinux or module directory.
inside() { local l; l=$(readlink "${!1}/$2"); echo "/mnt/distill/$1/${l#root/}"; }

rm -rf "$ref/sid" "$ref/sid-onto-bookworm" "$ref/bookworm" "$ref/bookworm-onto-trixie" "$ref/cases" "$ref/kernels.list"
# distill_set CORPUS ONTO: CORPUS's modules, relocated back and onto ONTO.
distill_set() {
    local start
    start=$(date +%s)
    sed 's|^modules/||' "${!1}/modules.list" |
        in_chroot /mnt/distill/out/btf_distill "$(inside "$1" vmlinux)" "$(inside "$1" modules)" \
            "/mnt/distill/out/$1" "$(inside "$2" vmlinux)" "/mnt/distill/out/$1-onto-$2"
    for set in "$1" "$1-onto-$2"; do
        local k=$1; [ "$set" = "$1" ] || k=$2
        echo "$set $(basename "$(readlink "${!k}/vmlinux")")" >> "$ref/kernels.list"
        echo "ref-distill: $set: $(wc -l < "${!1}/modules.list") modules in $(( $(date +%s) - start )) s," \
             "$(find "$ref/$set" -name '*.reloc' | wc -l) relocated, $(find "$ref/$set" -name '*.err' | wc -l) refused" >&2
    done
}
distill_set sid bookworm
distill_set bookworm trixie
n=0
for case in "$here"/../btf/tests/data/distill/*/; do
    case=$(basename "$case")
    for e in "" -be; do
        echo "split$e.btf" | in_chroot /mnt/distill/out/btf_distill "/mnt/distill/cases/$case/base$e.btf" \
            "/mnt/distill/cases/$case" "/mnt/distill/out/cases/$case/back" \
            "/mnt/distill/cases/$case/onto$e.btf" "/mnt/distill/out/cases/$case/onto" 2>/dev/null
    done
    n=$((n + 1))
done
echo "ref-distill: $n hand-made cases, $(find "$ref/cases" -name '*.err' | wc -l) refusals" >&2
touch "$ref/.complete"
echo "$ref"
