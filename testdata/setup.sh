#!/usr/bin/env bash
# Sets up a fresh Debian (bookworm) machine for kbtf's tests and benchmarks:
# the upstream tools that serve as oracles, then the real-kernel corpus.
# Idempotent; safe to re-run.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

# The oracles: pahole 1.24 (dwarves), bpftool 7.1, libbpf 1.1.2 (for the dedup
# oracle program), the kernel's resolve_btfids (linux-kbuild) and the headers
# that build out-of-tree test modules with real kbuild.
kver=6.12.117+deb12
packages=(
    dwarves bpftool libbpf-dev gcc g++ clang make binutils elfutils kmod hyperfine python3
    "linux-kbuild-$kver" "linux-headers-$kver-cloud-amd64"
)

sudo=
[ "$(id -u)" = 0 ] || sudo=sudo
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

"$here/fetch-corpus.sh" >/dev/null

# The newer Debian suites, for the pahole 1.30/1.32 and Linux 7.x tests: their
# corpora, chroots holding their own tools (the oracles), and what sid's
# pahole 1.32 and libbpf 1.7 (distill, relocate) make of the corpora.
# Chroots need root; without it (or with KBTF_SETUP_MODERN=0) those tests
# report themselves skipped. Under CI they must be set up.
modern() {
    # sudo may reset HOME: the chroots and references go to the caller's cache.
    local as_root=($sudo env "XDG_CACHE_HOME=${XDG_CACHE_HOME:-$HOME/.cache}")
    "$here/fetch-trixie.sh" >/dev/null &&
        "$here/fetch-sid.sh" >/dev/null &&
        "${as_root[@]}" "$here/chroot-trixie.sh" >/dev/null &&
        "${as_root[@]}" "$here/chroot-sid.sh" >/dev/null &&
        "${as_root[@]}" "$here/ref-sid.sh" >/dev/null &&
        "${as_root[@]}" "$here/ref-distill.sh" >/dev/null
}
if [ "${KBTF_SETUP_MODERN:-1}" != 0 ]; then
    if ! modern; then
        [ -z "${CI:-}" ] || { echo "setup: the trixie/sid corpora or chroots could not be set up" >&2; exit 1; }
        echo "setup: the trixie/sid corpora or chroots could not be set up; their tests will be skipped" >&2
    fi
fi
