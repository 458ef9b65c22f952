#!/usr/bin/env bash
# Builds a chroot of a newer Debian suite holding that suite's upstream tools,
# the oracles kbtf's emulation of them is compared with:
#
#   chroot-debian.sh trixie   dwarves (pahole 1.30, libbpf 1.5.0), linux-kbuild-6.12.*
#                             (resolve_btfids 6.12)
#   chroot-debian.sh sid      dwarves (pahole 1.32, libbpf 1.7.0), linux-kbuild-7.2.*
#                             (resolve_btfids 7.2)
#
# and in both binutils (the objcopy that makes "as linked" inputs), the
# kernel's cloud-amd64 headers, gcc and make (real out-of-tree kbuild),
# libbpf-dev (the distill oracle) and bpftool (sid's 7.8: the oracle of
# `kbtf dump --format c --bpftool 7.8`). A chroot completed before bpftool
# was on this list is left alone; the test that needs it installs it there.
#
# Needs root and debootstrap (installed from the system's own sources when
# missing). The system's apt configuration is not touched. Idempotent: a
# complete chroot is left alone; an interrupted one is rebuilt. Prints the
# chroot directory.
#
#   KBTF_TRIXIE_CHROOT / KBTF_SID_CHROOT  where (default: ~/.cache/kbtf/chroot-<suite>)
#
# Run the tools there as:  chroot "$DIR" pahole --version
#                          chroot "$DIR" /usr/lib/$(cat "$DIR/kbuild-package")/tools/bpf/resolve_btfids/resolve_btfids
# Files are exchanged through bind mounts, e.g. mount --bind SRC "$DIR/mnt".
set -euo pipefail

suite=${1:?usage: chroot-debian.sh trixie|sid}
case $suite in
trixie) dir=${KBTF_TRIXIE_CHROOT:-} series=6.12 default=6.12.117 deb=deb13 pahole=v1.30 ;;
sid) dir=${KBTF_SID_CHROOT:-} series=7.2 default=7.2.13 deb=deb14 pahole=v1.32 ;;
*) echo "chroot-debian: unknown suite $suite (trixie or sid)" >&2; exit 2 ;;
esac
dir=${dir:-${XDG_CACHE_HOME:-$HOME/.cache}/kbtf/chroot-$suite}
me="chroot-debian ($suite)"

if [ -f "$dir/.complete" ] && [ -x "$dir/usr/bin/pahole" ]; then
    echo "$dir"
    exit 0
fi
[ "$(id -u)" = 0 ] || { echo "$me: needs root (debootstrap, chroot)" >&2; exit 1; }

command -v debootstrap >/dev/null || {
    apt-get install -y -qq --no-install-recommends debootstrap >&2 ||
        { apt-get update -qq >&2 && apt-get install -y -qq --no-install-recommends debootstrap >&2; }
}

mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
mirror=${mirror:-http://deb.debian.org/debian}

# A half-built chroot (no .complete) is thrown away: debootstrap does not resume.
# Never remove it while something is mounted inside.
if [ -d "$dir" ]; then
    if grep -q " $(realpath "$dir")/" /proc/mounts; then
        echo "$me: $dir has mounts inside, unmount them first" >&2
        exit 1
    fi
    rm -rf "$dir"
fi
mkdir -p "$(dirname "$dir")"
debootstrap --variant=minbase "$suite" "$dir" "$mirror" >&2
# sid's Release file may be past its Valid-Until date on a snapshot mirror.
echo 'Acquire::Check-Valid-Until "false";' > "$dir/etc/apt/apt.conf.d/99kbtf-valid-until"
chroot "$dir" apt-get update -qq >&2
# The suite's kbuild (resolve_btfids) and cloud-amd64 headers, the newest of
# the series when the named version is gone; gcc and make for real kbuild,
# binutils for "as linked" inputs, libbpf-dev for the distill oracle,
# bpftool for the C header.
pattern="^linux-kbuild-${series//./\\.}\.[0-9.]+\+$deb\$"
kbuild=$(chroot "$dir" apt-cache pkgnames "linux-kbuild-$series" | grep -E "$pattern" | sort -V | tail -n1)
[ -n "$kbuild" ] || { echo "$me: no linux-kbuild-$series.*+$deb package is available" >&2; exit 1; }
[ "$kbuild" = "linux-kbuild-$default+$deb" ] ||
    echo "$me: linux-kbuild-$default+$deb is gone, using $kbuild" >&2
headers=linux-headers-${kbuild#linux-kbuild-}-cloud-amd64
packages=(dwarves binutils "$kbuild" "$headers" gcc libc6-dev make libbpf-dev bpftool)
chroot "$dir" apt-get install -y -qq --no-install-recommends "${packages[@]}" >&2
# The oracle must be the pahole the suite's kernel was built with.
got=$(chroot "$dir" pahole --version)
[ "$got" = "$pahole" ] ||
    { echo "$me: the suite's pahole is $got now, not $pahole: kbtf emulates $pahole" >&2; exit 1; }
echo "$kbuild" > "$dir/kbuild-package"
touch "$dir/.complete"
echo "$dir"
