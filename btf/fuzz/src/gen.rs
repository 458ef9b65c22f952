//! Well-formed BTF generated from fuzz input, for the `dedup` target.
//!
//! Random bytes rarely parse as BTF, and BTF that parses rarely has the
//! duplicates dedup exists for. The input here is read as a recipe instead
//! ([`arbitrary::Unstructured`]): records of every kind whose type ids stay
//! inside the BTF, names from small pools (so equal names happen), and
//! copies of earlier runs of records with their internal references
//! shifted, the way every compilation unit repeats the types it includes.
//! A copy may turn a struct into a FWD of the same name, as a unit that only
//! declares it would. Struct and union members may point forward, so a
//! struct reaches itself through a pointer; every other reference points to
//! a lower id (plus, rarely, anywhere, so reference loops, which dedup must
//! refuse, occur too). Sometimes the records are split over a small
//! generated base.

use std::sync::Arc;

use kbtf_btf::{Btf, Info, Kind};
use libfuzzer_sys::arbitrary::{Result, Unstructured};

/// A generated BTF, split over `base` when it has one.
pub struct Generated {
    pub base: Option<Arc<Btf>>,
    pub btf: Btf,
}

/// The BTF that `data` describes. None when it describes none (too short).
pub fn generate(data: &[u8]) -> Option<Generated> {
    let mut u = Unstructured::new(data);
    let split = u.ratio(1, 3).ok()?;
    let base = if split {
        let n = u.int_in_range(0..=12).ok()?;
        Some(Arc::new(generate_types(&mut u, Btf::new(), n)))
    } else {
        None
    };
    let n = u.int_in_range(1..=48).ok()?;
    let own = match &base {
        Some(base) => Btf::new_split(base.clone()),
        None => Btf::new(),
    };
    let btf = generate_types(&mut u, own, n);
    Some(Generated { base, btf })
}

/// Names of types. Few, so that equal names are common; the empty name too.
const NAMES: &[&[u8]] = &[b"", b"a", b"b", b"int", b"foo", b"list", b"task"];
/// Names of members, parameters and enumerators.
const FIELDS: &[&[u8]] = &[b"", b"x", b"y", b"next"];

/// One word of a record before it is written.
#[derive(Clone, Copy, Debug)]
enum Word {
    Lit(u32),
    /// A type id (absolute; ids past the end are wrapped when written).
    Ref(u32),
    Str(&'static [u8]),
}

#[derive(Clone, Debug)]
struct Spec {
    name: &'static [u8],
    kind: Kind,
    kflag: bool,
    vlen: u32,
    word: Word,
    rest: Vec<Word>,
}

impl Spec {
    fn new(name: &'static [u8], kind: Kind, word: Word) -> Spec {
        Spec {
            name,
            kind,
            kflag: false,
            vlen: 0,
            word,
            rest: Vec::new(),
        }
    }

    fn refs_mut(&mut self) -> impl Iterator<Item = &mut u32> {
        std::iter::once(&mut self.word)
            .chain(self.rest.iter_mut())
            .filter_map(|w| match w {
                Word::Ref(id) => Some(id),
                _ => None,
            })
    }
}

/// Appends `n` generated records to `btf` (whose base, if any, they may reference).
fn generate_types(u: &mut Unstructured<'_>, mut btf: Btf, n: u32) -> Btf {
    let start = btf.type_count();
    // Kinds of the base types, so references can look for a FUNC_PROTO or a VAR.
    let mut kinds: Vec<Kind> = btf
        .base()
        .map(|b| {
            b.all_ids()
                .filter_map(|id| b.type_by_id(id))
                .map(|t| t.kind())
                .collect()
        })
        .unwrap_or_default();
    kinds.insert(0, Kind::Unknown(0)); // void
    let mut specs: Vec<Spec> = Vec::new();
    while (specs.len() as u32) < n && !u.is_empty() {
        let copy = specs.len() >= 2 && u.ratio(1, 4).unwrap_or(false);
        let new = if copy {
            copy_run(u, &specs, start)
        } else {
            let id = start + specs.len() as u32;
            vec![one_type(u, &kinds, id, start + n).unwrap_or_else(|_| int(4))]
        };
        for s in new
            .into_iter()
            .take((n as usize).saturating_sub(specs.len()))
        {
            kinds.push(s.kind);
            specs.push(s);
        }
    }
    let count = start + specs.len() as u32;
    for s in specs {
        let name = btf.add_str(s.name).expect("pool names have no NUL");
        let mut word = |w: Word| match w {
            Word::Lit(v) => v,
            Word::Ref(id) => id % count,
            Word::Str(s) => btf.add_str(s).expect("pool names have no NUL").0,
        };
        let first = word(s.word);
        let rest: Vec<u32> = s.rest.iter().map(|&w| word(w)).collect();
        btf.add_type(name, Info::new(s.kind, s.kflag, s.vlen), first, &rest)
            .expect("generated records match their info");
    }
    btf
}

fn int(size: u32) -> Spec {
    let mut s = Spec::new(b"int", Kind::Int, Word::Lit(size));
    s.rest = vec![Word::Lit(0x0100_0000 | (size * 8))];
    s
}

/// A copy of a run of the last records, references inside the run moved
/// with it; a struct or union of the copy may become a FWD of its name.
fn copy_run(u: &mut Unstructured<'_>, specs: &[Spec], start: u32) -> Vec<Spec> {
    let len = u.int_in_range(1..=specs.len().min(12)).unwrap_or(1);
    let from = specs.len() - len;
    let (lo, hi) = (start + from as u32, start + specs.len() as u32);
    let delta = hi - lo;
    let mut out = Vec::with_capacity(len);
    for s in &specs[from..] {
        let mut s = s.clone();
        for r in s.refs_mut() {
            if (lo..hi).contains(r) {
                *r += delta;
            }
        }
        if matches!(s.kind, Kind::Struct | Kind::Union) && u.ratio(1, 4).unwrap_or(false) {
            let union = s.kind == Kind::Union;
            s = Spec::new(s.name, Kind::Fwd, Word::Lit(0));
            s.kflag = union;
        }
        out.push(s);
    }
    out
}

/// A type id for record `id` to reference: a lower one, or rarely any id
/// below `end` (which may close a loop of references).
fn lower(u: &mut Unstructured<'_>, id: u32, end: u32) -> Result<u32> {
    if u.ratio(1, 32)? {
        return u.int_in_range(0..=end - 1);
    }
    u.int_in_range(0..=id - 1)
}

/// The last id below `id` of a type of `kind`, if any (near ones are likelier to be chosen).
fn lower_of(u: &mut Unstructured<'_>, kinds: &[Kind], kind: Kind) -> Result<Option<u32>> {
    let ids: Vec<u32> = (0..kinds.len() as u32)
        .filter(|&i| kinds[i as usize] == kind)
        .collect();
    if ids.is_empty() {
        return Ok(None);
    }
    Ok(Some(*u.choose(&ids)?))
}

fn one_type(u: &mut Unstructured<'_>, kinds: &[Kind], id: u32, end: u32) -> Result<Spec> {
    let name = *u.choose(NAMES)?;
    let kind = Kind::from_raw(u.int_in_range(1..=19u8)?);
    let spec = match kind {
        Kind::Int => {
            let size = *u.choose(&[1, 2, 4, 8, 16])?;
            let encoding = *u.choose(&[0, 1, 2, 4])?;
            let bits = u.int_in_range(1..=size * 8)?;
            let mut s = Spec::new(name, kind, Word::Lit(size));
            s.rest = vec![Word::Lit(encoding << 24 | bits)];
            s
        }
        Kind::Ptr | Kind::Const | Kind::Volatile | Kind::Restrict => {
            Spec::new(b"", kind, Word::Ref(lower(u, id, end)?))
        }
        Kind::Typedef => Spec::new(name, kind, Word::Ref(lower(u, id, end)?)),
        Kind::TypeTag => {
            let tag = *u.choose(&[&b"user"[..], b"rcu"])?;
            Spec::new(tag, kind, Word::Ref(lower(u, id, end)?))
        }
        Kind::Array => {
            let mut s = Spec::new(b"", kind, Word::Lit(0));
            let (elem, index) = (lower(u, id, end)?, lower(u, id, end)?);
            let nelems = u.int_in_range(0..=4)?;
            s.rest = vec![Word::Ref(elem), Word::Ref(index), Word::Lit(nelems)];
            s
        }
        Kind::Struct | Kind::Union => {
            let mut s = Spec::new(name, kind, Word::Lit(4 * u.int_in_range(0..=8)?));
            s.kflag = u.ratio(1, 4)?;
            s.vlen = u.int_in_range(0..=4)?;
            for i in 0..s.vlen {
                // Members may point forward: the way a struct reaches itself.
                let ty = u.int_in_range(0..=end - 1)?;
                let bitfield = if s.kflag {
                    u.int_in_range(0..=3)? << 24
                } else {
                    0
                };
                let offset = if kind == Kind::Union { 0 } else { 32 * i };
                s.rest.extend([
                    Word::Str(u.choose(FIELDS)?),
                    Word::Ref(ty),
                    Word::Lit(bitfield | offset),
                ]);
            }
            s
        }
        Kind::Enum | Kind::Enum64 => {
            let size = if kind == Kind::Enum { 4 } else { 8 };
            let mut s = Spec::new(name, kind, Word::Lit(size));
            s.kflag = u.ratio(1, 2)?;
            s.vlen = u.int_in_range(0..=3)?;
            for _ in 0..s.vlen {
                s.rest.push(Word::Str(u.choose(&[&b"X"[..], b"Y", b"Z"])?));
                s.rest.push(Word::Lit(u.int_in_range(0..=2)?));
                if kind == Kind::Enum64 {
                    s.rest.push(Word::Lit(*u.choose(&[0, 1, u32::MAX])?));
                }
            }
            s
        }
        Kind::Fwd => {
            let mut s = Spec::new(name, kind, Word::Lit(0));
            s.kflag = u.ratio(1, 3)?;
            s
        }
        Kind::Func => match lower_of(u, &kinds[..id as usize], Kind::FuncProto)? {
            Some(proto) => {
                let mut s = Spec::new(name, kind, Word::Ref(proto));
                s.vlen = u.int_in_range(0..=2)?; // linkage
                s
            }
            None => func_proto(u, id, end)?,
        },
        Kind::FuncProto => func_proto(u, id, end)?,
        Kind::Var => {
            let mut s = Spec::new(name, kind, Word::Ref(lower(u, id, end)?));
            s.rest = vec![Word::Lit(u.int_in_range(0..=2)?)];
            s
        }
        Kind::Datasec => {
            let sec = *u.choose(&[&b".data"[..], b".bss"])?;
            let mut s = Spec::new(sec, kind, Word::Lit(0));
            let vars: Vec<u32> = (0..id)
                .filter(|&i| kinds[i as usize] == Kind::Var)
                .collect();
            if !vars.is_empty() {
                s.vlen = u.int_in_range(0..=3)?;
                for i in 0..s.vlen {
                    s.rest
                        .extend([Word::Ref(*u.choose(&vars)?), Word::Lit(8 * i), Word::Lit(8)]);
                }
            }
            s.word = Word::Lit(8 * s.vlen);
            s
        }
        Kind::Float => {
            let size = *u.choose(&[4, 8, 16])?;
            Spec::new(
                u.choose(&[&b"float"[..], b"double"])?,
                kind,
                Word::Lit(size),
            )
        }
        Kind::DeclTag => {
            let tag = *u.choose(&[&b"tag"[..], b"nonnull"])?;
            let mut s = Spec::new(tag, kind, Word::Ref(lower(u, id, end)?));
            s.rest = vec![Word::Lit(*u.choose(&[u32::MAX, 0, 1])?)];
            s
        }
        _ => int(4),
    };
    Ok(spec)
}

fn func_proto(u: &mut Unstructured<'_>, id: u32, end: u32) -> Result<Spec> {
    let mut s = Spec::new(b"", Kind::FuncProto, Word::Ref(lower(u, id, end)?));
    s.vlen = u.int_in_range(0..=3)?;
    for i in 0..s.vlen {
        // A last parameter of void without a name is `...`.
        let varargs = i + 1 == s.vlen && u.ratio(1, 4)?;
        if varargs {
            s.rest.extend([Word::Lit(0), Word::Lit(0)]);
        } else {
            s.rest
                .extend([Word::Str(u.choose(FIELDS)?), Word::Ref(lower(u, id, end)?)]);
        }
    }
    Ok(s)
}
