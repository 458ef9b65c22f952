//! Hand-built BTF with every kind, for seeds and for the fixed base of the
//! split targets. Written out by `cargo run --example write_seeds`.

use std::sync::Arc;

use kbtf_btf::header::{Header, HDR_LEN_LAYOUT};
use kbtf_btf::{Btf, Endian, Info, Kind, TypeId};

/// Adds a type named `name` (`b""` for none); the builders here only add well-formed records.
fn add(b: &mut Btf, name: &[u8], info: Info, word: u32, rest: &[u32]) -> TypeId {
    let name = b.add_str(name).expect("seed names have no NUL");
    b.add_type(name, info, word, rest)
        .expect("seed records match their info")
}

fn s(b: &mut Btf, name: &[u8]) -> u32 {
    b.add_str(name).expect("seed names have no NUL").0
}

fn of(kind: Kind, vlen: u32) -> Info {
    Info::new(kind, false, vlen)
}

fn flagged(kind: Kind, vlen: u32) -> Info {
    Info::new(kind, true, vlen)
}

/// A base BTF with all 19 kinds, each with its trailing data.
pub fn every_kind() -> Btf {
    let mut b = Btf::new();
    let int = add(&mut b, b"int", of(Kind::Int, 0), 4, &[0x0100_0020]);
    let char_ = add(&mut b, b"char", of(Kind::Int, 0), 1, &[0x0200_0008]);
    let ptr = add(&mut b, b"", of(Kind::Ptr, 0), char_.0, &[]);
    let cptr = add(&mut b, b"", of(Kind::Const, 0), ptr.0, &[]);
    add(&mut b, b"", of(Kind::Volatile, 0), int.0, &[]);
    add(&mut b, b"", of(Kind::Restrict, 0), ptr.0, &[]);
    let long = add(&mut b, b"long_t", of(Kind::Typedef, 0), int.0, &[]);
    add(&mut b, b"user", of(Kind::TypeTag, 0), ptr.0, &[]);
    let arr = add(&mut b, b"", of(Kind::Array, 0), 0, &[char_.0, int.0, 16]);
    let (a, n, c) = (s(&mut b, b"a"), s(&mut b, b"name"), s(&mut b, b"bits"));
    let members = [a, int.0, 0, n, arr.0, 32, c, int.0, 5 << 24 | 160];
    let st = add(&mut b, b"task", flagged(Kind::Struct, 3), 24, &members);
    let members = [a, int.0, 0, n, st.0, 0];
    add(&mut b, b"u", of(Kind::Union, 2), 24, &members);
    add(&mut b, b"later", of(Kind::Fwd, 0), 0, &[]);
    add(&mut b, b"later_u", flagged(Kind::Fwd, 0), 0, &[]);
    let (x, y) = (s(&mut b, b"X"), s(&mut b, b"Y"));
    add(&mut b, b"e", of(Kind::Enum, 2), 4, &[x, 0, y, 0xffff_ffff]);
    let (p, q) = (s(&mut b, b"P"), s(&mut b, b"Q"));
    let values = [p, u32::MAX, u32::MAX, q, 1, 0x8000_0000];
    add(&mut b, b"e64", flagged(Kind::Enum64, 2), 8, &values);
    add(&mut b, b"double", of(Kind::Float, 0), 8, &[]);
    let (t, k) = (s(&mut b, b"t"), s(&mut b, b"k"));
    let params = [t, st.0, k, cptr.0, 0, 0];
    let proto = add(&mut b, b"", of(Kind::FuncProto, 3), long.0, &params);
    let func = add(&mut b, b"run", of(Kind::Func, 1), proto.0, &[]);
    add(
        &mut b,
        b"noinline",
        of(Kind::DeclTag, 0),
        func.0,
        &[0xffff_ffff],
    );
    add(&mut b, b"nonnull", of(Kind::DeclTag, 0), func.0, &[1]);
    let var = add(&mut b, b"counter", of(Kind::Var, 0), int.0, &[1]);
    let svar = add(&mut b, b"buf", of(Kind::Var, 0), arr.0, &[0]);
    let entries = [var.0, 0, 4, svar.0, 8, 16];
    add(&mut b, b".data", of(Kind::Datasec, 2), 24, &entries);
    b
}

/// A split BTF over `base` (an [`every_kind`]) whose types refer to the
/// base's types and strings as well as their own.
pub fn every_kind_split(base: Arc<Btf>) -> Btf {
    let int = base
        .find_by_name_kind(b"int", Kind::Int)
        .unwrap_or(TypeId(0));
    let task = base
        .find_by_name_kind(b"task", Kind::Struct)
        .unwrap_or(TypeId(0));
    let mut b = Btf::new_split(base);
    let ptr = add(&mut b, b"", of(Kind::Ptr, 0), task.0, &[]);
    // "a" and "name" are base strings, "owner" is the split's own.
    let (a, n, o) = (s(&mut b, b"a"), s(&mut b, b"name"), s(&mut b, b"owner"));
    let members = [a, int.0, 0, n, ptr.0, 64, o, int.0, 128];
    let st = add(&mut b, b"module", of(Kind::Struct, 3), 24, &members);
    let proto = add(&mut b, b"", of(Kind::FuncProto, 1), int.0, &[o, ptr.0]);
    add(&mut b, b"init", of(Kind::Func, 2), proto.0, &[]);
    add(&mut b, b"", of(Kind::Const, 0), st.0, &[]);
    let var = add(&mut b, b"this", of(Kind::Var, 0), st.0, &[1]);
    add(&mut b, b".bss", of(Kind::Datasec, 1), 24, &[var.0, 0, 24]);
    b
}

/// `btf`'s blob rewritten with a kind-layout section (hdr_len 32) that
/// describes kinds 0..=20, followed by one record of the unknown kind 20
/// (one info word, two-word elements, vlen 2).
pub fn with_kind_layout(btf: &Btf) -> Vec<u8> {
    let plain = btf.to_bytes_endian(Endian::Little);
    let mut types = plain[24..24 + btf_type_len(&plain)].to_vec();
    let strings = &plain[24 + types.len()..];
    for w in [
        0u32,
        Info::new(Kind::Unknown(20), false, 2).0,
        0,
        7,
        1,
        2,
        3,
        4,
    ] {
        types.extend_from_slice(&w.to_le_bytes());
    }
    // libbpf's kind layout: info_sz and elem_sz in bytes for each kind.
    let sizes: [(u8, u8); 21] = [
        (0, 0),
        (4, 0),
        (0, 0),
        (12, 0),
        (0, 12),
        (0, 12),
        (0, 8),
        (0, 0),
        (0, 0),
        (0, 0),
        (0, 0),
        (0, 0),
        (0, 0),
        (0, 8),
        (4, 0),
        (0, 12),
        (0, 0),
        (4, 0),
        (0, 0),
        (0, 12),
        (4, 8),
    ];
    let mut layout = Vec::new();
    for (info_sz, elem_sz) in sizes {
        layout.extend_from_slice(&[info_sz, elem_sz, 0, 0]); // flags 0
    }
    let (type_len, layout_len) = (types.len() as u32, layout.len() as u32);
    let header = Header {
        endian: Endian::Little,
        hdr_len: HDR_LEN_LAYOUT,
        type_off: 0,
        type_len,
        str_off: type_len + layout_len,
        str_len: strings.len() as u32,
        layout: Some((type_len, layout_len)),
        extra: Vec::new(),
    };
    let mut out = Vec::new();
    header.write(&mut out);
    out.extend_from_slice(&types);
    out.extend_from_slice(&layout);
    out.extend_from_slice(strings);
    out
}

/// The `type_len` field of a little-endian blob with a 24-byte header.
fn btf_type_len(blob: &[u8]) -> usize {
    u32::from_le_bytes([blob[12], blob[13], blob[14], blob[15]]) as usize
}

/// An ELF object for the `btfids` target in any class and byte order (the
/// C-built seeds are x86-64 only): `.BTF` with FUNCs `c`, `a`, `b` and a
/// struct `task`, and `.BTF_ids` with a BTF_ID_LIST (struct task, func
/// run, which is missing) and a BTF_SET8 of c, a, b with their flags, listed
/// in name order, which is not id order.
pub fn btf_ids_object(arch: object::Architecture, endian: object::Endianness) -> Vec<u8> {
    use object::write::{Object, Symbol, SymbolSection};
    use object::{BinaryFormat, SectionKind, SymbolFlags, SymbolKind, SymbolScope};

    let e = match endian {
        object::Endianness::Little => Endian::Little,
        object::Endianness::Big => Endian::Big,
    };
    let mut btf = Btf::new();
    let int = add(&mut btf, b"int", of(Kind::Int, 0), 4, &[0x0100_0020]);
    let n = s(&mut btf, b"n");
    add(&mut btf, b"task", of(Kind::Struct, 1), 4, &[n, int.0, 0]);
    let proto = add(&mut btf, b"", of(Kind::FuncProto, 0), int.0, &[]);
    for name in [&b"c"[..], b"a", b"b"] {
        add(&mut btf, name, of(Kind::Func, 1), proto.0, &[]);
    }

    // BTF_ID_LIST: struct task, func run; then set8 {cnt, flags}, (id, flags) x 3.
    let words: [u32; 10] = [0, 0, 0, 1, 0, 1, 0, 2, 0, 4];
    let symbols: [(&str, u64, u64); 6] = [
        ("__BTF_ID__struct__task__1", 0, 4),
        ("__BTF_ID__func__run__2", 4, 4),
        ("__BTF_ID__set8__kfuncs", 8, 32),
        ("__BTF_ID__func__a__3", 16, 4),
        ("__BTF_ID__func__b__4", 24, 4),
        ("__BTF_ID__func__c__5", 32, 4),
    ];
    let mut obj = Object::new(BinaryFormat::Elf, arch, endian);
    let ids = obj.add_section(Vec::new(), b".BTF_ids".to_vec(), SectionKind::Data);
    let bytes: Vec<u8> = words.iter().flat_map(|&w| e.u32_bytes(w)).collect();
    obj.set_section_data(ids, bytes, 4);
    let btf_section = obj.add_section(Vec::new(), b".BTF".to_vec(), SectionKind::Other);
    obj.set_section_data(btf_section, btf.to_bytes_endian(e), 4);
    for (name, value, size) in symbols {
        obj.add_symbol(Symbol {
            name: name.as_bytes().to_vec(),
            value,
            size,
            kind: SymbolKind::Data,
            scope: SymbolScope::Compilation,
            weak: false,
            section: SymbolSection::Section(ids),
            flags: SymbolFlags::None,
        });
    }
    obj.write().expect("a small object writes")
}
