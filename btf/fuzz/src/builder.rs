//! The public building and mutation API, driven by the input: the `build`
//! target.
//!
//! The input is a recipe ([`arbitrary::Unstructured`]): a sequence of calls
//! to the typed builders (`add_int` ... `add_decl_tag`), raw records, words
//! written through `record_mut` and `RecordMut::set_info`, `add_btf` of the
//! BTF so far and `dedup`, with ids mostly of existing types and sometimes
//! of none, names from a small pool and sometimes anything. Every call may
//! refuse; none may panic. Then every reader of the public API runs on the
//! result (lookups, `Display`, the three dumps), and it is written, read
//! back and checked as parsed input is.
//!
//! What holds only for BTF the builders made alone (no raw record, no
//! record_mut write): the written blob parses, and dedup accepts it.

use std::hint::black_box;

use kbtf_btf::dedup::{dedup, DedupOptions};
use kbtf_btf::dump::{self, COptions};
use kbtf_btf::{Btf, Info, Kind, NameIndex, TypeId};
use libfuzzer_sys::arbitrary::{self, Unstructured};

/// Calls per input, so that an input cannot run for long.
const MAX_CALLS: usize = 200;

/// Names, few so that lookups by name find something; odd ones too.
const NAMES: &[&str] = &["", "a", "int", "list", "next", "x", "task_struct", "pid"];

/// Runs the recipe in `data` and checks the BTF it builds.
pub fn run(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let Ok(split) = u.ratio(1, 4) else {
        return;
    };
    let mut btf = if split {
        Btf::new_split(crate::fixed_base())
    } else {
        Btf::new()
    };
    // Whether a call that can break the BTF's rules succeeded.
    let mut raw = false;
    for _ in 0..MAX_CALLS {
        if u.is_empty() {
            break;
        }
        match step(&mut u, &mut btf, &mut raw) {
            Ok(Ok(())) => {}
            // A refusal: its message must format.
            Ok(Err(e)) => {
                black_box(e.to_string());
            }
            // The input ran out mid-call.
            Err(_) => break,
        }
    }
    read_everything(&btf);
    let written = btf.to_bytes();
    match Btf::parse_split(&written, btf.base().cloned()) {
        Ok(again) => {
            crate::check_parsed(&again);
            crate::check_roundtrip(&again);
            assert_eq!(again.to_bytes(), written);
        }
        Err(e) => assert!(
            raw,
            "kbtf rejects BTF its builders made: {e}\n{}",
            text(&btf)
        ),
    }
    let mut deduped = btf.clone();
    match dedup(&mut deduped, &DedupOptions::default()) {
        Ok(stats) => {
            assert_eq!(stats.id_map.len(), btf.own_ids().len());
            read_everything(&deduped);
        }
        Err(e) => assert!(
            raw,
            "dedup refuses BTF the builders made: {e}\n{}",
            text(&btf)
        ),
    }
}

/// One call; the outer `Result` is the input running out.
fn step(
    u: &mut Unstructured<'_>,
    btf: &mut Btf,
    raw: &mut bool,
) -> arbitrary::Result<kbtf_btf::Result<()>> {
    let op: u8 = u.int_in_range(0..=27)?;
    let r = match op {
        0 => {
            let size = size(u, &[1, 2, 4, 8, 16])?;
            btf.add_int(name(u)?, size, u.arbitrary()?).map(drop)
        }
        1 => {
            let size = size(u, &[2, 4, 8, 12, 16])?;
            btf.add_float(name(u)?, size).map(drop)
        }
        2 => btf.add_ptr(id(u, btf)?).map(drop),
        3 => btf.add_const(id(u, btf)?).map(drop),
        4 => btf.add_volatile(id(u, btf)?).map(drop),
        5 => btf.add_restrict(id(u, btf)?).map(drop),
        6 => btf.add_typedef(name(u)?, id(u, btf)?).map(drop),
        7 => btf.add_type_tag(name(u)?, id(u, btf)?).map(drop),
        8 => btf.add_fwd(name(u)?, u.arbitrary()?).map(drop),
        9 => {
            let (elem, index) = (id(u, btf)?, id(u, btf)?);
            btf.add_array(elem, index, small(u)?).map(drop)
        }
        10 => btf.add_struct(name(u)?, small(u)?).map(drop),
        11 => btf.add_union(name(u)?, small(u)?).map(drop),
        12 | 13 => {
            let (name, ty) = (name(u)?, id(u, btf)?);
            let bit_offset = small(u)?;
            let bits = if u.ratio(1, 3)? { small(u)? } else { 0 };
            btf.add_field(name, ty, bit_offset, bits)
        }
        14 => btf.add_enum(name(u)?, size(u, &[1, 2, 4, 8])?).map(drop),
        15 => {
            let size = size(u, &[1, 2, 4, 8])?;
            btf.add_enum64(name(u)?, size, u.arbitrary()?).map(drop)
        }
        16 => btf.add_enum_value(name(u)?, u.arbitrary()?),
        17 => btf.add_func_proto(id(u, btf)?).map(drop),
        18 => btf.add_func_param(name(u)?, id(u, btf)?),
        19 => {
            let (name, proto) = (name(u)?, id(u, btf)?);
            btf.add_func(name, proto, u.int_in_range(0..=3)?).map(drop)
        }
        20 => {
            let (name, ty) = (name(u)?, id(u, btf)?);
            btf.add_var(name, ty, u.int_in_range(0..=3)?).map(drop)
        }
        21 => btf.add_datasec(name(u)?, small(u)?).map(drop),
        22 => {
            let var = id(u, btf)?;
            btf.add_datasec_var(var, small(u)?, small(u)?)
        }
        23 => {
            let (value, target) = (name(u)?, id(u, btf)?);
            let component = if u.arbitrary()? {
                Some(u.int_in_range(0..=4)?)
            } else {
                None
            };
            btf.add_decl_tag(value, target, component).map(drop)
        }
        24 => {
            // A word of a record, rewritten: an id, a small number or anything.
            let target = id(u, btf)?;
            let at: usize = u.arbitrary()?;
            let value = match u.int_in_range(0..=2)? {
                0 => id(u, btf)?.0,
                1 => small(u)?,
                _ => u.arbitrary()?,
            };
            if let Some(mut r) = btf.record_mut(target) {
                let at = at % r.len();
                r[at] = value;
                *raw = true;
            }
            Ok(())
        }
        25 => {
            let target = id(u, btf)?;
            let info = if u.arbitrary()? {
                let kind = Kind::from_raw(u.int_in_range(0..=21)?);
                Info::new(kind, u.arbitrary()?, u.int_in_range(0..=3)?)
            } else {
                Info(u.arbitrary()?)
            };
            match btf.record_mut(target) {
                Some(mut r) => {
                    let set = r.set_info(info);
                    *raw |= set.is_ok();
                    set
                }
                None => Ok(()),
            }
        }
        26 => {
            // A raw record: the common words and up to six more.
            let n = u.int_in_range(0..=9)?;
            let mut words = Vec::with_capacity(n);
            for _ in 0..n {
                words.push(u.arbitrary()?);
            }
            let added = btf.add_record(&words);
            *raw |= added.is_ok();
            added.map(drop)
        }
        _ => {
            // (Doubling is exponential: not past a few thousand types.)
            if u.ratio(1, 2)? && btf.own_ids().len() < 2000 {
                let copy = btf.clone();
                btf.add_btf(&copy).map(drop)
            } else {
                dedup(btf, &DedupOptions::default()).map(drop)
            }
        }
    };
    Ok(r)
}

/// Every reader of the public API, on every type: none may panic.
fn read_everything(btf: &Btf) {
    let index = NameIndex::new(btf);
    black_box(btf.pointer_size());
    for id in btf
        .all_ids()
        .chain([TypeId(btf.type_count()), TypeId(u32::MAX)])
    {
        refusal_formats(btf.resolve_size(id));
        refusal_formats(btf.alignment(id));
        refusal_formats(btf.skip_mods_and_typedefs(id));
        refusal_formats(btf.skip_mods(id));
        for member in ["x", "next", "pid", ""] {
            refusal_formats(btf.find_member(id, member));
        }
        if let Some(t) = btf.type_by_id(id) {
            let line = t.display(btf).to_string();
            let all = format!("{:#}", t.display(btf));
            assert!(all.starts_with(&line));
            black_box(t.kind().to_string());
        }
    }
    for name in NAMES {
        black_box(index.all(name));
        black_box(btf.find_by_name(name));
        black_box(btf.find_all_by_name(name).count());
        black_box(index.find(btf, name, Kind::Struct));
        black_box(btf.find_by_name_kind(name.as_bytes(), Kind::Int));
    }
    crate::check_dump(btf);
    // A struct of 4 GiB is half a billion lines of padding, as bpftool
    // writes it: the header is cut off after a megabyte.
    refusal_formats(dump::write_c(btf, &COptions::default(), Capped(1 << 20)));
}

/// A writer that takes this many more bytes, then fails.
struct Capped(usize);

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 = self
            .0
            .checked_sub(buf.len())
            .ok_or(std::io::ErrorKind::WriteZero)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The BTF as bpftool's raw dump, for a panic message.
fn text(btf: &Btf) -> String {
    let mut text = Vec::new();
    dump::write_raw(btf, &mut text).expect("writing to a Vec cannot fail");
    String::from_utf8_lossy(&text[..text.len().min(4000)]).into_owned()
}

/// Keeps a result; an error's message is formatted, to run that code too.
fn refusal_formats<T, E: std::fmt::Display>(r: Result<T, E>) {
    let _ = black_box(r.map_err(|e| e.to_string()));
}

/// A type id: mostly one of a type (or void), sometimes one past the last,
/// sometimes anything.
fn id(u: &mut Unstructured<'_>, btf: &Btf) -> arbitrary::Result<TypeId> {
    Ok(TypeId(match u.int_in_range(0..=9)? {
        0 => u.arbitrary()?,
        1 => btf.type_count(),
        _ => u.int_in_range(0..=btf.type_count().saturating_sub(1))?,
    }))
}

/// A name from the pool, or any string.
fn name<'a>(u: &mut Unstructured<'a>) -> arbitrary::Result<&'a str> {
    if u.ratio(1, 8)? {
        u.arbitrary()
    } else {
        Ok(NAMES[u.choose_index(NAMES.len())?])
    }
}

/// One of the sizes a kind allows, or any.
fn size(u: &mut Unstructured<'_>, sizes: &[u32]) -> arbitrary::Result<u32> {
    if u.ratio(1, 8)? {
        u.arbitrary()
    } else {
        Ok(sizes[u.choose_index(sizes.len())?])
    }
}

/// A size, offset or count: mostly small, sometimes anything.
fn small(u: &mut Unstructured<'_>) -> arbitrary::Result<u32> {
    if u.ratio(1, 8)? {
        u.arbitrary()
    } else {
        u.int_in_range(0..=256)
    }
}
