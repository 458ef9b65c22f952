//! The names of a BTF's types, read straight from the blob: resolving ids
//! needs only each type's id, kind and name, so [`BtfNames`] walks the type
//! section in place (no copy, no index) and reads names from the string
//! section(s). Every read is bounds-checked; a truncated record is an error.
//!
//! Both [`BtfNames`] and [`kbtf_btf::Btf`] are a [`TypeNames`].

use kbtf_btf::header::Header;
use kbtf_btf::{Btf, Endian, Error, Info, Kind, KindLayout};

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

/// A BTF blob (base or split) viewed for its type names.
pub struct BtfNames<'a> {
    base: Option<&'a BtfNames<'a>>,
    endian: Endian,
    layout: Option<Vec<KindLayout>>,
    types: &'a [u8],
    strs: &'a [u8],
    start_str: u32,
}

impl<'a> BtfNames<'a> {
    /// Reads the header and finds the sections; counts the types.
    pub fn parse(blob: &'a [u8], base: Option<&'a BtfNames<'a>>) -> Result<BtfNames<'a>, Error> {
        let h = Header::parse(blob)?;
        let data = &blob[h.hdr_len as usize..];
        let section = |what: &'static str, off: u32, len: u32| {
            data.get(off as usize..off as usize + len as usize)
                .ok_or(Error::Truncated {
                    what,
                    offset: h.hdr_len as usize + off as usize,
                    need: len as usize,
                    len: blob.len(),
                })
        };
        let types = section("type section", h.type_off, h.type_len)?;
        let strs = section("string section", h.str_off, h.str_len)?;
        let layout = match h.layout {
            Some((off, len)) if len > 0 => Some(
                section("kind layout section", off, len)?
                    .chunks_exact(4)
                    .map(|c| KindLayout {
                        info_sz: c[0],
                        elem_sz: c[1],
                        flags: h.endian.read_u16([c[2], c[3]]),
                    })
                    .collect(),
            ),
            _ => None,
        };
        Ok(BtfNames {
            base,
            endian: h.endian,
            layout,
            types,
            strs,
            start_str: base.map_or(0, |b| b.start_str + b.strs.len() as u32),
        })
    }

    /// One past the last type id, base included (libbpf's `btf__type_cnt`).
    pub fn type_count(&self) -> Result<u32, Error> {
        let none = NameFilter::new(&[], None::<[&[u8]; 0]>);
        Ok(self
            .visit_counting(&none, &mut |_, _, _| true)?
            .unwrap_or(0))
    }

    fn word(&self, at: usize) -> Option<u32> {
        let b = self.types.get(at..at + 4)?;
        Some(self.endian.read_u32([b[0], b[1], b[2], b[3]]))
    }

    /// The first byte of the name at `off` (0 for none).
    fn first_byte(&self, off: u32) -> u8 {
        if off < self.start_str {
            return self.base.map_or(0, |b| b.first_byte(off));
        }
        self.strs
            .get((off - self.start_str) as usize)
            .copied()
            .unwrap_or(0)
    }

    fn name(&self, off: u32) -> &[u8] {
        if off < self.start_str {
            return self.base.map_or(&[][..], |b| b.name(off));
        }
        let tail = self
            .strs
            .get((off - self.start_str) as usize..)
            .unwrap_or_default();
        &tail[..tail.iter().position(|&c| c == 0).unwrap_or(tail.len())]
    }

    /// Walks the own records from id `start_id`, calling `f` on those whose
    /// kind is in `mask`; the number of records if it went through them all.
    fn walk(
        &self,
        start_id: u32,
        filter: &NameFilter,
        f: &mut dyn FnMut(u32, Kind, &[u8]) -> bool,
    ) -> Result<Option<u32>, Error> {
        let mut at = 0usize;
        let mut id = start_id;
        while at < self.types.len() {
            let bad = |what: String| Error::BadType {
                id: kbtf_btf::TypeId(id),
                offset: at,
                what,
            };
            let (Some(name_off), Some(info)) = (self.word(at), self.word(at + 4)) else {
                return Err(bad("record is truncated".into()));
            };
            let info = Info(info);
            let words = info
                .record_words(self.layout.as_deref())
                .ok_or_else(|| bad(format!("unknown kind {}", info.raw_kind())))?;
            if at + 4 * words.max(Info::COMMON_WORDS) > self.types.len() {
                return Err(bad("record is truncated".into()));
            }
            if filter.kind(info.raw_kind())
                && filter.first_byte(self.first_byte(name_off))
                && !f(id, info.kind(), self.name(name_off))
            {
                return Ok(None);
            }
            at += 4 * words;
            id += 1;
        }
        Ok(Some(id - start_id))
    }

    /// Visits base and own types; the type count if it went through them all.
    fn visit_counting(
        &self,
        filter: &NameFilter,
        f: &mut dyn FnMut(u32, Kind, &[u8]) -> bool,
    ) -> Result<Option<u32>, Error> {
        let start_id = match self.base {
            // The split's ids start where the base's end, known once it was walked.
            Some(base) => match base.visit_counting(filter, f)? {
                Some(n) => n,
                None => return Ok(None),
            },
            None => 1,
        };
        Ok(self.walk(start_id, filter, f)?.map(|n| start_id + n))
    }
}

impl TypeNames for BtfNames<'_> {
    fn visit(
        &self,
        filter: &NameFilter,
        f: &mut dyn FnMut(u32, Kind, &[u8]) -> bool,
    ) -> Result<(), Error> {
        self.visit_counting(filter, f).map(|_| ())
    }
}
