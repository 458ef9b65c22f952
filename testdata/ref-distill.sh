#!/usr/bin/env bash
# Builds the libbpf 1.7 references of kbtf's distill and relocate in the sid
# chroot: testdata/oracle/btf_distill.c, compiled there against sid's
# libbpf-dev, runs btf__distill_base() on the shipped .BTF of every module
# of the sid corpus (split over the vmlinux's .BTF) and btf__relocate() of
# the result back onto the vmlinux's .BTF. Needs root. Idempotent: a
# complete reference directory is kept. Prints the reference directory.
#
#   KBTF_SID_DIR          the corpus (testdata/fetch-sid.sh)
#   KBTF_SID_CHROOT       the chroot (testdata/chroot-sid.sh)
#   KBTF_SID_DISTILL_REF  where to write (default: ~/.cache/kbtf/sid-distill)
#
# Layout: modules/<path>.base, .split, .reloc (or .err, "STEP ERRNO", where
# libbpf refused), libbpf.version, and .complete when done.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}
corpus=$("$here/fetch-sid.sh")
chroot_dir=$("$here/chroot-sid.sh")
ref=${KBTF_SID_DISTILL_REF:-$cache/kbtf/sid-distill}
mkdir -p "$ref"
ref=$(realpath "$ref")
corpus=$(realpath "$corpus")
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
mnt_corpus=$chroot_dir/mnt/distill-corpus
mnt_out=$chroot_dir/mnt/distill-out
mkdir -p "$mnt_corpus" "$mnt_out"
cleanup() {
    umount "$mnt_corpus" 2>/dev/null || true
    umount "$mnt_out" 2>/dev/null || true
}
trap cleanup EXIT
mountpoint -q "$mnt_corpus" || mount --bind -o ro "$corpus/root" "$mnt_corpus"
mountpoint -q "$mnt_out" || mount --bind "$ref" "$mnt_out"

cp "$here/oracle/btf_distill.c" "$ref/btf_distill.c"
in_chroot gcc -O2 -Wall -o /mnt/distill-out/btf_distill /mnt/distill-out/btf_distill.c -lbpf
echo "$version" > "$ref/libbpf.version"

vmlinux_rel=$(readlink "$corpus/vmlinux"); vmlinux_rel=${vmlinux_rel#root/}
modules_rel=$(readlink "$corpus/modules"); modules_rel=${modules_rel#root/}
start=$(date +%s)
rm -rf "$ref/modules"
sed 's|^modules/||' "$corpus/modules.list" |
    in_chroot /mnt/distill-out/btf_distill "/mnt/distill-corpus/$vmlinux_rel" \
        "/mnt/distill-corpus/$modules_rel" /mnt/distill-out/modules
echo "ref-distill: $(wc -l < "$corpus/modules.list") modules in $(( $(date +%s) - start )) s," \
     "$(find "$ref/modules" -name '*.err' | wc -l) refused" >&2
touch "$ref/.complete"
echo "$ref"
