//! Parsing a BTF blob into a [`Btf`], with the checks libbpf makes before it
//! hands a BTF to anyone: sections inside the blob, whole records, type ids
//! and string offsets in range. Nothing past this point needs to bounds-check.

use std::sync::Arc;

use crate::header::{Header, KindLayout};
use crate::record::{self, COMMON_WORDS};
use crate::{Btf, Error, Info, Kind, Result, StrOff, StringTable, TypeId};

/// The highest type id the kernel accepts (`BTF_MAX_TYPE`).
pub const MAX_TYPE_ID: u32 = 0xf_ffff;

/// The most types libbpf holds in memory (`BTF_MAX_NR_TYPES`). BTF on its way
/// to dedup exceeds the kernel's limit: pahole's dedup input for a vmlinux
/// has millions of types.
pub const MAX_NR_TYPES: u32 = 0x7fff_ffff;

impl Btf {
    /// Parses a base BTF blob.
    pub fn parse(blob: &[u8]) -> Result<Btf> {
        Btf::parse_split(blob, None)
    }

    /// Parses a blob as split BTF over `base` (or as base BTF when `base` is `None`).
    ///
    /// Split BTF does not name its base, so a wrong base is found by its
    /// effects: a reference past the base's last type or string, a string
    /// offset into the middle of a base string, a FUNC whose prototype in
    /// the base is something else. Any of these is [`Error::BaseMismatch`].
    pub fn parse_split(blob: &[u8], base: Option<Arc<Btf>>) -> Result<Btf> {
        let btf = Btf::parse_split_unresolved(blob, base)?;
        btf.check_references().map_err(|e| btf.blame_base(e))?;
        btf.check_base_strings()?;
        Ok(btf)
    }

    /// Turns a reference error of split BTF into [`Error::BaseMismatch`]
    /// when the reference goes into (or past) the base.
    pub(crate) fn blame_base(&self, e: Error) -> Error {
        let Some(base) = &self.base else {
            return e;
        };
        let into_base = match &e {
            Error::TypeIdOutOfRange { .. } | Error::StrOffOutOfRange { .. } => true,
            Error::Invalid { id, .. } => self
                .type_by_id(*id)
                .is_some_and(|t| t.type_id().0 < self.start_id),
            _ => false,
        };
        if !into_base {
            return e;
        }
        Error::BaseMismatch {
            base: base.source.as_deref().map(Into::into),
            what: e.to_string(),
        }
    }

    /// Every string offset below the split's own strings must start a
    /// string of the base: pahole's split BTF points only at whole base
    /// strings, and over another kernel's base the offsets land anywhere.
    fn check_base_strings(&self) -> Result<()> {
        let Some(base) = &self.base else {
            return Ok(());
        };
        for t in self.own_types() {
            let words = t.words();
            for slot in record::str_off_slots(t.info()) {
                let off = words[slot];
                if off == 0 || off >= self.start_str_off {
                    continue;
                }
                let starts_string = base
                    .str_at(StrOff(off - 1))
                    .is_some_and(|prev| prev.is_empty());
                if !starts_string {
                    return Err(Error::BaseMismatch {
                        base: base.source.as_deref().map(Into::into),
                        what: format!(
                            "type [{}]: string offset {off} falls inside a string of the base",
                            t.id()
                        ),
                    });
                }
            }
        }
        Ok(())
    }

    /// Like [`Btf::parse_split`], but without checking that type ids and
    /// string offsets resolve: for `check`, which reports those the way the
    /// kernel does, after the per-record rules. Views may not follow such a
    /// BTF's references blindly.
    pub(crate) fn parse_split_unresolved(blob: &[u8], base: Option<Arc<Btf>>) -> Result<Btf> {
        let header = Header::parse(blob)?;
        let data = &blob[header.hdr_len as usize..];
        let section = |what: &'static str, off: u32, len: u32| -> Result<&[u8]> {
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

        let mut btf = match base {
            Some(base) => Btf::new_split(base),
            None => Btf::new(),
        };
        btf.endian = header.endian;
        btf.hdr_len = header.hdr_len;
        btf.hdr_extra = header.extra;
        btf.layout = layout;
        btf.strings = StringTable::from_bytes(strs.to_vec());
        header.endian.read_words(types, &mut btf.words);
        btf.index_records(header.hdr_len as usize + header.type_off as usize)?;
        Ok(btf)
    }

    /// Finds where each record starts. `blob_off` is the type section's offset in the blob, for errors.
    fn index_records(&mut self, blob_off: usize) -> Result<()> {
        let layout = self.layout().map(<[KindLayout]>::to_vec);
        let mut at = 0usize;
        while at < self.words.len() {
            let id = TypeId(self.type_count());
            let offset = blob_off + at * 4;
            if self.words.len() - at < COMMON_WORDS {
                return Err(Error::Truncated {
                    what: "type record",
                    offset,
                    need: COMMON_WORDS * 4,
                    len: blob_off + self.words.len() * 4,
                });
            }
            let info = Info(self.words[at + 1]);
            if info.raw_kind() == 0 {
                return Err(Error::BadType {
                    id,
                    offset,
                    what: "kind 0 (UNKN) is not a type".into(),
                });
            }
            let len = record::record_words(info, layout.as_deref()).ok_or(Error::UnknownKind {
                id,
                offset,
                kind: info.raw_kind(),
            })?;
            if self.words.len() - at < len {
                return Err(Error::Truncated {
                    what: "type record",
                    offset,
                    need: len * 4,
                    len: blob_off + self.words.len() * 4,
                });
            }
            if id.0 > MAX_NR_TYPES {
                return Err(Error::Limit(format!("more than {MAX_NR_TYPES} types")));
            }
            self.offsets.push(at as u32);
            at += len;
        }
        Ok(())
    }

    /// Every type id and string offset must resolve, and FUNC must point at a FUNC_PROTO.
    pub(crate) fn check_references(&self) -> Result<()> {
        let last = self.type_count() - 1;
        let str_end = self.str_end();
        for t in self.own_types() {
            let words = t.words();
            for slot in record::str_off_slots(t.info()) {
                let off = words[slot];
                if off >= str_end && !(off == 0 && str_end == 0) {
                    return Err(Error::StrOffOutOfRange {
                        id: t.id(),
                        off: StrOff(off),
                        end: str_end,
                    });
                }
            }
            for slot in record::type_id_slots(t.info()) {
                let target = words[slot];
                if target > last {
                    return Err(Error::TypeIdOutOfRange {
                        id: t.id(),
                        target: TypeId(target),
                        last,
                    });
                }
            }
            if t.kind() == Kind::Func {
                let proto = self.type_by_id(t.type_id()).map(|p| p.kind());
                if proto != Some(Kind::FuncProto) {
                    return Err(Error::Invalid {
                        id: t.id(),
                        what: format!(
                            "FUNC points to type {} which is not a FUNC_PROTO",
                            t.type_id()
                        ),
                    });
                }
            }
        }
        Ok(())
    }
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
