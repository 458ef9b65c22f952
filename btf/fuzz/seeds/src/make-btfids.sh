#!/usr/bin/env bash
# Rebuilds the seeds of the `btfids` target (../btfids/) from btfids.c:
#   ids.o           gcc -g -c, with the .BTF pahole -J adds: a fresh
#                   .BTF_ids (every id 0), as the kernel build hands it to
#                   resolve_btfids
#   ids-upstream.o  ids.o after the kernel's resolve_btfids: ids written and
#                   sets sorted, but the set members' symbols left at their
#                   old slots (the files kbtf repairs)
# Needs gcc, pahole (dwarves), objcopy and the kernel's resolve_btfids
# (Debian linux-kbuild-*; RESOLVE_BTFIDS=path overrides where it is looked for).
set -euo pipefail
cd "$(dirname "$0")"
out=../btfids
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
resolve_btfids=${RESOLVE_BTFIDS:-$(ls /usr/lib/linux-kbuild-*/tools/bpf/resolve_btfids/resolve_btfids | tail -1)}

gcc -g -O1 -c -fno-asynchronous-unwind-tables -fno-ident btfids.c -o "$tmp/ids.o"
pahole -J --btf_gen_floats --lang_exclude=rust "$tmp/ids.o"
# DWARF is only pahole's input: the seed keeps .BTF, .BTF_ids and the symbols.
objcopy --strip-debug --remove-section .comment --remove-section .note.GNU-stack \
    "$tmp/ids.o" "$out/ids.o"
cp "$out/ids.o" "$tmp/upstream.o"
"$resolve_btfids" "$tmp/upstream.o"
cp "$tmp/upstream.o" "$out/ids-upstream.o"
