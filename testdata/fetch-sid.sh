#!/usr/bin/env bash
# Fetches the Debian sid corpus (linux 7.2.*+deb14, built with pahole 1.32 and
# gen-btf.sh): the cloud-amd64 debug image, i.e. vmlinux and every module with
# DWARF and the .BTF/.BTF_ids sid's build produced. The system's apt sources
# are not touched: a private apt configuration under the cache directory points
# at the mirror the system already uses. Idempotent: a complete cache is left
# alone. Prints the cache directory.
#
#   KBTF_SID_DIR  where to unpack (default: ~/.cache/kbtf/sid)
#   KBTF_SID_PKG  package to use (default: the 7.2.13 one, else the newest 7.2.*+deb14)
set -euo pipefail

dir=${KBTF_SID_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kbtf/sid}
wanted=${KBTF_SID_PKG:-linux-image-7.2.13+deb14-cloud-amd64-dbg}

if [ -f "$dir/.complete" ]; then
    echo "$dir"
    exit 0
fi

mkdir -p "$dir"
apt=$dir/apt
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
mirror=${mirror:-http://deb.debian.org/debian}
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror sid main" > "$apt/sources.list"
# sid's Release file may be past its Valid-Until date on a snapshot mirror.
A=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
   -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o Dir::State::Status=/dev/null
   -o APT::Sandbox::User=root -o Acquire::Check-Valid-Until=false)

available() { apt-cache "${A[@]}" show "$1" >/dev/null 2>&1; }

available "$wanted" || apt-get "${A[@]}" update -qq >&2
pkg=$wanted
if ! available "$pkg"; then
    pkg=$(apt-cache "${A[@]}" pkgnames linux-image-7.2. \
        | grep -E '^linux-image-7\.2\.[0-9.]+\+deb14-cloud-amd64-dbg$' | sort -V | tail -n1)
    [ -n "$pkg" ] || { echo "fetch-sid: no linux-image-7.2.*+deb14-cloud-amd64-dbg package is available" >&2; exit 1; }
    echo "fetch-sid: $wanted is gone, using $pkg" >&2
fi

work=$(mktemp -d "$dir/.fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get "${A[@]}" download -q "$pkg" >&2)
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
