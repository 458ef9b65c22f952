#!/usr/bin/env bash
# Builds a Debian sid chroot holding sid's dwarves (pahole 1.32, libbpf 1.7.0),
# binutils (the objcopy that makes "as linked" inputs) and linux-kbuild-7.2.*
# (resolve_btfids 7.2): the oracle the pahole-1.32 emulation is compared with.
# Needs root and debootstrap (installed from the system's own sources when
# missing). The system's apt configuration is not touched. Idempotent: a
# complete chroot is left alone; an interrupted one is rebuilt. Prints the
# chroot directory.
#
#   KBTF_SID_CHROOT  where to build it (default: ~/.cache/kbtf/chroot-sid)
#
# Run the tools there as:  chroot "$DIR" pahole --version
#                          chroot "$DIR" sh -c 'ls /usr/lib/linux-kbuild-7.2*/tools/bpf/resolve_btfids/resolve_btfids'
# Files are exchanged through bind mounts, e.g. mount --bind SRC "$DIR/mnt".
set -euo pipefail

dir=${KBTF_SID_CHROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/kbtf/chroot-sid}

if [ -f "$dir/.complete" ] && [ -x "$dir/usr/bin/pahole" ]; then
    echo "$dir"
    exit 0
fi
[ "$(id -u)" = 0 ] || { echo "chroot-sid: needs root (debootstrap, chroot)" >&2; exit 1; }

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
        echo "chroot-sid: $dir has mounts inside, unmount them first" >&2
        exit 1
    fi
    rm -rf "$dir"
fi
mkdir -p "$(dirname "$dir")"
debootstrap --variant=minbase sid "$dir" "$mirror" >&2
# sid's Release file may be past its Valid-Until date on a snapshot mirror.
echo 'Acquire::Check-Valid-Until "false";' > "$dir/etc/apt/apt.conf.d/99kbtf-valid-until"
chroot "$dir" apt-get update -qq >&2
kbuild=$(chroot "$dir" apt-cache pkgnames linux-kbuild-7.2 | grep -E '^linux-kbuild-7\.2\.[0-9.]+\+deb14$' | sort -V | tail -n1)
[ -n "$kbuild" ] || { echo "chroot-sid: no linux-kbuild-7.2.*+deb14 package is available" >&2; exit 1; }
case $kbuild in
linux-kbuild-7.2.13+deb14) ;;
*) echo "chroot-sid: linux-kbuild-7.2.13+deb14 is gone, using $kbuild" >&2 ;;
esac
chroot "$dir" apt-get install -y -qq --no-install-recommends dwarves binutils "$kbuild" >&2
chroot "$dir" pahole --version >&2
echo "$kbuild" > "$dir/kbuild-package"
touch "$dir/.complete"
echo "$dir"
