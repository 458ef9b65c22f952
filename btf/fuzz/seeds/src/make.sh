#!/usr/bin/env bash
# Rebuilds the C-built seeds with gcc and Debian's pahole 1.24 (dwarves):
#   ../elf/kinds.o     an ELF object with DWARF and the .BTF pahole -J adds
#   ../blob/kinds.btf  the same BTF as a raw blob
#   ../split/split.btf split BTF over base.btf (written by
#                      `cargo run --example write_seeds`, the fixed base)
# Run it from anywhere; it needs gcc, pahole and objcopy.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pahole_flags=(--btf_gen_floats --lang_exclude=rust)

gcc -g -O1 -c kinds.c -o "$tmp/kinds.o"
pahole -J "${pahole_flags[@]}" "$tmp/kinds.o"
objcopy --dump-section .BTF=../blob/kinds.btf "$tmp/kinds.o" "$tmp/junk"
cp "$tmp/kinds.o" ../elf/kinds.o

gcc -g -O1 -c split.c -o "$tmp/split.o"
# pahole 1.24 does not truncate the output file.
rm -f ../split/split.btf
pahole -J "${pahole_flags[@]}" --btf_base base.btf --btf_encode_detached=../split/split.btf "$tmp/split.o"
