//! Hand-built BTF with the corners of C output, written by kbtf and by
//! bpftool (the oracle) from the same blob; and BTF that would crash or hang
//! libbpf, on which kbtf stops with an error.

use kbtf_testsupport::bpftool::Bpftool;

use super::{write_c, COptions};
use crate::{Btf, Endian, Info, Kind, TypeId};

/// Adds a type named `name` (`b""` for none).
fn add(b: &mut Btf, name: &[u8], info: Info, word: u32, rest: &[u32]) -> u32 {
    let name = b.add_str(name).unwrap();
    b.add_type(name, info, word, rest).unwrap().0
}

fn of(kind: Kind, vlen: u32) -> Info {
    Info::new(kind, false, vlen)
}

fn flagged(kind: Kind, vlen: u32) -> Info {
    Info::new(kind, true, vlen)
}

fn s(b: &mut Btf, name: &[u8]) -> u32 {
    b.add_str(name).unwrap().0
}

/// Bitfields, gaps, packing, anonymous members and enums, name clashes,
/// pointer cycles, function pointers, arrays of them, and GCC's oddities.
fn corners() -> Btf {
    let mut b = Btf::new();
    let int = add(&mut b, b"int", of(Kind::Int, 0), 4, &[0x0100_0020]);
    let long = add(&mut b, b"long int", of(Kind::Int, 0), 8, &[0x0100_0040]);
    let uchar = add(&mut b, b"unsigned char", of(Kind::Int, 0), 1, &[8]);
    let short = add(&mut b, b"short int", of(Kind::Int, 0), 2, &[0x0100_0010]);
    add(&mut b, b"__Poly8_t", of(Kind::Int, 0), 1, &[8]);
    add(&mut b, b"double", of(Kind::Float, 0), 8, &[]);
    let (a, c, d, e, f, g) = (
        s(&mut b, b"a"),
        s(&mut b, b"c"),
        s(&mut b, b"d"),
        s(&mut b, b"e"),
        s(&mut b, b"f"),
        s(&mut b, b"g"),
    );
    // struct bits { int a: 3; int c: 5; <gap> long d; unsigned char e: 1; <gap to 24> }
    add(
        &mut b,
        b"bits",
        flagged(Kind::Struct, 3),
        24,
        &[a, int, 3 << 24, c, int, 5 << 24 | 3, d, long, 64],
    );
    // A packed struct: a long at byte 1.
    add(
        &mut b,
        b"packed",
        of(Kind::Struct, 2),
        9,
        &[e, uchar, 0, d, long, 8],
    );
    // A struct with a hole a compiler would not leave: a short at byte 8 after an int.
    add(
        &mut b,
        b"holes",
        of(Kind::Struct, 2),
        16,
        &[a, int, 0, c, short, 64],
    );
    // Two structs named `dup`, two typedefs named `dup_t`, an enum value clash.
    let dup1 = add(&mut b, b"dup", of(Kind::Struct, 1), 4, &[a, int, 0]);
    let dup2 = add(&mut b, b"dup", of(Kind::Struct, 1), 8, &[d, long, 0]);
    add(&mut b, b"dup_t", of(Kind::Typedef, 0), dup1, &[]);
    add(&mut b, b"dup_t", of(Kind::Typedef, 0), dup2, &[]);
    let (one, two) = (s(&mut b, b"ONE"), s(&mut b, b"TWO"));
    add(&mut b, b"en", of(Kind::Enum, 2), 4, &[one, 1, two, 2]);
    add(
        &mut b,
        b"",
        flagged(Kind::Enum, 2),
        4,
        &[one, u32::MAX, two, 7],
    );
    add(
        &mut b,
        b"en64",
        flagged(Kind::Enum64, 1),
        8,
        &[one, 0, 0x8000_0000],
    );
    add(&mut b, b"fwd_u", flagged(Kind::Fwd, 0), 0, &[]);
    // struct node { struct node *next; struct list *l; } with struct list { struct node n; }
    let node = b.type_count();
    let list = node + 3;
    let p_node = node + 1;
    let p_list = node + 2;
    add(
        &mut b,
        b"node",
        of(Kind::Struct, 2),
        16,
        &[f, p_node, 0, g, p_list, 64],
    );
    add(&mut b, b"", of(Kind::Ptr, 0), node, &[]);
    add(&mut b, b"", of(Kind::Ptr, 0), list, &[]);
    add(&mut b, b"list", of(Kind::Struct, 1), 16, &[a, node, 0]);
    // int (*handlers[4])(int, ...); const arrays; an anonymous union member
    // holding an anonymous enum; a function returning a function pointer.
    let (x, y) = (s(&mut b, b"x"), s(&mut b, b"y"));
    let proto = add(&mut b, b"", of(Kind::FuncProto, 2), int, &[x, int, 0, 0]);
    let void_proto = add(&mut b, b"", of(Kind::FuncProto, 0), 0, &[]);
    let p_proto = add(&mut b, b"", of(Kind::Ptr, 0), proto, &[]);
    let p_void_proto = add(&mut b, b"", of(Kind::Ptr, 0), void_proto, &[]);
    let hof = add(
        &mut b,
        b"",
        of(Kind::FuncProto, 1),
        p_proto,
        &[y, p_void_proto],
    );
    let p_hof = add(&mut b, b"", of(Kind::Ptr, 0), hof, &[]);
    let arr = add(&mut b, b"", of(Kind::Array, 0), 0, &[p_proto, int, 4]);
    let cint = add(&mut b, b"", of(Kind::Const, 0), int, &[]);
    let carr = add(&mut b, b"", of(Kind::Array, 0), 0, &[cint, int, 2]);
    let carr2 = add(&mut b, b"", of(Kind::Array, 0), 0, &[carr, int, 3]);
    let anon_enum = add(&mut b, b"", of(Kind::Enum, 1), 4, &[two, 2]);
    let anon_union = add(
        &mut b,
        b"",
        of(Kind::Union, 2),
        8,
        &[x, anon_enum, 0, y, long, 0],
    );
    let tagged = add(&mut b, b"user", of(Kind::TypeTag, 0), int, &[]);
    let p_tagged = add(&mut b, b"", of(Kind::Ptr, 0), tagged, &[]);
    add(
        &mut b,
        b"calls",
        of(Kind::Struct, 6),
        96,
        &[
            a, arr, 0, c, p_hof, 256, d, carr2, 320, 0, anon_union, 512, e, p_tagged, 576, g,
            uchar, 640,
        ],
    );
    // typedef struct { int a; } anon_t; GCC's va_list typedefs.
    let anon = add(&mut b, b"", of(Kind::Struct, 1), 4, &[a, int, 0]);
    add(&mut b, b"anon_t", of(Kind::Typedef, 0), anon, &[]);
    add(&mut b, b"__gnuc_va_list", of(Kind::Typedef, 0), 0, &[]);
    let va = add(
        &mut b,
        b"__builtin_va_list",
        of(Kind::Typedef, 0),
        long,
        &[],
    );
    add(&mut b, b"va_list", of(Kind::Typedef, 0), va, &[]);
    add(&mut b, b"empty", of(Kind::Struct, 0), 0, &[]);
    more_corners(&mut b, int, long, uchar);
    let proto_v = add(&mut b, b"", of(Kind::FuncProto, 1), int, &[0, 0]);
    add(&mut b, b"fn", of(Kind::Func, 0), proto_v, &[]);
    b
}

/// GCC's `__Poly8_t` in use, a typedef met through its own struct, gaps
/// inside runs of bitfields, enums of 1 and 8 bytes, qualified pointers,
/// pointers to arrays, variables and sections.
fn more_corners(b: &mut Btf, int: u32, long: u32, uchar: u32) {
    let (p, v, n, w) = (s(b, b"p"), s(b, b"v"), s(b, b"next"), s(b, b"w"));
    let poly = b.find_by_name_kind(b"__Poly8_t", Kind::Int).unwrap().0;
    add(b, b"uses_poly", of(Kind::Struct, 1), 1, &[p, poly, 0]);
    // typedef struct tnode tnode_t; struct tnode { tnode_t *next; int v; };
    let tnode = b.type_count();
    let tnode_t = add(b, b"tnode_t", of(Kind::Typedef, 0), tnode + 1, &[]);
    add(
        b,
        b"tnode",
        of(Kind::Struct, 2),
        16,
        &[n, tnode + 2, 0, v, int, 64],
    );
    add(b, b"", of(Kind::Ptr, 0), tnode_t, &[]);
    // struct bf { int a: 3; <gap> int b: 4 at bit 20; unsigned char c at byte 4;
    // long int d: 5 at bit 64; <gap> long int e: 7 at bit 100; }
    let (a, bb, c, d, e) = (s(b, b"a"), s(b, b"b"), s(b, b"c"), s(b, b"d"), s(b, b"e"));
    add(
        b,
        b"bf",
        flagged(Kind::Struct, 5),
        16,
        &[
            a,
            int,
            3 << 24,
            bb,
            int,
            4 << 24 | 20,
            c,
            uchar,
            32,
            d,
            long,
            5 << 24 | 64,
            e,
            long,
            7 << 24 | 100,
        ],
    );
    let (x1, x2) = (s(b, b"X1"), s(b, b"X2"));
    let small = add(b, b"small", of(Kind::Enum, 1), 1, &[x1, 1]);
    let wide = add(b, b"wide", of(Kind::Enum, 1), 8, &[x2, 2]);
    let (y1, y2) = (s(b, b"Y1"), s(b, b"Y2"));
    let big = add(b, b"big", of(Kind::Enum64, 2), 8, &[y1, 1, 1, y2, 2, 0]);
    let cptr = {
        let ptr = add(b, b"", of(Kind::Ptr, 0), int, &[]);
        let c = add(b, b"", of(Kind::Const, 0), ptr, &[]);
        add(b, b"", of(Kind::Volatile, 0), c, &[])
    };
    let arr3 = add(b, b"", of(Kind::Array, 0), 0, &[int, int, 3]);
    let p_arr3 = add(b, b"", of(Kind::Ptr, 0), arr3, &[]);
    let arr_p = add(b, b"", of(Kind::Array, 0), 0, &[p_arr3, int, 2]);
    let holder = add(
        b,
        b"holder",
        of(Kind::Struct, 5),
        56,
        &[
            a, small, 0, bb, wide, 64, c, big, 128, d, cptr, 192, w, arr_p, 256,
        ],
    );
    let var = add(b, b"the_holder", of(Kind::Var, 0), holder, &[1]);
    add(b, b".data", of(Kind::Datasec, 1), 56, &[var, 0, 56]);
}

fn kbtf_c(btf: &Btf, roots: &[u32]) -> std::io::Result<Vec<u8>> {
    let opts = COptions {
        roots: roots.iter().map(|&id| TypeId(id)).collect(),
        ..COptions::default()
    };
    let mut out = Vec::new();
    write_c(btf, &opts, &mut out)?;
    Ok(out)
}

#[test]
fn corners_match_bpftool() {
    let btf = corners();
    let got = kbtf_c(&btf, &[]).unwrap();
    if std::env::var_os("KBTF_SHOW_C").is_some() {
        println!("{}", String::from_utf8_lossy(&got));
    }
    let Some(bpftool) = Bpftool::find() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("corners.btf");
    std::fs::write(&file, btf.to_bytes()).unwrap();
    let want = bpftool.dump_c(None, &file).unwrap();
    if got != want {
        panic!(
            "kbtf:\n{}\nbpftool:\n{}",
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want)
        );
    }
}

#[test]
fn other_byte_order_matches_bpftool() {
    let swapped = corners().to_bytes_endian(Endian::NATIVE.other());
    let got = kbtf_c(&Btf::parse(&swapped).unwrap(), &[]).unwrap();
    let Some(bpftool) = Bpftool::find() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("swapped.btf");
    std::fs::write(&file, &swapped).unwrap();
    assert!(got == bpftool.dump_c(None, &file).unwrap());
}

#[test]
fn roots_dump_what_they_need() {
    let btf = corners();
    let list = btf.find_by_name_kind(b"list", Kind::Struct).unwrap().0;
    let text = String::from_utf8(kbtf_c(&btf, &[list]).unwrap()).unwrap();
    let body = text
        .split("#endif\n\n")
        .nth(1)
        .and_then(|t| {
            t.split("#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop")
                .next()
        })
        .unwrap();
    assert_eq!(
        body,
        "struct list;\n\n\
         struct node {\n\tstruct node *f;\n\tstruct list *g;\n};\n\n\
         struct list {\n\tstruct node a;\n};\n\n"
    );
    assert!(kbtf_c(&btf, &[btf.type_count()]).is_err());
}

#[test]
fn pointer_to_itself_is_an_error() {
    let mut b = Btf::new();
    add(&mut b, b"", of(Kind::Ptr, 0), 1, &[]);
    assert!(kbtf_c(&b, &[]).is_err());
}

#[test]
fn struct_embedding_itself_is_an_error() {
    let mut b = Btf::new();
    let a = s(&mut b, b"a");
    add(&mut b, b"loop", of(Kind::Struct, 1), 4, &[a, 1, 0]);
    assert!(kbtf_c(&b, &[]).is_err());
}

#[test]
fn deep_chains_are_an_error_not_a_stack_overflow() {
    let mut b = Btf::new();
    let int = add(&mut b, b"int", of(Kind::Int, 0), 4, &[0x0100_0020]);
    let mut prev = int;
    for _ in 0..100_000 {
        prev = add(&mut b, b"", of(Kind::Const, 0), prev, &[]);
    }
    add(&mut b, b"deep_t", of(Kind::Typedef, 0), prev, &[]);
    assert!(kbtf_c(&b, &[]).is_err());
    assert!(kbtf_c(&nested_anonymous(100_000), &[]).is_err());
}

/// `outer` holding `depth` anonymous structs, each inside the next.
fn nested_anonymous(depth: usize) -> Btf {
    let mut b = Btf::new();
    let int = add(&mut b, b"int", of(Kind::Int, 0), 4, &[0x0100_0020]);
    let a = s(&mut b, b"a");
    let mut prev = int;
    for _ in 0..depth {
        prev = add(&mut b, b"", of(Kind::Struct, 1), 4, &[a, prev, 0]);
    }
    add(&mut b, b"outer", of(Kind::Struct, 1), 4, &[a, prev, 0]);
    b
}

#[test]
fn nesting_within_the_bound_matches_bpftool() {
    // Writing each level takes two steps of the bound (the declaration and
    // its chain): 100 levels fit in 256, 150 do not.
    let btf = nested_anonymous(100);
    let got = kbtf_c(&btf, &[]).unwrap();
    assert!(kbtf_c(&nested_anonymous(150), &[]).is_err());
    let Some(bpftool) = Bpftool::find() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nested.btf");
    std::fs::write(&file, btf.to_bytes()).unwrap();
    assert!(got == bpftool.dump_c(None, &file).unwrap());
}

#[test]
fn dangling_ids_are_an_error() {
    let mut b = Btf::new();
    let a = s(&mut b, b"a");
    add(&mut b, b"s", of(Kind::Struct, 1), 4, &[a, 99, 0]);
    add(&mut b, b"", of(Kind::Ptr, 0), 77, &[]);
    assert!(kbtf_c(&b, &[]).is_err());
}
