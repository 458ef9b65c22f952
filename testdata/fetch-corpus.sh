#!/usr/bin/env bash
# Fetches the real-kernel corpus: Debian's cloud-amd64 debug image (vmlinux with
# DWARF and the .BTF/.BTF_ids the kernel build produced, plus every module).
# Idempotent: a complete cache is left alone. Prints the cache directory.
#
#   KBTF_CORPUS_DIR  where to unpack (default: ~/.cache/kbtf/corpus)
#   KBTF_CORPUS_PKG  package to use (default: the 6.12.117 one, else the newest 6.12.*)
set -euo pipefail

dir=${KBTF_CORPUS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kbtf/corpus}
wanted=${KBTF_CORPUS_PKG:-linux-image-6.12.117+deb12-cloud-amd64-dbg}

if [ -f "$dir/.complete" ]; then
    echo "$dir"
    exit 0
fi

available() { apt-cache show "$1" >/dev/null 2>&1; }

pkg=$wanted
if ! available "$pkg"; then
    [ -n "$(apt-cache pkgnames linux-image-6.12 2>/dev/null | head -n1)" ] || apt-get update -qq >&2
    if ! available "$pkg"; then
        pkg=$(apt-cache pkgnames linux-image-6.12. | grep -E '^linux-image-6\.12\.[0-9.]+\+deb[0-9]+-cloud-amd64-dbg$' | sort -V | tail -n1)
        [ -n "$pkg" ] || { echo "fetch-corpus: no linux-image-6.12.*-cloud-amd64-dbg package is available" >&2; exit 1; }
        echo "fetch-corpus: $wanted is gone, using $pkg" >&2
    fi
fi

mkdir -p "$dir"
work=$(mktemp -d "$dir/.fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download -q "$pkg" >&2)
deb=$(ls "$work"/*.deb)
dpkg -x "$deb" "$work/root"

vmlinux=$(ls "$work"/root/usr/lib/debug/boot/vmlinux-* | head -n1)
moddir=$(ls -d "$work"/root/usr/lib/debug/lib/modules/* | head -n1)
rm -rf "$dir/root"
mv "$work/root" "$dir/root"
ln -sfn "root/${vmlinux#"$work"/root/}" "$dir/vmlinux"
ln -sfn "root/${moddir#"$work"/root/}" "$dir/modules"
find -L "$dir/modules" -name '*.ko' | LC_ALL=C sort | sed "s|^$dir/||" > "$dir/modules.list"
echo "$pkg" > "$dir/package"
touch "$dir/.complete"
echo "$dir"
