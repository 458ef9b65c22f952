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
    dwarves bpftool libbpf-dev gcc g++ clang make binutils elfutils kmod hyperfine
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
