#!/usr/bin/env python3
"""Rebuilds the .BTF_ids of a shipped 7.x kernel file as the linker left it.

resolve_btfids 7.x sorts every set8's (id, flags) pairs by id but leaves the
member symbols where they were, so in a shipped (processed) file a symbol's
flags word holds another function's flags. pahole's decl_tag_kfuncs and
resolve_btfids' KF_IMPLICIT_ARGS read those words: run on a shipped file they
give different BTF than the build did. This puts each set8 member's flags
back after its symbol's slot (the pair whose id is the first FUNC of the
member's name in the shipped .BTF, as resolve_btfids resolves it), then
zeroes every word a __BTF_ID__ symbol points at (ids and set counts).

    fresh-btf-ids.py IN OUT [BASE]   (BASE: the vmlinux of a module)

Files without .BTF_ids are copied unchanged. Only little-endian ELF64.
"""
import struct
import sys


def sections(b):
    shoff, = struct.unpack_from("<Q", b, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", b, 0x3A)
    out = []
    for i in range(shnum):
        name, typ, flags, addr, off, size, link, info, align, entsize = struct.unpack_from(
            "<IIQQQQIIQQ", b, shoff + i * shentsize)
        out.append(dict(name=name, type=typ, addr=addr, off=off, size=size, link=link, entsize=entsize))
    names = out[shstrndx]
    for s in out:
        end = b.index(b"\0", names["off"] + s["name"])
        s["name"] = b[names["off"] + s["name"]:end].decode()
    return out


def section(secs, name):
    return next((s for s in secs if s["name"] == name), None)


def funcs_first_id(btf, first_id, base_strings=b""):
    """FUNC name -> first id, in a BTF blob whose first type has id first_id
    (split BTF: string offsets below the base's string size are the base's);
    also the next id and the string section."""
    hdr_len, type_off, type_len, str_off, str_len = struct.unpack_from("<IIIII", btf, 4)
    t = hdr_len + type_off
    end = t + type_len
    strings = base_strings + btf[hdr_len + str_off:hdr_len + str_off + str_len]
    extra = {1: 4, 3: 12, 14: 4, 17: 4}
    per_member = {4: 12, 5: 12, 6: 8, 13: 8, 15: 12, 19: 12}
    ids = {}
    i = first_id
    while t < end:
        name_off, info, _ = struct.unpack_from("<III", btf, t)
        kind = (info >> 24) & 0x1F
        vlen = info & 0xFFFF
        if kind == 12:
            name = strings[name_off:strings.index(b"\0", name_off)].decode()
            ids.setdefault(name, i)
        t += 12 + extra.get(kind, 0) + per_member.get(kind, 0) * vlen
        i += 1
    return ids, i, strings


def main():
    src, dst = sys.argv[1], sys.argv[2]
    b = bytearray(open(src, "rb").read())
    secs = sections(b)
    ids_sec = section(secs, ".BTF_ids")
    if ids_sec is None:
        open(dst, "wb").write(b)
        return
    first, base_strings = 1, b""
    if len(sys.argv) > 3:
        base = open(sys.argv[3], "rb").read()
        bsec = section(sections(base), ".BTF")
        _, first, base_strings = funcs_first_id(base[bsec["off"]:bsec["off"] + bsec["size"]], 1)
    btf_sec = section(secs, ".BTF")
    func_ids, _, _ = funcs_first_id(bytes(b[btf_sec["off"]:btf_sec["off"] + btf_sec["size"]]), first, base_strings)

    idx = secs.index(ids_sec)
    symtab = section(secs, ".symtab")
    strtab = secs[symtab["link"]]
    syms = []
    for k in range(symtab["size"] // 24):
        name, info, other, shndx, value, size = struct.unpack_from("<IBBHQQ", b, symtab["off"] + 24 * k)
        if shndx != idx:
            continue
        n = b[strtab["off"] + name:b.index(b"\0", strtab["off"] + name)].decode()
        if not n.startswith("__BTF_ID__"):
            continue
        kind, tail = n[len("__BTF_ID__"):].split("__", 1)
        if not kind.startswith("set"):
            tail = tail[:tail.rindex("__")]
        syms.append((kind, tail, ids_sec["off"] + value - ids_sec["addr"], size))

    orig = bytes(b)
    word = lambda off: struct.unpack_from("<I", orig, off)[0]
    for _, _, off, _ in syms:
        struct.pack_into("<I", b, off, 0)
    moved = 0
    for kind, name, off, size in syms:
        if kind != "set8":
            continue
        n = size // 8 - 1
        taken = [False] * n
        for mkind, mname, moff, _ in syms:
            if mkind.startswith("set") or not (off < moff < off + size):
                continue
            want = func_ids.get(mname, 0) if mkind == "func" else 0
            j = next((j for j in range(n) if not taken[j] and word(off + 8 + 8 * j) == want), None)
            if j is None:
                sys.exit(f"fresh-btf-ids: {mname} has no entry in set8 {name}")
            taken[j] = True
            flags = word(off + 8 + 8 * j + 4)
            if flags != word(moff + 4):
                moved += 1
            struct.pack_into("<I", b, moff + 4, flags)
    open(dst, "wb").write(b)
    print(f"fresh-btf-ids: {src}: {len(syms)} symbols zeroed, {moved} flags words put back", file=sys.stderr)


main()
