#!/usr/bin/env bash
# Fetches the corpus of a newer Debian suite: the cloud-amd64 debug image of
# its kernel, i.e. vmlinux and every module with DWARF and the .BTF/.BTF_ids
# that suite's build produced. The system's apt sources are not touched: a
# private apt configuration under the cache directory points at the mirror the
# system already uses. Idempotent: a complete cache is left alone. Prints the
# cache directory.
#
#   fetch-debian.sh trixie   linux 6.12.*+deb13, built with pahole 1.30
#   fetch-debian.sh sid      linux 7.2.*+deb14, built with pahole 1.32 and gen-btf.sh
#
#   KBTF_TRIXIE_DIR / KBTF_SID_DIR  where to unpack (default: ~/.cache/kbtf/<suite>)
#   KBTF_TRIXIE_PKG / KBTF_SID_PKG  package to use (default: the one named below,
#                                   else the newest of the same series, said on stderr)
set -euo pipefail

suite=${1:?usage: fetch-debian.sh trixie|sid}
case $suite in
trixie) series=6.12 deb=deb13 default=6.12.117 dir=${KBTF_TRIXIE_DIR:-} wanted=${KBTF_TRIXIE_PKG:-} ;;
sid) series=7.2 deb=deb14 default=7.2.13 dir=${KBTF_SID_DIR:-} wanted=${KBTF_SID_PKG:-} ;;
*) echo "fetch-debian: unknown suite $suite (trixie or sid)" >&2; exit 2 ;;
esac
dir=${dir:-${XDG_CACHE_HOME:-$HOME/.cache}/kbtf/$suite}
wanted=${wanted:-linux-image-$default+$deb-cloud-amd64-dbg}

if [ -f "$dir/.complete" ]; then
    echo "$dir"
    exit 0
fi

mkdir -p "$dir"
apt=$dir/apt
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
mirror=${mirror:-http://deb.debian.org/debian}
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $suite main" > "$apt/sources.list"
# Valid-Until off: sid's Release file may be past that date on a snapshot mirror.
A=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
   -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o Dir::State::Status=/dev/null
   -o APT::Sandbox::User=root -o Acquire::Check-Valid-Until=false)

available() { apt-cache "${A[@]}" show "$1" >/dev/null 2>&1; }

available "$wanted" || apt-get "${A[@]}" update -qq >&2
pkg=$wanted
if ! available "$pkg"; then
    pattern="^linux-image-${series//./\\.}\.[0-9.]+\+$deb-cloud-amd64-dbg\$"
    pkg=$(apt-cache "${A[@]}" pkgnames "linux-image-$series." | grep -E "$pattern" | sort -V | tail -n1)
    [ -n "$pkg" ] || { echo "fetch-debian: no linux-image-$series.*+$deb-cloud-amd64-dbg package is available in $suite" >&2; exit 1; }
    echo "fetch-debian: $wanted is gone from $suite, using $pkg" >&2
fi

work=$(mktemp -d "$dir/.fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get "${A[@]}" download -q "$pkg" >&2)
deb_file=$(ls "$work"/*.deb)
dpkg -x "$deb_file" "$work/root"

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
