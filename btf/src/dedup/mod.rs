//! BTF deduplication, byte for byte what libbpf 1.1.2's `btf__dedup` does
//! (the libbpf Debian's pahole 1.24 links, and so the one that made the
//! shipped kernel and module BTF), or, with [`DedupOptions::libbpf_1_7`],
//! libbpf 1.7.0's (Debian sid's pahole 1.32).
//!
//! # The problem
//!
//! A compiler emits the types each compilation unit uses, so a kernel built
//! from thousands of units describes `struct task_struct`, `int` and every
//! pointer to them thousands of times. Dedup finds, for every type, one
//! *canonical* representative among the types that describe the same C type,
//! drops the others and rewrites every reference to point at the
//! representatives. Identity is structural: two types are the same when their
//! type graphs (followed through members, pointees, parameters) are
//! isomorphic. Cycles (a struct pointing to itself) and forward declarations
//! (a `struct foo;` in one unit, the full `struct foo` in another) make that a
//! graph problem rather than a tree comparison.
//!
//! # Phases
//!
//! Each phase is a module; they run in this order.
//!
//! 0. `prep` (split BTF only): the base is immutable; each base type is its
//!    own representative and is entered into the candidate table, so split
//!    types can dedup against it.
//! 1. `strings`: walk every string offset of the own types, in record
//!    order, interning into a fresh table (strings the base already has get
//!    the base's offset). Unused and duplicate strings disappear, and equal
//!    strings get equal offsets, which the later phases rely on: they compare
//!    names by offset.
//! 2. `prim`: types that reference nothing (INT, FLOAT, FWD, ENUM, ENUM64).
//!    A hash of their content finds candidates; equal content merges. An enum
//!    forward declaration (vlen 0) merges into a full enum of that name, and a
//!    canonical enum forward is redirected to a full enum met later.
//! 3. `structs`: STRUCT and UNION, whose hash ignores member types (they
//!    are not canonical yet). Each candidate of the same shape is checked with
//!    the graph equivalence walk (`equiv`), which builds a *hypothetical* map from
//!    canonical-graph ids to candidate-graph ids; on success that map is
//!    merged: forwards resolve to structs, and structs of the candidate graph
//!    are mapped early (an optimisation, but one that shapes the output).
//! 4. `fwds`: a FWD still unresolved is mapped to the canonical struct or
//!    union of that name when exactly one exists.
//! 5. `refs`: PTR, TYPEDEF, modifiers, FUNC, FUNC_PROTO, ARRAY and tags,
//!    depth first: once the types they reference are canonical, their ids are
//!    written back and the type is hashed and compared exactly.
//! 6. `compact`: the representatives (`map[id] == id`) are kept in input
//!    order and renumbered; every type id is rewritten through
//!    `new_id[resolve(id)]`.
//!
//! # Invariants
//!
//! - `map[id]` is a type id or `UNPROCESSED` (or `IN_PROGRESS` during the
//!   reference phase). Following `map` from any id ends at a representative;
//!   FWD ids may point at a struct, which then points at its representative.
//! - Base types never change and keep their ids. A base FWD or enum forward
//!   may still be *mapped* to a split type, so split references to it resolve
//!   to the full type.
//! - VAR and DATASEC are never deduplicated (they are their own representatives).
//! - Candidates are visited in the order libbpf's hash map chains give them
//!   (`table`): when a type matches several candidates (enum forwards, and
//!   structs through forward resolution), the first one wins, so that order
//!   is part of the output.
//!
//! # Which libbpf
//!
//! Dedup changed after libbpf 1.1; by default this is 1.1.2's, on purpose:
//! TYPEDEF is a reference type (later versions moved it into the struct
//! phase), the "identical types" forgiveness covers arrays and structs only
//! (later also pointers and any kind, to a depth), and `resolve_fwds` is
//! already there. [`DedupOptions::libbpf_1_7`] gives 1.7.0's: typedefs in
//! the struct phase (hashed by name and info, while base typedefs keep the
//! common hash, so split typedefs never merge into the base), and
//! `btf_dedup_identical_types` as the forgiveness.
//!
//! # Not idempotent on split BTF
//!
//! When a split struct's graph holds the full definition of a struct the
//! base only declares (a base FWD), the two graphs are equivalent only if the
//! base FWD were resolved, which the immutable base forbids: the struct stays
//! in the split BTF. The check still points the base FWD at the split
//! definition, so later structs whose graphs reach it do merge into the
//! base. The struct that paid for it survives as a copy of a base type, and
//! dedup run again on the output removes it. So 80 of the 1138 modules of the
//! Debian 6.12 corpus shrink when their shipped BTF is deduplicated again
//! (one struct, e.g. `rcuwait` reaching `mtd_info` through `task_struct`,
//! and the types built on it).
//!
//! The entry point is [`dedup`]. Errors leave the [`Btf`] unchanged.

mod compact;
mod equiv;
pub(crate) mod frozen;
mod fwds;
mod prep;
mod prim;
mod refs;
mod signature;
mod strings;
mod structs;
mod table;

use std::sync::{Arc, Mutex};

use crate::record::type_id_slots;
use crate::{Btf, Error, Kind, Result, StringTable, TypeId, TypeRef, MAX_NR_TYPES};
use table::CandidateTable;

/// `map`/`hypot` entry of a type not processed yet (entries up to
/// [`MAX_NR_TYPES`] are type ids).
pub(crate) const UNPROCESSED: u32 = u32::MAX;
/// `map` entry of a reference type whose dedup is under way (a cycle check).
pub(crate) const IN_PROGRESS: u32 = u32::MAX - 1;

/// How to run [`dedup`].
#[derive(Clone, Debug)]
pub struct DedupOptions {
    /// Rebuild the string section from the strings the types use (libbpf
    /// does this for BTF it parsed). Turn it off for BTF whose strings were
    /// interned as it was built (like pahole's, made with `btf__add_*`):
    /// libbpf then keeps the string section as it is, unused strings included.
    pub rebuild_strings: bool,
    /// Deduplicate as libbpf 1.7.0 does (pahole 1.32 in Debian sid)
    /// rather than 1.1.2: TYPEDEFs join the struct phase (hashed by name
    /// and info, checked by graph equivalence; base typedefs stay hashed the
    /// old way, so a split typedef never finds a base one), and the
    /// "identical types" forgiveness of the equivalence check covers every
    /// kind to a depth of 16.
    pub libbpf_1_7: bool,
}

impl Default for DedupOptions {
    fn default() -> DedupOptions {
        DedupOptions {
            rebuild_strings: true,
            libbpf_1_7: false,
        }
    }
}

/// What a dedup did, for reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DedupStats {
    /// Own types before and after.
    pub types_before: u32,
    /// Own types after.
    pub types_after: u32,
    /// Own string section bytes before and after.
    pub strings_before: u32,
    /// Own string section bytes after.
    pub strings_after: u32,
    /// The new id of each own type, indexed by old id minus the first own
    /// id: the type itself, moved up, or the one it was merged into (which
    /// may be in the base).
    pub id_map: Vec<TypeId>,
}

/// Deduplicates `btf` in place: its own types (a split BTF's base is read,
/// never changed), exactly as libbpf 1.1.2's `btf__dedup` would.
///
/// On error the BTF is left as it was.
///
/// ```
/// use kbtf_btf::{Btf, Info, Kind, TypeId};
/// use kbtf_btf::dedup::{dedup, DedupOptions};
///
/// let mut btf = Btf::new();
/// let int = btf.add_str(b"int").unwrap();
/// for _ in 0..2 {
///     let i = btf.add_type(int, Info::new(Kind::Int, false, 0), 4, &[0x0100_0020]).unwrap();
///     btf.add_type(Default::default(), Info::new(Kind::Ptr, false, 0), i.0, &[]).unwrap();
/// }
/// let stats = dedup(&mut btf, &DedupOptions::default()).unwrap();
/// assert_eq!((stats.types_before, stats.types_after), (4, 2));
/// // Each copy of `int` and of `int *` went to the first one.
/// assert_eq!(stats.id_map, [TypeId(1), TypeId(2), TypeId(1), TypeId(2)]);
/// ```
pub fn dedup(btf: &mut Btf, opts: &DedupOptions) -> Result<DedupStats> {
    // Phases 1 and 5 rewrite records in place; this undoes them on error.
    let saved_words = btf.words.clone();
    dedup_in_place(btf, opts, None, true).inspect_err(|_| btf.words = saved_words)
}

/// [`dedup`] for a BTF the caller gives up: no copy of its records is kept
/// to restore on error (on a vmlinux being encoded, about 100 MB at the
/// peak), and a split BTF can take its base's candidates from `base`,
/// computed once for every module over that base.
///
/// ```
/// # use std::sync::Arc;
/// use kbtf_btf::{Btf, Info, Kind};
/// use kbtf_btf::dedup::{dedup_owned, BaseCandidates, DedupOptions};
///
/// let mut base = Btf::new();
/// let int = base.add_str(b"int").unwrap();
/// base.add_type(int, Info::new(Kind::Int, false, 0), 4, &[0x0100_0020]).unwrap();
/// let base = BaseCandidates::new(Arc::new(base));
/// let mut module = Btf::new_split(base.btf().clone());
/// let int = module.add_str(b"int").unwrap();
/// module.add_type(int, Info::new(Kind::Int, false, 0), 4, &[0x0100_0020]).unwrap();
/// let module = dedup_owned(module, &DedupOptions::default(), Some(&base)).unwrap();
/// assert_eq!(module.own_ids().len(), 0);
/// ```
pub fn dedup_owned(
    mut btf: Btf,
    opts: &DedupOptions,
    base: Option<&BaseCandidates>,
) -> Result<Btf> {
    dedup_in_place(&mut btf, opts, base, false)?;
    Ok(btf)
}

/// A base BTF's types entered into dedup's candidate table, once: hashing a
/// vmlinux base for every module cost a batch of modules a seventh of its
/// time. Holding the base keeps it from being changed while this exists.
pub struct BaseCandidates {
    base: Arc<Btf>,
    table: Candidates,
    /// The base alone passes `check_input`, so a split BTF's dedup checks
    /// only its own types (when it fails, each dedup checks everything and
    /// reports the base's error as it always did).
    base_checked: bool,
}

/// How a dedup gets its own copy of the base's table (it adds the split
/// types to it and reorders chains as it goes).
enum Candidates {
    /// Every dedup copies it.
    Shared(CandidateTable),
    /// The first dedup takes it; any later one hashes the base again.
    Once(Mutex<Option<CandidateTable>>),
    /// Every dedup starts a table over a base index's chains.
    Frozen(Arc<frozen::FrozenChains>),
}

impl BaseCandidates {
    /// Hashes every type of `base` as a dedup candidate.
    pub fn new(base: Arc<Btf>) -> BaseCandidates {
        let table = Candidates::Shared(base_table(&base));
        let base_checked = check_input(&base).is_ok();
        BaseCandidates {
            base,
            table,
            base_checked,
        }
    }

    /// [`BaseCandidates::new`] for a process that deduplicates one split
    /// BTF over `base` (one module): that dedup takes the table rather than
    /// a copy of it, which on a vmlinux base (about 3 MB of table) was a
    /// fifteenth of a small module's time. Any later dedup over these
    /// candidates hashes the base again, so the output never depends on
    /// how this was made.
    pub fn new_for_one(base: Arc<Btf>) -> BaseCandidates {
        let table = Candidates::Once(Mutex::new(Some(base_table(&base))));
        let base_checked = check_input(&base).is_ok();
        BaseCandidates {
            base,
            table,
            base_checked,
        }
    }

    /// The candidates a base index holds, for the base it holds: nothing
    /// is hashed, each dedup copies in only the chains it touches.
    pub fn from_index(index: &crate::base_index::BaseIndex) -> BaseCandidates {
        BaseCandidates {
            base: index.btf().clone(),
            table: Candidates::Frozen(index.chains().clone()),
            base_checked: index.base_checked(),
        }
    }

    /// The base these are the candidates of.
    pub fn btf(&self) -> &Arc<Btf> {
        &self.base
    }

    /// A table of the base's candidates for one dedup to fill in.
    fn table(&self) -> CandidateTable {
        match &self.table {
            Candidates::Shared(t) => t.clone(),
            Candidates::Once(once) => {
                let taken = once.lock().map(|mut t| t.take()).unwrap_or_default();
                taken.unwrap_or_else(|| base_table(&self.base))
            }
            Candidates::Frozen(chains) => CandidateTable::over(chains.clone()),
        }
    }
}

fn base_table(base: &Btf) -> CandidateTable {
    let mut table = CandidateTable::default();
    prep::hash_types(&mut table, base, base.type_count());
    table
}

/// `want_map`: fill [`DedupStats::id_map`] (a vmlinux's pre-dedup ids need
/// 17 MB for it, which encoders have no use for).
fn dedup_in_place(
    btf: &mut Btf,
    opts: &DedupOptions,
    base: Option<&BaseCandidates>,
    want_map: bool,
) -> Result<DedupStats> {
    // Candidates made for another base are not used.
    let base = base.filter(|b| {
        btf.base
            .as_ref()
            .is_some_and(|own| Arc::ptr_eq(own, &b.base))
    });
    match base {
        // The base was checked once for every split BTF over it.
        Some(b) if b.base_checked => check_own_input(btf)?,
        _ => check_input(btf)?,
    }
    let types_before = btf.own_ids().len() as u32;
    let strings_before = btf.strings.len();
    let (words, offsets, strings, id_map) = run_phases(btf, opts, base, want_map)?;
    btf.words = words;
    btf.offsets = offsets;
    if let Some(strings) = strings {
        btf.replace_strings(strings);
    }
    Ok(DedupStats {
        types_before,
        types_after: btf.own_ids().len() as u32,
        strings_before,
        strings_after: btf.strings.len(),
        id_map,
    })
}

/// New records, record offsets, (when rebuilt) strings, and old id to new.
type Output = (Vec<u32>, Vec<u32>, Option<StringTable>, Vec<TypeId>);

fn run_phases(
    btf: &mut Btf,
    opts: &DedupOptions,
    base: Option<&BaseCandidates>,
    want_map: bool,
) -> Result<Output> {
    let mut d = Dedup::new(btf);
    d.libbpf_1_7 = opts.libbpf_1_7;
    match base {
        Some(base) => prep::take_base(&mut d, base.table()),
        None => prep::hash_base(&mut d, btf),
    }
    let strings = if opts.rebuild_strings {
        Some(strings::dedup_strings(btf)?)
    } else {
        None
    };
    prim::dedup_prim_types(&mut d, btf);
    structs::dedup_struct_types(&mut d, btf)?;
    fwds::resolve_fwds(&mut d, btf);
    refs::dedup_ref_types(&mut d, btf)?;
    let (words, offsets) = compact::compact_and_remap(&mut d, btf)?;
    let id_map = if want_map {
        compact::id_map(&d, btf)
    } else {
        Vec::new()
    };
    Ok((words, offsets, strings, id_map))
}

/// Refuses what libbpf's dedup refuses (kinds it does not know) and what
/// would make the phases index out of range (BTF built with `add_record`
/// is not checked the way parsed BTF is).
pub(crate) fn check_input(btf: &Btf) -> Result<()> {
    // Base types too: the walks read them, and libbpf refuses unknown kinds there as well.
    check_types(btf, btf.all_ids())
}

/// [`check_input`] on the types of `btf` itself, not its base's: for a
/// base already checked, alone (its types then pass in any split BTF over
/// it, whose ids only go further).
pub(crate) fn check_own_input(btf: &Btf) -> Result<()> {
    check_types(btf, btf.own_ids())
}

fn check_types(btf: &Btf, ids: impl Iterator<Item = TypeId>) -> Result<()> {
    let count = btf.type_count();
    for t in ids.filter_map(|id| btf.type_by_id(id)) {
        if let Kind::Unknown(raw) = t.kind() {
            return Err(Error::Invalid {
                id: t.id(),
                what: format!("kind {raw} is unknown to dedup"),
            });
        }
        // A FWD's third word is remapped like a type id (see `compact`).
        let fwd = (t.kind() == Kind::Fwd).then_some(2);
        for slot in type_id_slots(t.info()).chain(fwd) {
            let target = t.words()[slot];
            if target >= count {
                return Err(Error::TypeIdOutOfRange {
                    id: t.id(),
                    target: TypeId(target),
                    last: count - 1,
                });
            }
        }
    }
    Ok(())
}

/// The state shared by the phases (libbpf's `struct btf_dedup`).
pub(crate) struct Dedup {
    /// First own type id: ids below belong to the base.
    start_id: u32,
    /// Canonical map: each id to its representative (or a step towards it).
    map: Vec<u32>,
    /// The hypothetical map of one equivalence check, canonical id to
    /// candidate id; reused as old id to new id by compaction.
    hypot: Vec<u32>,
    /// The ids set in `hypot`, in the order they were set.
    hypot_list: Vec<u32>,
    /// The check's success would need a base FWD resolved: not equivalent.
    adjust_canon: bool,
    table: CandidateTable,
    /// [`DedupOptions::libbpf_1_7`].
    libbpf_1_7: bool,
}

impl Dedup {
    fn new(btf: &Btf) -> Dedup {
        let count = btf.type_count() as usize;
        let mut map = vec![UNPROCESSED; count];
        map[0] = 0;
        // Base types (a split BTF's) are all marked as their own
        // representatives by phase 0, VAR and DATASEC among them.
        for id in btf.own_ids() {
            if let Some(t) = btf.type_by_id(id) {
                if matches!(t.kind(), Kind::Var | Kind::Datasec) {
                    map[id.0 as usize] = id.0;
                }
            }
        }
        Dedup {
            start_id: btf.start_id,
            map,
            hypot: vec![UNPROCESSED; count],
            hypot_list: Vec::new(),
            adjust_canon: false,
            table: CandidateTable::default(),
            libbpf_1_7: false,
        }
    }

    fn is_mapped(&self, id: u32) -> bool {
        self.map[id as usize] <= MAX_NR_TYPES
    }

    /// Follows `map` to the representative (or to the last mapped step).
    fn resolve(&self, mut id: u32) -> u32 {
        while self.is_mapped(id) && self.map[id as usize] != id {
            id = self.map[id as usize];
        }
        id
    }
}

/// The record of `id`; `check_input` made every id the phases meet valid.
/// Id 0 reads as libbpf's `void`: all zero words (kind 0).
fn ty(btf: &Btf, id: u32) -> TypeRef<'_> {
    static VOID: [u32; 3] = [0; 3];
    if id == 0 {
        return TypeRef::new(TypeId::VOID, &VOID);
    }
    btf.type_by_id(TypeId(id))
        .expect("dedup only meets ids check_input accepted")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Info, StrOff};

    #[test]
    fn a_reference_loop_is_an_error_and_changes_nothing() {
        let mut btf = Btf::new();
        let (a, b) = (btf.add_str(b"a").unwrap(), btf.add_str(b"b").unwrap());
        let typedef = Info::new(Kind::Typedef, false, 0);
        btf.add_type(a, typedef, 2, &[]).unwrap();
        btf.add_type(b, typedef, 1, &[]).unwrap();
        let before = btf.to_bytes();
        let err = dedup(&mut btf, &DedupOptions::default()).unwrap_err();
        assert!(err.to_string().contains("loop"), "{err}");
        assert!(btf.to_bytes() == before);
    }

    #[test]
    fn out_of_range_ids_are_refused() {
        let mut btf = Btf::new();
        btf.add_type(StrOff(0), Info::new(Kind::Ptr, false, 0), 7, &[])
            .unwrap();
        assert!(matches!(
            dedup(&mut btf, &DedupOptions::default()),
            Err(Error::TypeIdOutOfRange { .. })
        ));
    }

    /// A split BTF over `int`, with a copy of `int` and a pointer to it.
    fn module_over(base: &BaseCandidates) -> Btf {
        let mut module = Btf::new_split(base.btf().clone());
        let int = module.add_str(b"int").unwrap();
        let i = module
            .add_type(int, Info::new(Kind::Int, false, 0), 4, &[0x0100_0020])
            .unwrap();
        module
            .add_type(StrOff(0), Info::new(Kind::Ptr, false, 0), i.0, &[])
            .unwrap();
        module
    }

    #[test]
    fn candidates_for_one_give_every_dedup_the_same_output() {
        let mut base = Btf::new();
        let int = base.add_str(b"int").unwrap();
        base.add_type(int, Info::new(Kind::Int, false, 0), 4, &[0x0100_0020])
            .unwrap();
        let base = Arc::new(base);
        let shared = BaseCandidates::new(base.clone());
        let once = BaseCandidates::new_for_one(base);
        let opts = DedupOptions::default();
        let want = dedup_owned(module_over(&shared), &opts, Some(&shared))
            .unwrap()
            .to_bytes();
        // The first takes the table, the second hashes the base again.
        for _ in 0..2 {
            let got = dedup_owned(module_over(&once), &opts, Some(&once)).unwrap();
            assert_eq!(got.own_ids().len(), 1, "int merged into the base");
            assert!(got.to_bytes() == want);
        }
    }

    #[test]
    fn a_base_dedup_would_refuse_is_refused_through_its_candidates() {
        let mut base = Btf::new();
        base.add_type(StrOff(0), Info::new(Kind::Ptr, false, 0), 70, &[])
            .unwrap();
        let base = Arc::new(base);
        for candidates in [
            BaseCandidates::new(base.clone()),
            BaseCandidates::new_for_one(base.clone()),
        ] {
            let err = dedup_owned(
                module_over(&candidates),
                &DedupOptions::default(),
                Some(&candidates),
            )
            .err();
            assert!(
                matches!(err, Some(Error::TypeIdOutOfRange { id: TypeId(1), .. })),
                "{err:?}"
            );
        }
    }

    #[test]
    fn kept_strings_stay_as_they_are() {
        let mut btf = Btf::new();
        let unused = btf.add_str(b"unused").unwrap();
        let int = btf.add_str(b"int").unwrap();
        for _ in 0..2 {
            btf.add_type(int, Info::new(Kind::Int, false, 0), 4, &[32])
                .unwrap();
        }
        let strings = btf.own_strings().as_bytes().to_vec();
        let keep = DedupOptions {
            rebuild_strings: false,
            libbpf_1_7: false,
        };
        let stats = dedup(&mut btf, &keep).unwrap();
        assert_eq!(stats.types_after, 1);
        assert_eq!(btf.own_strings().as_bytes(), strings);
        assert_eq!(btf.find_str(b"unused"), Some(unused));
        dedup(&mut btf, &DedupOptions::default()).unwrap();
        assert_eq!(btf.own_strings().as_bytes(), b"\0int\0");
    }
}
