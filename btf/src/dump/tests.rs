//! Small hand-built BTF with every kind and the corner cases of each, dumped
//! by kbtf and by bpftool (the oracle) from the same blob.

use kbtf_testsupport::bpftool;

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;

use bpftool::{bpftool_json, Bpftool};

use super::{write_json, write_raw};
use crate::{Btf, Endian, Info, Kind, StrOff, TypeId};

/// Adds a type named `name` (`b""` for none).
fn add(b: &mut Btf, name: &[u8], info: Info, word: u32, rest: &[u32]) -> TypeId {
    let name = b.add_str(name).unwrap();
    b.add_type(name, info, word, rest).unwrap()
}

/// The info word of a kind with this vlen, kind_flag clear.
fn of(kind: Kind, vlen: u32) -> Info {
    Info::new(kind, false, vlen)
}

/// The info word of a kind with this vlen, kind_flag set.
fn flagged(kind: Kind, vlen: u32) -> Info {
    Info::new(kind, true, vlen)
}

fn s(b: &mut Btf, name: &[u8]) -> u32 {
    b.add_str(name).unwrap().0
}

/// Every kind, each way it can print. With `odd_names`, also names that
/// bpftool's JSON writer gets wrong (a backslash, which it writes as `\n`)
/// or leaves invalid (a control character, bytes that are not UTF-8); the
/// text dump writes them as they are.
fn every_kind(odd_names: bool) -> Btf {
    let mut b = Btf::new();
    let int = add(&mut b, b"int", of(Kind::Int, 0), 4, &[0x0100_0020]);
    add(
        &mut b,
        b"unsigned char",
        of(Kind::Int, 0),
        1,
        &[0x0000_0008],
    );
    add(&mut b, b"char", of(Kind::Int, 0), 1, &[0x0200_0008]);
    add(&mut b, b"_Bool", of(Kind::Int, 0), 1, &[0x0400_0008]);
    // SIGNED|CHAR is no encoding bpftool names; a bit offset and odd width.
    add(&mut b, b"odd", of(Kind::Int, 0), 2, &[0x0302_0005]);
    let ptr = add(&mut b, b"", of(Kind::Ptr, 0), int.0, &[]);
    add(&mut b, b"", of(Kind::Const, 0), ptr.0, &[]);
    add(&mut b, b"", of(Kind::Volatile, 0), int.0, &[]);
    add(&mut b, b"", of(Kind::Restrict, 0), ptr.0, &[]);
    add(&mut b, b"int_t", of(Kind::Typedef, 0), int.0, &[]);
    add(&mut b, b"user", of(Kind::TypeTag, 0), int.0, &[]);
    add(&mut b, b"", of(Kind::Array, 0), 0, &[int.0, int.0, 10]);

    let (a, c) = (s(&mut b, b"a"), s(&mut b, b"c"));
    let members = [a, int.0, 0, 0, 2, 32, c, 3, 40];
    let plain = add(&mut b, b"s", of(Kind::Struct, 3), 8, &members);
    let (x, y, z) = (s(&mut b, b"x"), s(&mut b, b"y"), s(&mut b, b"z"));
    // kind_flag: bitfield size in the top 8 bits of the offset; 0 for a plain member.
    let bitfields = [x, int.0, 3 << 24, y, int.0, 5 << 24 | 3, z, int.0, 8];
    add(&mut b, b"bits", flagged(Kind::Struct, 3), 4, &bitfields);
    let members = [a, int.0, 0, 0, plain.0, 0];
    add(&mut b, b"", of(Kind::Union, 2), 4, &members);
    add(&mut b, b"empty", of(Kind::Struct, 0), 0, &[]);

    let (ea, eb, ec) = (s(&mut b, b"A"), s(&mut b, b"B"), s(&mut b, b"C"));
    let values = [ea, 0, eb, 0x7fff_ffff, ec, 0xefff_ffff];
    add(&mut b, b"e", of(Kind::Enum, 3), 4, &values);
    let (en, em) = (s(&mut b, b"N"), s(&mut b, b"M"));
    let values = [en, u32::MAX, em, 0x8000_0000];
    add(&mut b, b"se", flagged(Kind::Enum, 2), 4, &values);
    let (ex, ey) = (s(&mut b, b"X"), s(&mut b, b"Y"));
    let values = [ex, u32::MAX, u32::MAX, ey, 0, 1 << 8];
    add(&mut b, b"e64", of(Kind::Enum64, 2), 8, &values);
    let (ez, ew) = (s(&mut b, b"Z"), s(&mut b, b"W"));
    let minus5 = (-5i64) as u64;
    let values = [ez, minus5 as u32, (minus5 >> 32) as u32, ew, 0, 0x8000_0000];
    add(&mut b, b"", flagged(Kind::Enum64, 2), 8, &values);

    add(&mut b, b"fs", of(Kind::Fwd, 0), 0, &[]);
    add(&mut b, b"fu", flagged(Kind::Fwd, 0), 0, &[]);

    // A trailing {0, 0} parameter marks varargs.
    let params = [a, int.0, 0, ptr.0, 0, 0];
    let proto = add(&mut b, b"", of(Kind::FuncProto, 3), int.0, &params);
    add(&mut b, b"", of(Kind::FuncProto, 0), 0, &[]);
    // A FUNC's vlen is its linkage.
    let func = add(&mut b, b"f_static", of(Kind::Func, 0), proto.0, &[]);
    add(&mut b, b"f_global", of(Kind::Func, 1), proto.0, &[]);
    add(&mut b, b"f_extern", of(Kind::Func, 2), proto.0, &[]);
    add(&mut b, b"f_odd", of(Kind::Func, 3), proto.0, &[]);

    let v_static = add(&mut b, b"v_static", of(Kind::Var, 0), int.0, &[0]);
    let v_global = add(&mut b, b"v_global", of(Kind::Var, 0), int.0, &[1]);
    add(&mut b, b"v_extern", of(Kind::Var, 0), int.0, &[2]);
    add(&mut b, b"v_odd", of(Kind::Var, 0), int.0, &[7]);
    // Entries naming a VAR, void and a non-VAR type.
    let entries = [v_static.0, 0, 4, v_global.0, 4, 4, 0, 8, 4, int.0, 12, 4];
    add(&mut b, b".data", of(Kind::Datasec, 4), 16, &entries);

    add(&mut b, b"double", of(Kind::Float, 0), 8, &[]);
    add(&mut b, b"tag", of(Kind::DeclTag, 0), plain.0, &[u32::MAX]);
    add(&mut b, b"mtag", of(Kind::DeclTag, 0), plain.0, &[1]);
    add(&mut b, b"ftag", of(Kind::DeclTag, 0), func.0, &[0]);

    // A name offset inside a string reads its tail.
    let tail = StrOff(b.find_str(b"unsigned char").unwrap().0 + 9);
    b.add_type(tail, of(Kind::Typedef, 0), int.0, &[]).unwrap();
    add(&mut b, b"q\"uote\tab", of(Kind::Typedef, 0), int.0, &[]);
    if odd_names {
        add(&mut b, b"back\\slash", of(Kind::Typedef, 0), int.0, &[]);
        add(&mut b, b"ctl\x01\x7f", of(Kind::Typedef, 0), int.0, &[]);
        add(&mut b, b"bad\xff\xfeutf8", of(Kind::Typedef, 0), int.0, &[]);
    }
    b
}

/// Split BTF over [`every_kind`]: names and types from the base, a DATASEC
/// entry naming a base VAR.
fn split_over(base: Arc<Btf>) -> Btf {
    let int = base.find_by_name_kind(b"int", Kind::Int).unwrap();
    let var = base.find_by_name_kind(b"v_global", Kind::Var).unwrap();
    let mut b = Btf::new_split(base);
    let ptr = add(&mut b, b"", of(Kind::Ptr, 0), int.0, &[]);
    let (a, m) = (s(&mut b, b"a"), s(&mut b, b"module_member"));
    let members = [a, int.0, 0, m, ptr.0, 64];
    let st = add(&mut b, b"mod_struct", of(Kind::Struct, 2), 16, &members);
    let own = add(&mut b, b"mod_var", of(Kind::Var, 0), st.0, &[1]);
    let entries = [var.0, 0, 4, own.0, 4, 16];
    add(&mut b, b".data", of(Kind::Datasec, 2), 20, &entries);
    b
}

fn kbtf_raw(btf: &Btf) -> Vec<u8> {
    let mut out = Vec::new();
    write_raw(btf, &mut out).unwrap();
    out
}

fn kbtf_json(btf: &Btf) -> serde_json::Value {
    let mut out = Vec::new();
    write_json(btf, &mut out).unwrap();
    serde_json::from_slice(&out).unwrap()
}

fn blob_file(dir: &Path, name: &str, blob: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::File::create(&path)
        .and_then(|mut f| f.write_all(blob))
        .unwrap();
    path
}

fn assert_same_text(kbtf: &[u8], bpftool: &[u8]) {
    if kbtf != bpftool {
        panic!(
            "kbtf:\n{}\nbpftool:\n{}",
            String::from_utf8_lossy(kbtf),
            String::from_utf8_lossy(bpftool)
        );
    }
}

#[test]
fn raw_matches_bpftool_for_every_kind() {
    let Some(bpftool) = Bpftool::find() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let btf = every_kind(true);
    let file = blob_file(dir.path(), "every.btf", &btf.to_bytes());
    let want = bpftool.dump(None, &file, false).unwrap();
    assert_same_text(&kbtf_raw(&btf), &want);
    // Guard against a blob that lost its point: every kind is there.
    for kind in (1..=19).map(Kind::from_raw) {
        let line = format!("] {} '", kind.name());
        assert!(
            want.windows(line.len()).any(|w| w == line.as_bytes()),
            "no {line}"
        );
    }
}

#[test]
fn raw_matches_bpftool_for_the_other_byte_order() {
    let Some(bpftool) = Bpftool::find() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let btf = every_kind(true);
    let swapped = btf.to_bytes_endian(Endian::NATIVE.other());
    let file = blob_file(dir.path(), "swapped.btf", &swapped);
    let want = bpftool.dump(None, &file, false).unwrap();
    assert_same_text(&kbtf_raw(&Btf::parse(&swapped).unwrap()), &want);
}

#[test]
fn split_raw_and_json_match_bpftool() {
    let Some(bpftool) = Bpftool::find() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let base = Arc::new(every_kind(false));
    let split = split_over(base.clone());
    let base_file = blob_file(dir.path(), "base.btf", &base.to_bytes());
    let file = blob_file(dir.path(), "split.btf", &split.to_bytes());
    let want = bpftool.dump(Some(&base_file), &file, false).unwrap();
    assert_same_text(&kbtf_raw(&split), &want);
    let want = bpftool.dump(Some(&base_file), &file, true).unwrap();
    assert_eq!(kbtf_json(&split), bpftool_json(&want).unwrap());
}

#[test]
fn json_matches_bpftool_for_every_kind() {
    let Some(bpftool) = Bpftool::find() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let btf = every_kind(false);
    let file = blob_file(dir.path(), "every.btf", &btf.to_bytes());
    let want = bpftool.dump(None, &file, true).unwrap();
    assert_eq!(kbtf_json(&btf), bpftool_json(&want).unwrap());
}

#[test]
fn empty_btf_matches_bpftool() {
    let Some(bpftool) = Bpftool::find() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let btf = Btf::new();
    let file = blob_file(dir.path(), "empty.btf", &btf.to_bytes());
    assert_same_text(&kbtf_raw(&btf), &bpftool.dump(None, &file, false).unwrap());
    let want = bpftool.dump(None, &file, true).unwrap();
    assert_eq!(kbtf_json(&btf), bpftool_json(&want).unwrap());
}

/// JSON names are valid JSON whatever their bytes (bpftool's are not).
#[test]
fn json_escapes_odd_names() {
    let btf = every_kind(true);
    let json = kbtf_json(&btf);
    let names: Vec<&str> = json["types"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(names.contains(&"ctl\u{1}\u{7f}"));
    assert!(names.contains(&"bad\u{fffd}\u{fffd}utf8"));
    assert!(names.contains(&"q\"uote\tab"));
    assert!(names.contains(&"back\\slash"));
}

/// A BTF with a kind-layout section and a kind (20) bpftool 7.1 cannot read:
/// the dump prints it in bpftool's shape with kbtf's documented fields.
#[test]
fn unknown_kinds_print_their_number_and_vlen() {
    let endian = Endian::NATIVE;
    let word = |w: u32| endian.u32_bytes(w);
    let types: Vec<u32> = vec![
        1, // name "x"
        Info::new(Kind::Unknown(20), false, 2).0,
        7,
        0xaaaa, // two 4-byte elements
        0xbbbb,
    ];
    let mut layout = vec![0u8; 21 * 4];
    layout[20 * 4 + 1] = 4; // elem_sz
    let strings = b"\0x\0";
    let type_len = types.len() as u32 * 4;
    let mut blob = Vec::new();
    blob.extend_from_slice(&endian.u16_bytes(0xeb9f));
    blob.extend_from_slice(&[1, 0]);
    for w in [
        32,
        0,
        type_len,
        type_len + layout.len() as u32,
        strings.len() as u32,
        type_len,
        layout.len() as u32,
    ] {
        blob.extend_from_slice(&word(w));
    }
    for &w in &types {
        blob.extend_from_slice(&word(w));
    }
    blob.extend_from_slice(&layout);
    blob.extend_from_slice(strings);
    let btf = Btf::parse(&blob).unwrap();
    assert_eq!(kbtf_raw(&btf), b"[1] UNKNOWN 'x' raw_kind=20 vlen=2\n");
    let json = kbtf_json(&btf);
    assert_eq!(
        json,
        serde_json::json!({"types": [
            {"id": 1, "kind": "UNKNOWN", "name": "x", "raw_kind": 20, "vlen": 2}
        ]})
    );
}

/// References past the end, which kbtf's parser refuses but a BTF being
/// built can hold: a name offset with no string reads `(invalid)`, a DATASEC
/// entry past the last type shows no kind and name.
#[test]
fn dangling_references_match_bpftool() {
    let Some(bpftool) = Bpftool::find() else {
        return;
    };
    let mut b = Btf::new();
    let int = add(&mut b, b"int", of(Kind::Int, 0), 4, &[0x0100_0020]);
    b.add_type(StrOff(1000), of(Kind::Typedef, 0), int.0, &[])
        .unwrap();
    let entries = [int.0, 0, 4, 999, 4, 4];
    add(&mut b, b".data", of(Kind::Datasec, 2), 8, &entries);
    let dir = tempfile::tempdir().unwrap();
    let file = blob_file(dir.path(), "dangling.btf", &b.to_bytes());
    let want = bpftool.dump(None, &file, false).unwrap();
    assert_same_text(&kbtf_raw(&b), &want);
    let want = bpftool.dump(None, &file, true).unwrap();
    assert_eq!(kbtf_json(&b), bpftool_json(&want).unwrap());
}

/// A vlen past bpftool's 16 bits (which libbpf 1.1 cannot read consistently):
/// the full vlen and every member are printed.
#[test]
fn vlen_past_16_bits_prints_every_member() {
    let mut b = Btf::new();
    let int = add(&mut b, b"int", of(Kind::Int, 0), 4, &[0x0100_0020]);
    let vlen = 0x1_0001;
    let members: Vec<u32> = (0..vlen).flat_map(|i| [0, int.0, i * 32]).collect();
    add(&mut b, b"wide", of(Kind::Struct, vlen), vlen * 4, &members);
    let text = kbtf_raw(&b);
    let mut lines = text.split(|&c| c == b'\n').skip(1);
    assert_eq!(
        lines.next().unwrap(),
        b"[2] STRUCT 'wide' size=262148 vlen=65537"
    );
    let members: Vec<&[u8]> = lines.take_while(|l| l.starts_with(b"\t")).collect();
    assert_eq!(members.len(), vlen as usize);
    assert_eq!(
        members[vlen as usize - 1],
        b"\t'(anon)' type_id=1 bits_offset=2097152"
    );
    let json = kbtf_json(&b);
    assert_eq!(json["types"][1]["vlen"], vlen);
    assert_eq!(
        json["types"][1]["members"].as_array().unwrap().len(),
        vlen as usize
    );
}

#[test]
fn display_is_the_raw_dump_one_type_at_a_time() {
    // every_kind(false): Display replaces bytes that are not UTF-8, the dump does not.
    let btf = every_kind(false);
    let mut full = String::new();
    for t in btf.own_types() {
        let first = t.display(&btf).to_string();
        let all = format!("{:#}", t.display(&btf));
        assert!(!first.contains('\n'), "{first}");
        assert!(all.starts_with(&first), "{all}");
        full += &all;
        full.push('\n');
    }
    assert_eq!(full.as_bytes(), kbtf_raw(&btf));
}
