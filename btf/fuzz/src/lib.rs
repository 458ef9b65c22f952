//! What kbtf-btf's fuzz targets share: the fixed base that split input is
//! parsed over, and the checks run on every input the parser accepts.
//! Each target in `fuzz_targets/` is a few lines calling these, so a new
//! target (dedup, the DWARF encoder, `.BTF_ids`) reuses the same parse and
//! invariants. See `testdata/FUZZING.md`.

pub mod base_index;
pub mod btfids;
pub mod builder;
pub mod dedup;
pub mod encode;
pub mod gen;
pub mod seeds;
pub mod view;

use std::hint::black_box;
use std::sync::{Arc, OnceLock};

use kbtf_btf::header::{Header, HDR_LEN_LAYOUT};
use kbtf_btf::{dump, Btf, Endian, Kind, TypeId};

/// The base that split targets parse over: [`seeds::every_kind`], built
/// once per process. `seeds/split/` holds blobs made over the same base.
pub fn fixed_base() -> Arc<Btf> {
    static BASE: OnceLock<Arc<Btf>> = OnceLock::new();
    BASE.get_or_init(|| Arc::new(seeds::every_kind())).clone()
}

/// Parses `data` as base BTF (`base` `None`) or as split BTF over `base`.
/// A rejection is fine (its message is formatted, to run that code too);
/// an accepted BTF is checked with [`check_parsed`].
pub fn parse(data: &[u8], base: Option<Arc<Btf>>) -> Option<Btf> {
    match Btf::parse_split(data, base) {
        Ok(btf) => {
            check_parsed(&btf);
            Some(btf)
        }
        Err(e) => {
            black_box(e.to_string());
            None
        }
    }
}

/// Runs `check` on `data` parsed as base BTF and on `data` parsed as split
/// BTF over the fixed base, whichever the parser accepts.
pub fn for_base_and_split(data: &[u8], mut check: impl FnMut(&Btf)) {
    for base in [None, Some(fixed_base())] {
        if let Some(btf) = parse(data, base) {
            check(&btf);
        }
    }
}

/// What the parser promises about BTF it accepts: every id below
/// `type_count` has a record, every type id in a record resolves (0 is
/// void), every string offset names a string, and a FUNC points at a FUNC_PROTO.
pub fn check_parsed(btf: &Btf) {
    for id in btf.all_ids() {
        let t = btf.get(id).expect("an id below type_count has a record");
        assert_eq!(t.id(), id);
        let words = t.words();
        for slot in t.info().type_id_slots() {
            let target = TypeId(words[slot]);
            assert!(
                target.0 == 0 || btf.type_by_id(target).is_some(),
                "[{id}] refers to missing type {target}"
            );
        }
        for slot in t.info().str_off_slots() {
            let off = kbtf_btf::StrOff(words[slot]);
            assert!(
                btf.str_at(off).is_some(),
                "[{id}] has dangling string offset {off:?}"
            );
        }
        if t.kind() == Kind::Func {
            let proto = btf.get(t.type_id()).expect("checked above").kind();
            assert_eq!(proto, Kind::FuncProto, "[{id}] is a FUNC of a {proto:?}");
        }
        // The typed views read in place; they must stay inside the record.
        black_box((
            t.int(),
            t.array(),
            t.var_linkage(),
            t.decl_tag_component_idx(),
        ));
        black_box(t.members().count() + t.enum_values().count() + t.enum64_values().count());
        black_box(t.params().count() + t.datasec_vars().count());
        black_box(btf.name(t.name_off()));
    }
}

/// Writing an accepted BTF and reading it back gives the same BTF, in
/// either byte order, and writing is stable. Returns the written blob.
pub fn check_roundtrip(btf: &Btf) -> Vec<u8> {
    let base = btf.base().cloned();
    let written = btf.to_bytes();
    let again = Btf::parse_split(&written, base.clone())
        .unwrap_or_else(|e| panic!("kbtf rejects a blob it wrote: {e}"));
    assert_same(btf, &again);
    assert_eq!(
        again.to_bytes(),
        written,
        "writing a re-read BTF changed its bytes"
    );

    let other = match btf.endian() {
        Endian::Little => Endian::Big,
        Endian::Big => Endian::Little,
    };
    let swapped = btf.to_bytes_endian(other);
    let again = Btf::parse_split(&swapped, base)
        .unwrap_or_else(|e| panic!("kbtf rejects a blob it wrote in {other:?} order: {e}"));
    assert_eq!(again.endian(), other);
    assert_same(btf, &again);
    assert_eq!(again.to_bytes_endian(btf.endian()), written);
    written
}

/// A blob already laid out the way kbtf writes (header, types, kind layout,
/// strings, nothing else) is written back byte for byte.
pub fn check_canonical_rewrite(blob: &[u8], written: &[u8]) {
    if is_canonical(blob) {
        assert_eq!(
            written, blob,
            "a canonical blob was not written back as it was"
        );
    }
}

/// Both BTF hold the same types, strings and kind layout over the same start.
fn assert_same(a: &Btf, b: &Btf) {
    assert_eq!(a.start_id(), b.start_id());
    assert_eq!(a.type_count(), b.type_count());
    assert_eq!(a.own_strings().as_bytes(), b.own_strings().as_bytes());
    assert_eq!(a.layout(), b.layout());
    for id in a.own_ids() {
        let (x, y) = (a.type_by_id(id), b.type_by_id(id));
        assert_eq!(
            x.map(|t| t.words()),
            y.map(|t| t.words()),
            "type [{id}] changed"
        );
    }
}

/// Whether `blob` is laid out exactly as `Btf::to_bytes` lays a blob out.
fn is_canonical(blob: &[u8]) -> bool {
    let Ok(h) = Header::parse(blob) else {
        return false;
    };
    let (layout_off, layout_len) = h.layout.unwrap_or((0, 0));
    let (type_len, layout_len64) = (u64::from(h.type_len), u64::from(layout_len));
    let expected_layout_off = if layout_len > 0 { h.type_len } else { 0 };
    h.type_off == 0
        && u64::from(h.str_off) == type_len + layout_len64
        && layout_off == expected_layout_off
        && (h.hdr_len >= HDR_LEN_LAYOUT || layout_len == 0)
        && blob.len() as u64
            == u64::from(h.hdr_len) + type_len + layout_len64 + u64::from(h.str_len)
}

/// Dumps an accepted BTF as bpftool's text and JSON. The JSON must be valid
/// JSON with one object per own type, in id order, each naming its kind.
pub fn check_dump(btf: &Btf) {
    let mut text = Vec::new();
    dump::write_raw(btf, &mut text).expect("writing to a Vec cannot fail");
    black_box(text);
    let mut json = Vec::new();
    dump::write_json(btf, &mut json).expect("writing to a Vec cannot fail");
    let value: serde_json::Value =
        serde_json::from_slice(&json).unwrap_or_else(|e| panic!("the JSON dump is not JSON: {e}"));
    let types = value["types"].as_array().expect("a \"types\" array");
    assert_eq!(types.len(), btf.own_ids().len());
    for (t, id) in types.iter().zip(btf.own_ids()) {
        assert_eq!(t["id"].as_u64(), Some(u64::from(id.0)));
        assert!(
            t["kind"].is_string(),
            "type [{id}] has no kind in the JSON dump"
        );
    }
}
