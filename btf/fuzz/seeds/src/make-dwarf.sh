#!/usr/bin/env bash
# Rebuilds the seeds of the `encode` target (../dwarf/): small ELF objects
# with DWARF, compiled from testdata/encode/*.c (the encoder's test sources):
#   types-dwarf4.o   gcc -O0 -gdwarf-4: every C construct of types.c
#   types-dwarf5.o   gcc -O1 -gdwarf-5: the same through DWARF 5 forms
#   two-units.o      gcc -O2 cu_a.c, cu_b.c linked with ld -r: two units,
#                    same-named statics, .isra/.constprop clones
#   percpu.o         bad_percpu.c: per-CPU variables, one with a name BTF
#                    cannot hold
#   tags-clang.o     clang -gdwarf-5 tags.c: btf_type_tag / btf_decl_tag
#   lto-clang        clang -flto -O2 lto_a.c lto_b.c: a linked executable
#                    whose units refer to each other (DW_FORM_ref_addr)
# Unwind tables, .comment and .debug_aranges are left out, so each seed is a
# few KB.
# Needs gcc, clang, ld and objcopy; run it from anywhere.
set -euo pipefail
cd "$(dirname "$0")"
src=../../../../testdata/encode
out=../dwarf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cflags=(-c -fno-asynchronous-unwind-tables -fno-ident)

# Drops sections the encoder does not read and no symbol needs.
slim() {
    objcopy --remove-section .comment --remove-section .note.GNU-stack \
        --remove-section .debug_aranges --remove-section .rela.debug_aranges \
        "$1" "$2"
}

gcc "${cflags[@]}" -O0 -gdwarf-4 "$src/types.c" -o "$tmp/types4.o"
slim "$tmp/types4.o" "$out/types-dwarf4.o"
gcc "${cflags[@]}" -O1 -gdwarf-5 "$src/types.c" -o "$tmp/types5.o"
slim "$tmp/types5.o" "$out/types-dwarf5.o"
gcc "${cflags[@]}" -O2 -g "$src/cu_a.c" -o "$tmp/a.o"
gcc "${cflags[@]}" -O2 -g "$src/cu_b.c" -o "$tmp/b.o"
ld -r "$tmp/a.o" "$tmp/b.o" -o "$tmp/ab.o"
slim "$tmp/ab.o" "$out/two-units.o"
gcc "${cflags[@]}" -O1 -g "$src/bad_percpu.c" -o "$tmp/percpu.o"
slim "$tmp/percpu.o" "$out/percpu.o"
clang "${cflags[@]}" -O1 -gdwarf-5 "$src/tags.c" -o "$tmp/tags.o"
slim "$tmp/tags.o" "$out/tags-clang.o"
clang -flto -g -O2 -fno-asynchronous-unwind-tables -fno-ident -nostdlib \
    -static -Wl,-e,afunc,-z,noseparate-code,-z,max-page-size=16,--build-id=none "$src/lto_a.c" "$src/lto_b.c" -o "$tmp/lto"
slim "$tmp/lto" "$out/lto-clang"
