//! The structure of a BTF blob, checked once for both readers: the header,
//! the sections inside the blob and apart from each other, the strings
//! terminated, and every record whole and of a kind that can be sized. What
//! comes out is the sections as borrowed slices and the word index of each
//! record; nothing is copied. [`crate::Btf`] copies from it,
//! [`crate::BtfView`] keeps it.
//!
//! These are libbpf's structural rules (`btf_parse_hdr`,
//! `btf_parse_str_sec`, `btf_parse_type_sec`). Whether type ids and string
//! offsets resolve is left to the reader: the owned [`crate::Btf`] checks
//! it, a view answers `None` for what does not resolve.

use crate::header::{Header, KindLayout};
use crate::record::{self, COMMON_WORDS};
use crate::{Endian, Error, Info, Result, TypeId, MAX_NR_TYPES};

/// What a split blob's parse needs of its base.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BaseShape<'b> {
    /// The split's first type id: the base's type count.
    pub start_id: u32,
    /// The base's kind layout, which sizes the split's records when it has none.
    pub layout: Option<&'b [KindLayout]>,
}

/// A blob whose structure has been checked.
#[derive(Clone)]
pub(crate) struct Sections<'a> {
    pub endian: Endian,
    /// The header's length and its bytes past the known fields.
    pub hdr_len: u32,
    pub hdr_extra: Vec<u8>,
    /// The blob's own kind-layout section, if it has a non-empty one.
    pub layout: Option<Vec<KindLayout>>,
    /// The type section.
    pub types: &'a [u8],
    /// The string section.
    pub strs: &'a [u8],
    /// Word index into `types` of each record, in id order, then the
    /// section's end: record `i` is words `records[i]..records[i + 1]`.
    pub records: Vec<u32>,
    /// The info word of each record, when asked for: a walk over the
    /// kinds then reads this index, not the records.
    pub infos: Vec<Info>,
}

impl<'a> Sections<'a> {
    /// Checks the structure of `blob`, as base BTF (`base` `None`) or as
    /// split BTF over a base of that shape; with `keep_infos`, keeps each
    /// record's info word.
    pub fn parse(
        blob: &'a [u8],
        base: Option<BaseShape<'_>>,
        keep_infos: bool,
    ) -> Result<Sections<'a>> {
        let header = Header::parse(blob)?;
        let data = &blob[header.hdr_len as usize..];
        let section = |what: &'static str, off: u32, len: u32| -> Result<&'a [u8]> {
            let (off, len) = (off as usize, len as usize);
            off.checked_add(len)
                .and_then(|end| data.get(off..end))
                .ok_or(Error::Truncated {
                    what,
                    offset: header.hdr_len as usize + off,
                    need: len,
                    len: blob.len(),
                })
        };
        if header.type_off % 4 != 0 || header.type_len % 4 != 0 {
            return Err(Error::BadHeader(format!(
                "type section at {} of {} bytes is not word aligned",
                header.type_off, header.type_len
            )));
        }
        // libbpf's rule: the type section ends where the string section may
        // start. Without it, one byte could be read both as a type and as a
        // string, and the rewrite (which separates them) would differ.
        if header.type_off as u64 + header.type_len as u64 > header.str_off as u64 {
            return Err(Error::BadHeader(format!(
                "type section at {} + {} overlaps the string section at {} + {}",
                header.type_off, header.type_len, header.str_off, header.str_len
            )));
        }
        let types = section("type section", header.type_off, header.type_len)?;
        let strs = section("string section", header.str_off, header.str_len)?;
        let layout = match header.layout {
            Some((off, len)) if len > 0 => {
                if len % 4 != 0 {
                    return Err(Error::BadHeader(format!(
                        "kind layout length {len} is not a multiple of 4"
                    )));
                }
                let bytes = section("kind layout section", off, len)?;
                Some(KindLayout::parse_section(bytes, header.endian))
            }
            _ => None,
        };
        check_strings(strs, base.is_none())?;
        let types_at = header.hdr_len as usize + header.type_off as usize;
        let mut infos = Vec::new();
        let records = index_records(
            types,
            header.endian,
            types_at,
            base.map_or(1, |b| b.start_id),
            layout.as_deref().or(base.and_then(|b| b.layout)),
            keep_infos.then_some(&mut infos),
        )?;
        Ok(Sections {
            endian: header.endian,
            hdr_len: header.hdr_len,
            hdr_extra: header.extra,
            layout,
            types,
            strs,
            records,
            infos,
        })
    }

    /// A copy for the owned [`crate::Btf`], which has no use for the infos.
    pub fn without_infos(&self) -> Sections<'a> {
        Sections {
            endian: self.endian,
            hdr_len: self.hdr_len,
            hdr_extra: self.hdr_extra.clone(),
            layout: self.layout.clone(),
            types: self.types,
            strs: self.strs,
            records: self.records.clone(),
            infos: Vec::new(),
        }
    }

    /// The number of records.
    pub fn record_count(&self) -> usize {
        self.records.len().saturating_sub(1)
    }
}

/// The shape, not the index: a vmlinux's has some 100,000 entries.
impl std::fmt::Debug for Sections<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sections")
            .field("endian", &self.endian)
            .field("hdr_len", &self.hdr_len)
            .field("layout", &self.layout.as_ref().map(Vec::len))
            .field("types", &self.types.len())
            .field("strs", &self.strs.len())
            .field("records", &self.record_count())
            .finish()
    }
}

/// Finds where each record of the type section `types` starts, in words,
/// and ends the list with the section's end; appends each record's info
/// word to `infos` when given.
/// `types_at` is the section's offset in the blob, for errors; `start_id`
/// the first record's id.
fn index_records(
    types: &[u8],
    endian: Endian,
    types_at: usize,
    start_id: u32,
    layout: Option<&[KindLayout]>,
    mut infos: Option<&mut Vec<Info>>,
) -> Result<Vec<u32>> {
    let words = types.len() / 4;
    let word = |at: usize| {
        types
            .get(at * 4..at * 4 + 4)
            .map_or(0, |b| endian.read_u32([b[0], b[1], b[2], b[3]]))
    };
    let mut records = Vec::new();
    let mut at = 0usize;
    while at < words {
        let id = TypeId(start_id.saturating_add(records.len() as u32));
        let offset = types_at + at * 4;
        let truncated = |need: usize| Error::Truncated {
            what: "type record",
            offset,
            need,
            len: types_at + types.len(),
        };
        if words - at < COMMON_WORDS {
            return Err(truncated(COMMON_WORDS * 4));
        }
        let info = Info(word(at + 1));
        if info.raw_kind() == 0 {
            return Err(Error::BadType {
                id,
                offset,
                what: "kind 0 (UNKN) is not a type".into(),
            });
        }
        let len = record::record_words(info, layout).ok_or_else(|| Error::UnknownKind {
            id,
            offset,
            kind: info.raw_kind(),
        })?;
        if words - at < len {
            return Err(truncated(len * 4));
        }
        if id.0 > MAX_NR_TYPES {
            return Err(Error::Limit(format!("more than {MAX_NR_TYPES} types")));
        }
        records.push(at as u32);
        if let Some(infos) = infos.as_deref_mut() {
            infos.push(info);
        }
        at += len;
    }
    records.push(at as u32);
    Ok(records)
}

fn check_strings(strs: &[u8], is_base: bool) -> Result<()> {
    if is_base && strs.first() != Some(&0) {
        return Err(Error::BadStrings(
            "a base BTF's strings must start with the empty string".into(),
        ));
    }
    if !strs.is_empty() && strs.last() != Some(&0) {
        return Err(Error::BadStrings(
            "the last string is not NUL-terminated".into(),
        ));
    }
    Ok(())
}
