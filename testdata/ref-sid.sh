#!/usr/bin/env bash
# Builds the pahole 1.32 references of the sid corpus in the sid chroot:
# what gen-btf.sh hands resolve_btfids (`pahole -J $PAHOLE_FLAGS
# --btf_encode_detached=X.BTF.1 X`, modules with `--btf_base vmlinux`),
# with Linux 7.2's PAHOLE_FLAGS. Files whose .BTF_ids the build processed
# are first given their as-linked .BTF_ids back (fresh-btf-ids.py), as the
# build's pahole saw them; those inputs are kept next to the references.
# Also checks that resolve_btfids 7.2 turns the vmlinux reference into the
# shipped .BTF and .BTF_ids. Needs root. Idempotent: existing references
# are kept. Prints the reference directory.
#
#   KBTF_SID_DIR     the corpus (testdata/fetch-sid.sh)
#   KBTF_SID_CHROOT  the chroot (testdata/chroot-sid.sh)
#   KBTF_SID_REF     where to write (default: ~/.cache/kbtf/sid-ref)
#   KBTF_SID_MODULES how many modules (default: all, in modules.list order)
#   JOBS             pahole -j and parallel modules (default: nproc)
#
# Layout: vmlinux.fresh, vmlinux.BTF.1; modules/<path>.BTF.1 for every
# module, modules/<path> (the fresh input) for those with .BTF_ids.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${XDG_CACHE_HOME:-$HOME/.cache}
corpus=$("$here/fetch-sid.sh")
chroot_dir=$("$here/chroot-sid.sh")
ref=${KBTF_SID_REF:-$cache/kbtf/sid-ref}
jobs=${JOBS:-$(nproc)}
mkdir -p "$ref/modules"
ref=$(realpath "$ref")
corpus=$(realpath "$corpus")

# Makefile.btf of 7.2 with CONFIG_PAHOLE_VERSION=132 and a reproducible build.
flags="-j$jobs --btf_features=encode_force,var,float,enum64,decl_tag,type_tag,optimized_func,consistent_func,decl_tag_kfuncs --btf_features=attributes --btf_features=layout -j$jobs --btf_features=+reproducible_build --lang_exclude=rust"
kbuild=$(cat "$chroot_dir/kbuild-package")
resolve=/usr/lib/$kbuild/tools/bpf/resolve_btfids/resolve_btfids

mkdir -p "$chroot_dir/mnt/corpus" "$chroot_dir/mnt/ref"
cleanup() {
    umount "$chroot_dir/mnt/corpus" 2>/dev/null || true
    umount "$chroot_dir/mnt/ref" 2>/dev/null || true
}
trap cleanup EXIT
mountpoint -q "$chroot_dir/mnt/corpus" || mount --bind -o ro "$corpus/root" "$chroot_dir/mnt/corpus"
mountpoint -q "$chroot_dir/mnt/ref" || mount --bind "$ref" "$chroot_dir/mnt/ref"
in_chroot() { chroot "$chroot_dir" "$@"; }

vmlinux_rel=$(readlink "$corpus/vmlinux"); vmlinux_rel=${vmlinux_rel#root/}
if [ ! -f "$ref/vmlinux.BTF.1" ]; then
    python3 "$here/fresh-btf-ids.py" "$corpus/vmlinux" "$ref/vmlinux.fresh.tmp"
    mv "$ref/vmlinux.fresh.tmp" "$ref/vmlinux.fresh"
    start=$(date +%s)
    # shellcheck disable=SC2086
    in_chroot pahole -J $flags --btf_encode_detached=/mnt/ref/vmlinux.BTF.1.tmp /mnt/ref/vmlinux.fresh
    echo "ref-sid: vmlinux.BTF.1 in $(( $(date +%s) - start )) s" >&2
    # gen-btf.sh's next step must give back what the build shipped.
    rm -f "$ref"/vmlinux.fresh.BTF "$ref"/vmlinux.fresh.BTF_ids
    in_chroot "$resolve" --btf /mnt/ref/vmlinux.BTF.1.tmp /mnt/ref/vmlinux.fresh
    in_chroot objcopy -O binary --only-section=.BTF "/mnt/corpus/$vmlinux_rel" /mnt/ref/shipped.BTF
    in_chroot objcopy -O binary --only-section=.BTF_ids "/mnt/corpus/$vmlinux_rel" /mnt/ref/shipped.BTF_ids
    cmp "$ref/vmlinux.fresh.BTF" "$ref/shipped.BTF" && cmp "$ref/vmlinux.fresh.BTF_ids" "$ref/shipped.BTF_ids" ||
        { echo "ref-sid: resolve_btfids on the reference does not give the shipped .BTF/.BTF_ids" >&2; exit 1; }
    echo "ref-sid: resolve_btfids --btf vmlinux.BTF.1 gives the shipped .BTF and .BTF_ids" >&2
    rm -f "$ref"/vmlinux.fresh.BTF "$ref"/vmlinux.fresh.BTF_ids "$ref"/shipped.BTF "$ref"/shipped.BTF_ids
    mv "$ref/vmlinux.BTF.1.tmp" "$ref/vmlinux.BTF.1"
fi

one_module() {
    local rel=$1 out=$ref/modules/${1#modules/}.BTF.1 input
    [ -f "$out" ] && return 0
    mkdir -p "$(dirname "$out")"
    local src=$corpus/$rel
    input=/mnt/corpus/${vmlinux_rel%/boot/*}/lib/modules/$(basename "$(readlink "$corpus/modules")")/${rel#modules/}
    if readelf -SW "$src" | grep -q ' \.BTF_ids '; then
        python3 "$here/fresh-btf-ids.py" "$src" "$ref/modules/${rel#modules/}" "$corpus/vmlinux" || return 1
        input=/mnt/ref/modules/${rel#modules/}
    fi
    # shellcheck disable=SC2086
    in_chroot pahole -J $flags --btf_base "/mnt/corpus/$vmlinux_rel" --btf_encode_detached="/mnt/ref/modules/${rel#modules/}.BTF.1.tmp" "$input" >/dev/null ||
        { echo "ref-sid: pahole failed on $rel" >&2; return 1; }
    # A module without DWARF of its own gets no file (as in gen-btf.sh's pahole).
    if [ -f "$out.tmp" ]; then mv "$out.tmp" "$out"; else : > "$out"; fi
}
export -f one_module in_chroot
export ref corpus chroot_dir flags vmlinux_rel here

start=$(date +%s)
list=$corpus/modules.list
if [ -n "${KBTF_SID_MODULES:-}" ]; then
    head -n "$KBTF_SID_MODULES" "$list"
else
    cat "$list"
fi | xargs -P "$jobs" -I{} bash -c 'one_module "$@"' _ {}
echo "ref-sid: modules in $(( $(date +%s) - start )) s" >&2

# gen-btf.sh's next step on a sample of the module references (every 25th
# module and every one with .BTF_ids) must give back the shipped .BTF (and
# .BTF_ids): resolve_btfids --btf_base vmlinux --btf X.BTF.1 X.
if [ ! -f "$ref/modules.checked" ] && [ -z "${KBTF_SID_MODULES:-}" ]; then
    moddir=/mnt/corpus/${vmlinux_rel%/boot/*}/lib/modules/$(basename "$(readlink "$corpus/modules")")
    chk=$ref/check
    rm -rf "$chk"; mkdir -p "$chk"
    n=0
    { awk 'NR % 25 == 1' "$corpus/modules.list" | sed 's|^modules/||'
      (cd "$ref/modules" && find . -name '*.ko' | sed 's|^\./||'); } | sort -u |
    while read -r rel; do
        name=$(basename "$rel")
        src=$corpus/modules/$rel
        [ -f "$ref/modules/$rel" ] && src=$ref/modules/$rel
        [ -s "$ref/modules/$rel.BTF.1" ] || continue
        cp "$src" "$chk/$name"
        cp "$ref/modules/$rel.BTF.1" "$chk/$name.BTF.1"
        in_chroot "$resolve" --btf_base "/mnt/corpus/$vmlinux_rel" --btf "/mnt/ref/check/$name.BTF.1" "/mnt/ref/check/$name" >/dev/null
        in_chroot objcopy --dump-section .BTF="/mnt/ref/check/$name.shipped" "$moddir/$rel" "/mnt/ref/check/$name.out"
        cmp -s "$chk/$name.BTF" "$chk/$name.shipped" ||
            { echo "ref-sid: resolve_btfids on the reference of $rel does not give the shipped .BTF" >&2; exit 1; }
        if [ -f "$chk/$name.BTF_ids" ]; then
            in_chroot objcopy --dump-section .BTF_ids="/mnt/ref/check/$name.shipped_ids" "$moddir/$rel" "/mnt/ref/check/$name.out"
            cmp -s "$chk/$name.BTF_ids" "$chk/$name.shipped_ids" ||
                { echo "ref-sid: resolve_btfids on the reference of $rel does not give the shipped .BTF_ids" >&2; exit 1; }
        fi
        rm -f "$chk/$name" "$chk/$name".*
        n=$((n + 1))
        echo "$n" > "$chk/count"
    done
    echo "ref-sid: resolve_btfids --btf on $(cat "$chk/count") module references gives the shipped .BTF (and .BTF_ids)" >&2
    rm -rf "$chk"
    touch "$ref/modules.checked"
fi
echo "$ref"
