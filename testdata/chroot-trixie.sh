#!/usr/bin/env bash
# Builds a Debian trixie chroot holding trixie's dwarves (pahole 1.30, libbpf
# 1.5.0): the oracle the pahole-1.30 emulation is compared with. Needs root and
# debootstrap (installed from the system's own sources when missing). The
# system's apt configuration is not touched. Idempotent: a complete chroot is
# left alone; an interrupted one is rebuilt. Prints the chroot directory.
#
#   KBTF_TRIXIE_CHROOT  where to build it (default: ~/.cache/kbtf/chroot-trixie)
#
# Run pahole there as:  chroot "$DIR" pahole --version
# Files are exchanged through bind mounts, e.g. mount --bind SRC "$DIR/mnt".
set -euo pipefail

dir=${KBTF_TRIXIE_CHROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/kbtf/chroot-trixie}

if [ -f "$dir/.complete" ] && [ -x "$dir/usr/bin/pahole" ]; then
    echo "$dir"
    exit 0
fi
[ "$(id -u)" = 0 ] || { echo "chroot-trixie: needs root (debootstrap, chroot)" >&2; exit 1; }

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
        echo "chroot-trixie: $dir has mounts inside, unmount them first" >&2
        exit 1
    fi
    rm -rf "$dir"
fi
mkdir -p "$(dirname "$dir")"
debootstrap --variant=minbase trixie "$dir" "$mirror" >&2
chroot "$dir" apt-get install -y -qq --no-install-recommends dwarves >&2
chroot "$dir" pahole --version >&2
touch "$dir/.complete"
echo "$dir"
