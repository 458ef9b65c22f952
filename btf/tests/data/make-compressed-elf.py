#!/usr/bin/env python3
"""Writes the small ELF files of btf/tests/compressed_btf.rs: a minimal
ELF64 relocatable whose only content is a .BTF section compressed with
SHF_COMPRESSED, built here byte by byte (not by kbtf).

usage: make-compressed-elf.py BLOB OUT zlib|zstd [CLAIMED_SIZE]"""
import struct, subprocess, sys, zlib

blob, out, fmt = sys.argv[1], sys.argv[2], sys.argv[3]
data = open(blob, 'rb').read()
claimed = int(sys.argv[4]) if len(sys.argv) > 4 else len(data)
if fmt == 'zlib':
    ch_type, packed = 1, zlib.compress(data, 9)
else:
    ch_type, packed = 2, subprocess.run(['zstd', '-19', '-c'], input=data,
                                        capture_output=True, check=True).stdout
# Elf64_Chdr: ch_type, ch_reserved, ch_size, ch_addralign.
btf = struct.pack('<IIQQ', ch_type, 0, claimed, 4) + packed
shstrtab = b'\0.BTF\0.shstrtab\0'
btf_off = 64
str_off = btf_off + len(btf)
sh_off = (str_off + len(shstrtab) + 7) & ~7
ehdr = struct.pack('<4sBBBBB7xHHIQQQIHHHHHH', b'\x7fELF', 2, 1, 1, 0, 0,
                   1, 62, 1, 0, 0, sh_off, 0, 64, 0, 0, 64, 3, 2)
def shdr(name, type_, flags, off, size, align, entsize=0):
    return struct.pack('<IIQQQQIIQQ', name, type_, flags, 0, off, size, 0, 0, align, entsize)
SHF_COMPRESSED = 0x800
sections = (shdr(0, 0, 0, 0, 0, 0)
            + shdr(1, 1, SHF_COMPRESSED, btf_off, len(btf), 8)
            + shdr(6, 3, 0, str_off, len(shstrtab), 1))
img = ehdr + btf + shstrtab
img += b'\0' * (sh_off - len(img)) + sections
open(out, 'wb').write(img)
