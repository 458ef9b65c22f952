//! `kbtf_btf::check` against the running kernel, the oracle: real BTF that
//! the kernel accepts has no findings, and for each rule a BTF broken in just
//! that way gets the finding the kernel's verifier log gives.
//!
//! The kernel half needs permission to run `bpf(BPF_BTF_LOAD)` (root or
//! CAP_BPF); without it that half is skipped with a message.

use kbtf_testsupport::corpus;
mod fixtures;
mod kernel_oracle;

use std::sync::Arc;

use fixtures::every_kind;
use kbtf_btf::check::{check, check_blob, Finding};
use kbtf_btf::{Btf, Info, Kind, StrOff, TypeId};
use kernel_oracle::{kernel_failure, kernel_verdict, Rng};

#[test]
fn every_kind_fixture_is_clean_and_accepted() {
    let btf = every_kind();
    assert_eq!(check(&btf), Vec::<Finding>::new());
    let blob = btf.to_bytes();
    assert_eq!(check_blob(&blob, None), Vec::<Finding>::new());
    if let Some(verdict) = kernel_verdict(&blob) {
        verdict.unwrap_or_else(|r| panic!("{r}\n{}", r.log));
    }
}

#[test]
fn corpus_has_no_findings_and_the_kernel_accepts_it() {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let bytes = kbtf_btf::input::FileBytes::open(&corpus.vmlinux()).unwrap();
    let blob = kbtf_btf::input::btf_blob(&bytes).unwrap();
    assert_eq!(check_blob(&blob, None), Vec::<Finding>::new(), "vmlinux");
    let kernel = kernel_verdict(&blob);
    if let Some(verdict) = &kernel {
        verdict.as_ref().unwrap_or_else(|r| panic!("vmlinux: {r}"));
    }
    let base = Arc::new(Btf::parse(&blob).unwrap());
    drop(bytes);

    // Every module is checked; every 25th is also put to the kernel, merged
    // with vmlinux (the kernel loads only base BTF from userspace).
    let modules = corpus.modules();
    let mut loaded = 0;
    for (i, path) in modules.iter().enumerate() {
        let bytes = kbtf_btf::input::FileBytes::open(path).unwrap();
        let blob = kbtf_btf::input::btf_blob(&bytes).unwrap();
        let what = path.display();
        assert_eq!(
            check_blob(&blob, Some(&base)),
            Vec::<Finding>::new(),
            "{what}"
        );
        if i % 25 == 0 && kernel.is_some() {
            let split = Btf::parse_split(&blob, Some(base.clone())).unwrap();
            let merged = split.flatten();
            assert_eq!(check(&merged), Vec::<Finding>::new(), "{what} merged");
            if let Some(verdict) = kernel_verdict(&merged.to_bytes()) {
                verdict.unwrap_or_else(|r| panic!("{what} merged: {r}"));
                loaded += 1;
            }
        }
    }
    println!(
        "no findings: vmlinux + {} modules; accepted by the running kernel: {} (vmlinux{})",
        modules.len(),
        if kernel.is_some() { 1 + loaded } else { 0 },
        if kernel.is_some() {
            format!(" + {loaded} modules merged with it")
        } else {
            " not asked".into()
        }
    );
    assert_eq!(modules.len(), 1138);
}

/// One broken BTF: what the checker must say first, as `(id, message)`.
struct Case {
    name: &'static str,
    blob: Vec<u8>,
    id: Option<u32>,
    message: &'static str,
}

fn info(kind: Kind, kflag: bool, vlen: u32) -> Info {
    Info::new(kind, kflag, vlen)
}

/// The fixture plus records added by `add`; `id` is the first added id.
fn with(add: impl FnOnce(&mut Btf, u32)) -> Vec<u8> {
    let mut b = every_kind();
    let first = b.type_count();
    add(&mut b, first);
    b.to_bytes()
}

fn s(b: &mut Btf, name: &str) -> u32 {
    b.add_str(name.as_bytes()).unwrap().0
}

fn rec(b: &mut Btf, name: u32, info: Info, size_or_type: u32, rest: &[u32]) -> u32 {
    b.add_type(StrOff(name), info, size_or_type, rest)
        .unwrap()
        .0
}

/// Rewrites a header field (byte offset `at`) of a native-order blob.
fn set(blob: &mut [u8], at: usize, v: u32) {
    blob[at..at + 4].copy_from_slice(&v.to_ne_bytes());
}

fn get(blob: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(blob[at..at + 4].try_into().unwrap())
}

/// Fixture ids used below: 1 int, 2 ptr to int, 4 struct s, 13 FUNC_PROTO,
/// 14 FUNC, 15 VAR, 7 ENUM.
fn cases() -> Vec<Case> {
    let good = every_kind().to_bytes();
    let n = every_kind().type_count(); // the first added id
    let mut cases = Vec::new();
    let mut case = |name, blob, id: Option<u32>, message| {
        cases.push(Case {
            name,
            blob,
            id,
            message,
        })
    };
    let int = 1;
    let (ptr, st, proto, func, var) = (2, 4, 13, 14, 15);
    assert_eq!(every_kind().get(TypeId(st)).unwrap().kind(), Kind::Struct);
    assert_eq!(
        every_kind().get(TypeId(proto)).unwrap().kind(),
        Kind::FuncProto
    );
    assert_eq!(every_kind().get(TypeId(func)).unwrap().kind(), Kind::Func);
    assert_eq!(every_kind().get(TypeId(var)).unwrap().kind(), Kind::Var);

    // Header and sections.
    let mut b = good.clone();
    b[0] ^= 1;
    case("bad magic", b, None, "Invalid magic");
    let mut b = good.clone();
    b[2] = 2;
    case("version 2", b, None, "Unsupported version");
    let mut b = good.clone();
    b[3] = 1;
    case("flags", b, None, "Unsupported flags");
    let mut b = good[..24].to_vec();
    b.extend_from_slice(&[1, 0, 0, 0]);
    b.extend_from_slice(&good[24..]);
    set(&mut b, 4, 28);
    case("non-zero header tail", b, None, "Unsupported btf_header");
    let (type_len, str_off, str_len) = (get(&good, 12), get(&good, 16), get(&good, 20));
    let mut b = good[..24 + type_len as usize].to_vec();
    b.extend_from_slice(&[0; 4]);
    b.extend_from_slice(&good[24 + str_off as usize..]);
    set(&mut b, 16, str_off + 4);
    case("gap before strings", b, None, "Unsupported section found");
    let mut b = good.clone();
    set(&mut b, 16, str_off - 4);
    set(&mut b, 20, str_len + 4);
    case("overlapping sections", b, None, "Section overlap found");
    let mut b = good.clone();
    set(&mut b, 20, str_len + 4);
    case(
        "strings past the end",
        b,
        None,
        "Total section length too long",
    );
    let mut strs = good[24 + str_off as usize..].to_vec();
    strs.resize(strs.len().next_multiple_of(4), 0);
    let mut b = good[..24].to_vec();
    b.extend_from_slice(&strs);
    b.extend_from_slice(&good[24..24 + type_len as usize]);
    set(&mut b, 8, strs.len() as u32);
    set(&mut b, 16, 0);
    set(&mut b, 20, strs.len() as u32);
    case("strings first", b, None, "String section is not at the end");
    let mut b = good.clone();
    b[24 + str_off as usize] = b'x';
    case("no empty string first", b, None, "Invalid string section");
    let mut b = good[..24].to_vec();
    b.extend_from_slice(&good[24 + str_off as usize..]);
    set(&mut b, 12, 0);
    set(&mut b, 16, 0);
    case("no types", b, None, "No type found");

    // Records kbtf's own parser refuses; the checker words them as the kernel does.
    let append_raw = |words: &[u32]| {
        let mut b = good[..24 + type_len as usize].to_vec();
        for w in words {
            b.extend_from_slice(&w.to_ne_bytes());
        }
        b.extend_from_slice(&good[24 + str_off as usize..]);
        set(&mut b, 12, type_len + 4 * words.len() as u32);
        set(&mut b, 16, str_off + 4 * words.len() as u32);
        b
    };
    case(
        "kind 20",
        append_raw(&[0, 20 << 24, 0]),
        Some(n),
        "Invalid kind:20",
    );
    case(
        "name past the strings",
        append_raw(&[0xff_fff0, Info::new(Kind::Int, false, 0).0, 4, 32]),
        Some(n),
        "Invalid name_offset:16777200",
    );

    // One record at a time.
    let meta = |add: fn(&mut Btf, u32)| with(add);
    case(
        "vlen over 16 bits",
        meta(|b, _| {
            rec(
                b,
                0,
                Info(Info::new(Kind::Int, false, 0).0 | 1 << 16),
                4,
                &[32],
            );
        }),
        Some(n),
        "Invalid btf_info:1010000",
    );
    case(
        "INT with vlen",
        meta(|b, _| {
            rec(b, 0, info(Kind::Int, false, 1), 4, &[32]);
        }),
        Some(n),
        "vlen != 0",
    );
    case(
        "INT with kind_flag",
        meta(|b, _| {
            rec(b, 0, info(Kind::Int, true, 0), 4, &[32]);
        }),
        Some(n),
        "Invalid btf_info kind_flag",
    );
    case(
        "INT data",
        meta(|b, _| {
            rec(b, 0, info(Kind::Int, false, 0), 4, &[0x1000_0020]);
        }),
        Some(n),
        "Invalid int_data:10000020",
    );
    case(
        "INT of 129 bits",
        meta(|b, _| {
            rec(b, 0, info(Kind::Int, false, 0), 32, &[129]);
        }),
        Some(n),
        "nr_bits exceeds 128",
    );
    case(
        "INT wider than its size",
        meta(|b, _| {
            rec(b, 0, info(Kind::Int, false, 0), 4, &[40]);
        }),
        Some(n),
        "nr_bits exceeds type_size",
    );
    case(
        "INT encoding",
        meta(|b, _| {
            rec(b, 0, info(Kind::Int, false, 0), 4, &[0x0300_0020]);
        }),
        Some(n),
        "Unsupported encoding",
    );
    case(
        "named PTR",
        meta(|b, _| {
            let name = s(b, "p");
            rec(b, name, info(Kind::Ptr, false, 0), 1, &[]);
        }),
        Some(n),
        "Invalid name",
    );
    case(
        "TYPEDEF named like a number",
        meta(|b, _| {
            let name = s(b, "1t");
            rec(b, name, info(Kind::Typedef, false, 0), 1, &[]);
        }),
        Some(n),
        "Invalid name",
    );
    case(
        "CONST with kind_flag",
        meta(|b, _| {
            rec(b, 0, info(Kind::Const, true, 0), 1, &[]);
        }),
        Some(n),
        "Invalid btf_info kind_flag",
    );
    case(
        "anonymous TYPE_TAG",
        meta(|b, _| {
            rec(b, 0, info(Kind::TypeTag, false, 0), 1, &[]);
        }),
        Some(n),
        "Invalid name",
    );
    case(
        "anonymous FWD",
        meta(|b, _| {
            rec(b, 0, info(Kind::Fwd, false, 0), 0, &[]);
        }),
        Some(n),
        "Invalid name",
    );
    case(
        "FWD with a type",
        meta(|b, _| {
            let name = s(b, "f2");
            rec(b, name, info(Kind::Fwd, false, 0), 1, &[]);
        }),
        Some(n),
        "type != 0",
    );
    case(
        "ARRAY with size",
        meta(|b, _| {
            rec(b, 0, info(Kind::Array, false, 0), 4, &[1, 1, 2]);
        }),
        Some(n),
        "size != 0",
    );
    case(
        "ARRAY of void",
        meta(|b, _| {
            rec(b, 0, info(Kind::Array, false, 0), 0, &[0, 1, 2]);
        }),
        Some(n),
        "Invalid elem",
    );
    case(
        "ARRAY without index",
        meta(|b, _| {
            rec(b, 0, info(Kind::Array, false, 0), 0, &[1, 0, 2]);
        }),
        Some(n),
        "Invalid index",
    );
    case(
        "member named a-b",
        meta(|b, _| {
            let m = s(b, "a-b");
            rec(b, 0, info(Kind::Struct, false, 1), 4, &[m, 1, 0]);
        }),
        Some(n),
        "Invalid name",
    );
    case(
        "void member",
        meta(|b, _| {
            rec(b, 0, info(Kind::Struct, false, 1), 4, &[0, 0, 0]);
        }),
        Some(n),
        "Invalid type_id",
    );
    case(
        "UNION member at 8",
        meta(|b, _| {
            rec(b, 0, info(Kind::Union, false, 1), 4, &[0, 1, 8]);
        }),
        Some(n),
        "Invalid member bits_offset",
    );
    case(
        "members out of order",
        meta(|b, _| {
            rec(b, 0, info(Kind::Struct, false, 2), 8, &[0, 1, 32, 0, 1, 0]);
        }),
        Some(n),
        "Invalid member bits_offset",
    );
    case(
        "member past the end",
        meta(|b, _| {
            rec(b, 0, info(Kind::Struct, false, 1), 4, &[0, 1, 40]);
        }),
        Some(n),
        "Member bits_offset exceeds its struct size",
    );
    case(
        "ENUM of 3 bytes",
        meta(|b, _| {
            rec(b, 0, info(Kind::Enum, false, 0), 3, &[]);
        }),
        Some(n),
        "Unexpected size",
    );
    case(
        "anonymous ENUM value",
        meta(|b, _| {
            rec(b, 0, info(Kind::Enum, false, 1), 4, &[0, 7]);
        }),
        Some(n),
        "Invalid name",
    );
    case(
        "named FUNC_PROTO",
        meta(|b, _| {
            let name = s(b, "fp");
            rec(b, name, info(Kind::FuncProto, false, 0), 0, &[]);
        }),
        Some(n),
        "Invalid name",
    );
    case(
        "extern FUNC",
        meta(|b, _| {
            let name = s(b, "g");
            rec(b, name, info(Kind::Func, false, 2), 13, &[]);
        }),
        Some(n),
        "Invalid func linkage",
    );
    case(
        "anonymous FUNC",
        meta(|b, _| {
            rec(b, 0, info(Kind::Func, false, 0), 13, &[]);
        }),
        Some(n),
        "Invalid name",
    );
    case(
        "extern VAR",
        meta(|b, _| {
            let name = s(b, "w");
            rec(b, name, info(Kind::Var, false, 0), 1, &[2]);
        }),
        Some(n),
        "Linkage not supported",
    );
    case(
        "VAR of void",
        meta(|b, _| {
            let name = s(b, "w");
            rec(b, name, info(Kind::Var, false, 0), 0, &[0]);
        }),
        Some(n),
        "Invalid type_id",
    );
    case(
        "empty DATASEC",
        meta(|b, _| {
            let name = s(b, ".bss");
            rec(b, name, info(Kind::Datasec, false, 0), 0, &[]);
        }),
        Some(n),
        "size == 0",
    );
    case(
        "DATASEC entry past the end",
        meta(|b, _| {
            let name = s(b, ".bss");
            rec(b, name, info(Kind::Datasec, false, 1), 4, &[15, 4, 4]);
        }),
        Some(n),
        "Invalid offset",
    );
    case(
        "DATASEC entry of size 0",
        meta(|b, _| {
            let name = s(b, ".bss");
            rec(b, name, info(Kind::Datasec, false, 1), 4, &[15, 0, 0]);
        }),
        Some(n),
        "Invalid size",
    );
    case(
        "DATASEC entry overhanging",
        meta(|b, _| {
            let name = s(b, ".bss");
            rec(b, name, info(Kind::Datasec, false, 1), 4, &[15, 2, 4]);
        }),
        Some(n),
        "Invalid offset+size",
    );
    case(
        "FLOAT of 3 bytes",
        meta(|b, _| {
            let name = s(b, "f3");
            rec(b, name, info(Kind::Float, false, 0), 3, &[]);
        }),
        Some(n),
        "Invalid type_size",
    );
    case(
        "DECL_TAG without value",
        meta(|b, _| {
            rec(b, 0, info(Kind::DeclTag, false, 0), 15, &[u32::MAX]);
        }),
        Some(n),
        "Invalid value",
    );
    case(
        "DECL_TAG component -2",
        meta(|b, _| {
            let name = s(b, "t2");
            rec(b, name, info(Kind::DeclTag, false, 0), 15, &[-2i32 as u32]);
        }),
        Some(n),
        "Invalid component_idx",
    );

    // References.
    case(
        "typedef loop",
        with(|b, n| {
            let name = s(b, "loop");
            rec(b, name, info(Kind::Typedef, false, 0), n + 1, &[]);
            rec(b, 0, info(Kind::Const, false, 0), n, &[]);
        }),
        Some(n),
        "Loop detected",
    );
    case(
        "struct loop",
        with(|b, n| {
            let (a, m) = (s(b, "A"), s(b, "m"));
            rec(b, a, info(Kind::Struct, false, 1), 4, &[m, n + 1, 0]);
            let bb = s(b, "B");
            rec(b, bb, info(Kind::Struct, false, 1), 4, &[m, n, 0]);
        }),
        Some(n),
        "Loop detected",
    );
    case(
        "CONST of a VAR",
        meta(|b, _| {
            rec(b, 0, info(Kind::Const, false, 0), 15, &[]);
        }),
        Some(n),
        "Invalid type_id",
    );
    // A FUNC resolves to its FUNC_PROTO, but only once resolved: a pointer
    // to an earlier FUNC passes, to a later one not.
    case(
        "pointer to a later FUNC",
        with(|b, n| {
            rec(b, 0, info(Kind::Ptr, false, 0), n + 1, &[]);
            let name = s(b, "g");
            rec(b, name, info(Kind::Func, false, 0), 13, &[]);
        }),
        Some(n),
        "Invalid type_id",
    );
    case(
        "VAR of a FWD",
        meta(|b, _| {
            let name = s(b, "w");
            rec(b, name, info(Kind::Var, false, 0), 8, &[0]);
        }),
        Some(n),
        "Invalid type_id",
    );
    case(
        "member of FWD type",
        meta(|b, _| {
            rec(b, 0, info(Kind::Struct, false, 1), 4, &[0, 8, 0]);
        }),
        Some(n),
        "Invalid member",
    );
    case(
        "int member overhanging",
        meta(|b, _| {
            rec(b, 0, info(Kind::Struct, false, 1), 4, &[0, 1, 8]);
        }),
        Some(n),
        "Member exceeds struct_size",
    );
    case(
        "bitfield wider than its int",
        meta(|b, _| {
            rec(b, 0, info(Kind::Struct, true, 1), 8, &[0, 1, 33 << 24]);
        }),
        Some(n),
        "Invalid member bitfield_size",
    );
    case(
        "bitfield of an odd int",
        with(|b, n| {
            let name = s(b, "u3");
            rec(b, name, info(Kind::Int, false, 0), 1, &[3]);
            rec(b, 0, info(Kind::Struct, true, 1), 4, &[0, n, 0]);
        }),
        Some(n + 1),
        "Invalid member base type",
    );
    case(
        "pointer member off a byte",
        meta(|b, _| {
            rec(b, 0, info(Kind::Struct, false, 1), 16, &[0, 2, 4]);
        }),
        Some(n),
        "Member is not byte aligned",
    );
    case(
        "struct as array index",
        meta(|b, _| {
            rec(b, 0, info(Kind::Array, false, 0), 0, &[1, 4, 2]);
        }),
        Some(n),
        "Invalid index",
    );
    case(
        "array of an odd int",
        with(|b, n| {
            let name = s(b, "u3");
            rec(b, name, info(Kind::Int, false, 0), 1, &[3]);
            rec(b, 0, info(Kind::Array, false, 0), 0, &[n, 1, 2]);
        }),
        Some(n + 1),
        "Invalid array of int",
    );
    case(
        "array of FUNC_PROTO",
        meta(|b, _| {
            rec(b, 0, info(Kind::Array, false, 0), 0, &[13, 1, 2]);
        }),
        Some(n),
        "Invalid elem",
    );
    case(
        "array over 4 GiB",
        meta(|b, _| {
            rec(b, 0, info(Kind::Array, false, 0), 0, &[1, 1, 0x4000_0001]);
        }),
        Some(n),
        "Array size overflows U32_MAX",
    );
    case(
        "FUNC with an unnamed parameter",
        with(|b, n| {
            rec(b, 0, info(Kind::FuncProto, false, 1), 1, &[0, 1]);
            let name = s(b, "h");
            rec(b, name, info(Kind::Func, false, 0), n, &[]);
        }),
        Some(n + 1),
        "Invalid arg#1",
    );
    case(
        "DECL_TAG on an INT",
        meta(|b, _| {
            let name = s(b, "t2");
            rec(b, name, info(Kind::DeclTag, false, 0), 1, &[u32::MAX]);
        }),
        Some(n),
        "Invalid type_id",
    );
    case(
        "DECL_TAG on member 5 of 2",
        meta(|b, _| {
            let name = s(b, "t2");
            rec(b, name, info(Kind::DeclTag, false, 0), 4, &[5]);
        }),
        Some(n),
        "Invalid component_idx",
    );
    case(
        "DATASEC of an INT",
        meta(|b, _| {
            let name = s(b, ".bss");
            rec(b, name, info(Kind::Datasec, false, 1), 4, &[1, 0, 4]);
        }),
        Some(n),
        "Not a VAR kind member",
    );
    case(
        "DATASEC entry smaller than its VAR",
        meta(|b, _| {
            let name = s(b, ".bss");
            rec(b, name, info(Kind::Datasec, false, 1), 4, &[15, 0, 2]);
        }),
        Some(n),
        "Invalid size",
    );
    case(
        "FUNC_PROTO returning a VAR",
        meta(|b, _| {
            rec(b, 0, info(Kind::FuncProto, false, 0), 15, &[]);
        }),
        Some(n),
        "Invalid return type",
    );
    case(
        "void parameter",
        meta(|b, _| {
            rec(b, 0, info(Kind::FuncProto, false, 2), 1, &[0, 0, 0, 1]);
        }),
        Some(n),
        "Invalid arg#1",
    );
    case(
        "named varargs",
        meta(|b, _| {
            let x = s(b, "x");
            rec(b, 0, info(Kind::FuncProto, false, 2), 1, &[x, 1, x, 0]);
        }),
        Some(n),
        "Invalid arg#2",
    );
    case(
        "33 CONSTs deep",
        with(|b, n| {
            for i in 0..33 {
                rec(b, 0, info(Kind::Const, false, 0), n + i + 1, &[]);
            }
            rec(b, 0, info(Kind::Const, false, 0), 1, &[]);
        }),
        Some(n),
        "Exceeded max resolving depth:32",
    );

    // The kernel's table of types ends below id 0xfffff (BTF_MAX_TYPE): a
    // reference to that id finds no type, though the record is there.
    case(
        "pointer past the type table",
        pointers(0x10_0000, |r| r[0][2] = 0xf_ffff),
        Some(1),
        "Invalid type_id",
    );

    // The kernel keeps each resolved array's size: nesting is no limit.
    case(
        "40 nested arrays in a struct too small",
        with(|b, n| {
            rec(b, 0, info(Kind::Array, false, 0), 0, &[1, 1, 1]);
            for i in 0..39 {
                rec(b, 0, info(Kind::Array, false, 0), 0, &[n + i, 1, 1]);
            }
            let m = s(b, "m");
            rec(b, 0, info(Kind::Struct, false, 1), 3, &[m, n + 39, 0]);
        }),
        Some(n + 40),
        "Member exceeds struct_size",
    );

    // Type tags before other modifiers.
    case(
        "CONST then TYPE_TAG",
        with(|b, n| {
            let name = s(b, "tt2");
            rec(b, name, info(Kind::TypeTag, false, 0), 1, &[]);
            rec(b, 0, info(Kind::Const, false, 0), n, &[]);
        }),
        Some(n + 1),
        "Type tags don't precede modifiers",
    );
    let _ = (int, ptr);
    cases
}

#[test]
fn each_rule_agrees_with_the_kernel() {
    let cases = cases();
    let mut asked = 0;
    for c in &cases {
        let findings = check_blob(&c.blob, None);
        let first = findings
            .first()
            .unwrap_or_else(|| panic!("{}: no finding", c.name));
        assert_eq!(
            (first.id.map(|i| i.0), first.message.as_str()),
            (c.id, c.message),
            "{}: all findings {findings:#?}",
            c.name
        );
        let Some(verdict) = kernel_verdict(&c.blob) else {
            continue;
        };
        let reject = match verdict {
            Ok(()) => panic!("{}: the kernel accepted what the checker refused", c.name),
            Err(r) => r,
        };
        let (kernel_id, line) = kernel_failure(&reject.log);
        assert!(
            line.contains(c.message),
            "{}: the kernel says {line:?} (errno {}), the checker {first}",
            c.name,
            reject.errno
        );
        if let (Some(k), Some(id)) = (kernel_id, c.id) {
            assert_eq!(k, id, "{}: the kernel names [{k}] in {line:?}", c.name);
        }
        if std::env::var_os("KBTF_SHOW").is_some() {
            println!("{:40} checker: {first}\n{:40} kernel:  {line}", c.name, "");
        }
        asked += 1;
    }
    println!(
        "{} broken BTFs: checker findings as expected; the kernel agreed on {asked}",
        cases.len()
    );
}

/// A BTF of `n` anonymous pointers to void, with `edit` applied to the
/// records (`records[i]` is type `i + 1`) and "a" at string offset 1.
fn pointers(n: usize, edit: impl FnOnce(&mut Vec<Vec<u32>>)) -> Vec<u8> {
    let ptr = Info::new(Kind::Ptr, false, 0).0;
    let mut records = vec![vec![0, ptr, 0]; n];
    edit(&mut records);
    let types: Vec<u8> = records
        .iter()
        .flatten()
        .flat_map(|w| w.to_ne_bytes())
        .collect();
    let mut b = every_kind().to_bytes()[..24].to_vec();
    set(&mut b, 12, types.len() as u32);
    set(&mut b, 16, types.len() as u32);
    set(&mut b, 20, 3);
    b.extend_from_slice(&types);
    b.extend_from_slice(b"\0a\0");
    b
}

/// The every-kind BTF with a header of `len` bytes (over 24), zero-padded.
fn longer_header(len: usize) -> Vec<u8> {
    let mut b = every_kind().to_bytes();
    b.splice(24..24, vec![0; len - 24]);
    set(&mut b, 4, len as u32);
    b
}

/// BTF that looks odd but is valid: both sides must accept it.
#[test]
fn valid_corner_cases_pass_both() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        // A FUNC resolves to its FUNC_PROTO once checked.
        (
            "pointer to an earlier FUNC",
            with(|b, _| {
                rec(b, 0, info(Kind::Ptr, false, 0), 14, &[]);
            }),
        ),
        (
            "struct pointing to itself",
            with(|b, n| {
                let (a, p) = (s(b, "A"), s(b, "p"));
                rec(b, a, info(Kind::Struct, false, 1), 8, &[p, n + 1, 0]);
                rec(b, 0, info(Kind::Ptr, false, 0), n + 2, &[]);
                rec(b, 0, info(Kind::Const, false, 0), n, &[]);
            }),
        ),
        (
            "typedef of void and const void pointer",
            with(|b, n| {
                let v = s(b, "v_t");
                rec(b, v, info(Kind::Typedef, false, 0), 0, &[]);
                rec(b, 0, info(Kind::Const, false, 0), 0, &[]);
                rec(b, 0, info(Kind::Ptr, false, 0), n + 1, &[]);
            }),
        ),
        (
            "zero-length array last",
            with(|b, n| {
                let (a, m) = (s(b, "flex"), s(b, "data"));
                rec(b, 0, info(Kind::Array, false, 0), 0, &[1, 1, 0]);
                rec(b, a, info(Kind::Struct, false, 2), 4, &[m, 1, 0, m, n, 32]);
            }),
        ),
        (
            "type tag with kind_flag, decl tag with kind_flag",
            with(|b, n| {
                let t = s(b, "attr");
                rec(b, t, info(Kind::TypeTag, true, 0), 1, &[]);
                rec(b, 0, info(Kind::Ptr, false, 0), n, &[]);
                rec(b, t, info(Kind::DeclTag, true, 0), 15, &[u32::MAX]);
            }),
        ),
        // The kernel takes any hdr_len whose extra bytes are zero, even
        // one that leaves the sections unaligned in the blob.
        ("header of 25 bytes", longer_header(25)),
        ("header of 28 bytes", longer_header(28)),
        // Each CONST on one resolved before it: the chain is long, but
        // the kernel never walks it, it keeps where each one leads.
        (
            "34 CONSTs, each on the one before, under a PTR",
            with(|b, n| {
                rec(b, 0, info(Kind::Const, false, 0), 1, &[]);
                for i in 0..33 {
                    rec(b, 0, info(Kind::Const, false, 0), n + i, &[]);
                }
                rec(b, 0, info(Kind::Ptr, false, 0), n + 33, &[]);
                let m = s(b, "m");
                rec(b, 0, info(Kind::Struct, false, 1), 4, &[m, n + 33, 0]);
            }),
        ),
        // Records past the kernel's type table (ids from 0xfffff on) get
        // the per-record checks only: this struct's member does not fit,
        // and nobody looks.
        (
            "struct past the type table",
            pointers(0x10_0010, |r| {
                let st = Info::new(Kind::Struct, false, 1).0;
                r.push(vec![1, st, 4, 1, 0xf_fff0, 0]);
            }),
        ),
        (
            "DATASEC with any printable name",
            with(|b, _| {
                let d = s(b, "?.data x");
                rec(b, d, info(Kind::Datasec, false, 1), 4, &[15, 0, 4]);
            }),
        ),
    ];
    for (name, blob) in &cases {
        assert_eq!(check_blob(blob, None), Vec::<Finding>::new(), "{name}");
        if let Some(verdict) = kernel_verdict(blob) {
            verdict.unwrap_or_else(|r| panic!("{name}: {r}\n{}", r.log));
        }
    }
    println!("{} valid corner cases pass", cases.len());
}

/// Random damage to the every-kind BTF (one to three bit flips or small
/// words written, mostly over the type section): the checker and the kernel must
/// agree on whether each is acceptable, and on the reason when it is not.
#[test]
fn random_damage_agrees_with_the_kernel() {
    let good = every_kind().to_bytes();
    let type_len = get(&good, 12) as usize;
    let mut rng = Rng(0x636865636b);
    let (mut asked, mut refused) = (0, 0);
    for round in 0..10_000 {
        let mut b = good.clone();
        for _ in 0..1 + rng.next() % 3 {
            // Mostly the type section, sometimes the header or the strings.
            let at = match rng.next() % 8 {
                0 => rng.next() as usize % (b.len() / 4) * 4,
                _ => 24 + (rng.next() as usize % (type_len / 4)) * 4,
            };
            if rng.next() % 2 == 0 {
                b[at + rng.next() as usize % 4] ^= 1 << (rng.next() % 8);
            } else {
                let w = [0, 1, 2, 8, 32, 64, 0xffff_ffff, 0x0100_0000][rng.next() as usize % 8];
                set(&mut b, at, w);
            }
        }
        let findings = check_blob(&b, None);
        let Some(verdict) = kernel_verdict(&b) else {
            return;
        };
        asked += 1;
        match (findings.first(), verdict) {
            (None, Ok(())) => {}
            (Some(f), Err(r)) => {
                refused += 1;
                let (_, line) = kernel_failure(&r.log);
                assert!(
                    line.contains(&f.message),
                    "mutant {round}: the kernel says {line:?}, the checker {f}"
                );
            }
            (None, Err(r)) => panic!(
                "mutant {round}: the checker missed {:?}",
                kernel_failure(&r.log).1
            ),
            (Some(f), Ok(())) => panic!("mutant {round}: the kernel accepts, the checker says {f}"),
        }
    }
    println!("{asked} mutants: checker and kernel agree ({refused} refused by both)");
}

/// The same with a real module: xt_policy.ko merged with the corpus vmlinux,
/// damaged only in the module's records, so the damage meets the shapes
/// real kernel types have.
#[test]
fn random_damage_to_a_real_module_agrees_with_the_kernel() {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let base = Arc::new(Btf::from_file(corpus.vmlinux()).unwrap());
    let module = Btf::from_file_split(corpus.module("xt_policy.ko"), Some(base.clone())).unwrap();
    let merged = module.flatten().to_bytes_endian(kbtf_btf::Endian::NATIVE);
    // The module's records are the last ones of the merged type section.
    let module_words: usize = module.own_types().map(|t| t.words().len()).sum();
    let types_end = 24 + get(&merged, 12) as usize;
    let first = types_end - 4 * module_words;
    let mut rng = Rng(0x6d6f64);
    let (mut asked, mut refused) = (0, 0);
    // Few rounds: a refusal near the end of a vmlinux-sized BTF comes with a
    // log of every type, which takes the kernel about 0.4 s to write.
    for round in 0..40 {
        let mut b = merged.clone();
        for _ in 0..1 + rng.next() % 2 {
            let at = first + (rng.next() as usize % module_words) * 4;
            if rng.next() % 2 == 0 {
                b[at + rng.next() as usize % 4] ^= 1 << (rng.next() % 8);
            } else {
                let w = [0, 1, 2, 8, 64, 0xffff_ffff, 0x0100_0000][rng.next() as usize % 7];
                set(&mut b, at, w);
            }
        }
        let findings = check_blob(&b, None);
        let Some(verdict) = kernel_verdict(&b) else {
            return;
        };
        asked += 1;
        match (findings.first(), verdict) {
            (None, Ok(())) => {}
            (Some(f), Err(r)) => {
                refused += 1;
                let (_, line) = kernel_failure(&r.log);
                assert!(
                    line.contains(&f.message),
                    "mutant {round}: the kernel says {line:?}, the checker {f}"
                );
            }
            (None, Err(r)) => panic!(
                "mutant {round}: the checker missed {:?}",
                kernel_failure(&r.log).1
            ),
            (Some(f), Ok(())) => {
                panic!("mutant {round}: the kernel accepts, the checker says {f}")
            }
        }
    }
    println!("{asked} mutants of xt_policy.ko + vmlinux: checker and kernel agree ({refused} refused by both)");
}

/// Small BTFs of random records, each shaped like its kind (names where
/// names go, ids among the BTF's own, sizes and offsets that matter), now
/// and then with a word of noise: the checker and the kernel must agree on
/// each. Unlike damage to a sound BTF, these reach the reference rules
/// (loops, members, arrays, prototypes, tags) in many combinations.
#[test]
fn random_small_btf_agrees_with_the_kernel() {
    let mut rng = Rng(0x72616e64);
    let (mut asked, mut refused) = (0, 0);
    for round in 0..30_000 {
        let blob = random_btf(&mut rng);
        let findings = check_blob(&blob, None);
        let Some(verdict) = kernel_verdict(&blob) else {
            return;
        };
        asked += 1;
        match (findings.first(), verdict) {
            (None, Ok(())) => {}
            (Some(f), Err(r)) => {
                refused += 1;
                let (_, line) = kernel_failure(&r.log);
                assert!(
                    line.contains(&f.message),
                    "btf {round}: the kernel says {line:?}, the checker {f}\n{}",
                    r.log
                );
            }
            (None, Err(r)) => panic!("btf {round}: the checker missed\n{}", r.log),
            (Some(f), Ok(())) => panic!("btf {round}: the kernel accepts, the checker says {f}"),
        }
    }
    println!("{asked} random BTFs: checker and kernel agree ({refused} refused by both)");
    assert!(
        refused > asked / 10 && refused < asked * 9 / 10,
        "a generator this lopsided tests little"
    );
}

fn random_btf(rng: &mut Rng) -> Vec<u8> {
    let mut b = Btf::new();
    let a = s(&mut b, "a");
    let sec = s(&mut b, ".d s");
    let n = 1 + rng.next() % 6;
    let mut r = |m: u64| rng.next() % m;
    let mut records = Vec::new();
    for _ in 0..n {
        let kind = Kind::from_raw(1 + r(19) as u8);
        let id = |r: &mut dyn FnMut(u64) -> u64| r(n + 1) as u32;
        let one_of = |r: &mut dyn FnMut(u64) -> u64, v: &[u32]| v[r(v.len() as u64) as usize];
        let vlen = r(3) as u32;
        let (name, kflag, size, rest): (u32, bool, u32, Vec<u32>) = match kind {
            Kind::Int => (
                a,
                false,
                one_of(&mut r, &[1, 4, 8]),
                vec![one_of(&mut r, &[0x0100_0020, 8, 64, 3])],
            ),
            Kind::Ptr | Kind::Const | Kind::Volatile | Kind::Restrict => {
                (0, false, id(&mut r), vec![])
            }
            Kind::Typedef | Kind::TypeTag => (a, false, id(&mut r), vec![]),
            Kind::Array => (
                0,
                false,
                0,
                vec![
                    id(&mut r),
                    id(&mut r),
                    one_of(&mut r, &[0, 1, 4, 0x4000_0001]),
                ],
            ),
            Kind::Struct | Kind::Union => {
                let kflag = r(4) == 0;
                let mut m = Vec::new();
                for _ in 0..vlen {
                    let off = one_of(&mut r, &[0, 8, 32, 64]);
                    let bits = if kflag {
                        one_of(&mut r, &[0, 3, 32]) << 24
                    } else {
                        0
                    };
                    m.extend([one_of(&mut r, &[0, a]), id(&mut r), off | bits]);
                }
                (
                    one_of(&mut r, &[0, a]),
                    kflag,
                    one_of(&mut r, &[0, 4, 8, 16]),
                    m,
                )
            }
            Kind::Enum => (a, false, 4, (0..vlen).flat_map(|i| [a, i]).collect()),
            Kind::Enum64 => (a, false, 8, (0..vlen).flat_map(|i| [a, i, 0]).collect()),
            Kind::Fwd => (a, r(2) == 0, 0, vec![]),
            Kind::Func => (a, false, id(&mut r), vec![]),
            Kind::FuncProto => {
                let p = (0..vlen)
                    .flat_map(|_| [one_of(&mut r, &[0, a]), id(&mut r)])
                    .collect();
                (0, false, id(&mut r), p)
            }
            Kind::Var => (a, false, id(&mut r), vec![r(2) as u32]),
            Kind::Datasec => {
                let v = (0..vlen)
                    .flat_map(|_| {
                        [
                            id(&mut r),
                            one_of(&mut r, &[0, 4, 8]),
                            one_of(&mut r, &[4, 8]),
                        ]
                    })
                    .collect();
                (sec, false, one_of(&mut r, &[4, 8, 16]), v)
            }
            Kind::Float => (a, false, one_of(&mut r, &[4, 8]), vec![]),
            Kind::DeclTag => (
                a,
                false,
                id(&mut r),
                vec![one_of(&mut r, &[u32::MAX, 0, 1])],
            ),
            Kind::Unknown(_) => unreachable!(),
        };
        let vlen = match kind {
            Kind::Struct
            | Kind::Union
            | Kind::Enum
            | Kind::Enum64
            | Kind::FuncProto
            | Kind::Datasec => vlen,
            Kind::Func => r(2) as u32,
            _ => 0,
        };
        let mut words = vec![name, Info::new(kind, kflag, vlen).0, size];
        words.extend(rest);
        records.push(words);
    }
    // Now and then a word of noise.
    if r(10) == 0 {
        let rec = r(records.len() as u64) as usize;
        let w = r(records[rec].len() as u64) as usize;
        if w != 1 {
            records[rec][w] = [0, 1, 7, u32::MAX][r(4) as usize];
        }
    }
    for words in &records {
        b.add_record(words).unwrap();
    }
    b.to_bytes()
}
