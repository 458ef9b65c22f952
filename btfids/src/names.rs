//! What resolving ids reads of a BTF: each type's id, kind and name, for
//! the types that pass a [`NameFilter`]. Both the owned
//! [`kbtf_btf::Btf`] and a [`kbtf_btf::BtfView`] of a blob read in place
//! (the fast path: no copy of the records) are a [`TypeNames`].

use kbtf_btf::{Btf, BtfView, Error, Kind};

/// Which types a visit wants: their kinds, and the first bytes of their
/// names (a cheap test that spares most names a full read and a hash).
#[derive(Clone, Debug)]
pub struct NameFilter {
    kinds: u128,
    first: [bool; 256],
}

impl NameFilter {
    /// Types of `kinds` named one of `names`, or any name when `names` is `None`.
    pub fn new<'n>(
        kinds: &[Kind],
        names: Option<impl IntoIterator<Item = &'n [u8]>>,
    ) -> NameFilter {
        let kinds = (0u8..128)
            .filter(|&r| kinds.contains(&Kind::from_raw(r)))
            .fold(0, |m, r| m | 1u128 << r);
        let mut first = [names.is_none(); 256];
        for n in names.into_iter().flatten() {
            first[n.first().copied().unwrap_or(0) as usize] = true;
        }
        NameFilter { kinds, first }
    }

    fn kind(&self, raw_kind: u8) -> bool {
        self.kinds & (1u128 << (raw_kind & 0x7f)) != 0
    }

    fn first_byte(&self, b: u8) -> bool {
        self.first[b as usize]
    }
}

/// What id resolution reads of a BTF: the types that pass a filter, base
/// types first, in id order.
pub trait TypeNames {
    /// Calls `f(id, kind, name)` for every type that `filter` lets through
    /// (and maybe a few more), from id 1, until it returns `false`.
    fn visit(
        &self,
        filter: &NameFilter,
        f: &mut dyn FnMut(u32, Kind, &[u8]) -> bool,
    ) -> Result<(), Error>;
}

impl TypeNames for Btf {
    fn visit(
        &self,
        filter: &NameFilter,
        f: &mut dyn FnMut(u32, Kind, &[u8]) -> bool,
    ) -> Result<(), Error> {
        for id in self.all_ids() {
            let t = self.get(id)?;
            if !filter.kind(t.info().raw_kind()) {
                continue;
            }
            if !f(
                id.0,
                t.kind(),
                self.str_at(t.name_off()).unwrap_or_default(),
            ) {
                break;
            }
        }
        Ok(())
    }
}

/// The fast path: a blob read in place, each record's kind and the first
/// byte of its name tested before the name is read.
impl TypeNames for BtfView<'_> {
    fn visit(
        &self,
        filter: &NameFilter,
        f: &mut dyn FnMut(u32, Kind, &[u8]) -> bool,
    ) -> Result<(), Error> {
        for t in self.all_types() {
            let info = t.info();
            if !filter.kind(info.raw_kind()) {
                continue;
            }
            let name_off = t.name_off();
            if !filter.first_byte(self.str_first_byte(name_off).unwrap_or(0)) {
                continue;
            }
            if !f(
                t.id().0,
                info.kind(),
                self.str_at(name_off).unwrap_or_default(),
            ) {
                break;
            }
        }
        Ok(())
    }
}
