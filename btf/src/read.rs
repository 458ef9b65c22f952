//! Parsing a BTF blob into a [`Btf`], with the checks libbpf makes before it
//! hands a BTF to anyone: the structure (sections inside the blob, whole
//! records; `sections`, shared with [`BtfView`]), then type ids and string
//! offsets in range. Nothing past this point needs to bounds-check.

use std::sync::Arc;

use crate::record;
use crate::sections::{BaseShape, Sections};
use crate::{Btf, BtfView, Error, Kind, Result, StrOff, StringTable, TypeId};

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
        btf.check_resolved()?;
        Ok(btf)
    }

    /// The checks of a parse past the structure: references resolve, and
    /// fit the base.
    fn check_resolved(&self) -> Result<()> {
        self.check_references().map_err(|e| self.blame_base(e))?;
        self.check_base_strings()
    }

    /// The owned copy of a view: the same [`Btf`] that [`Btf::parse_split`]
    /// makes of the view's blob, with the same checks of type ids and
    /// string offsets (which the view does not make).
    ///
    /// A split view's owned copy is split over `base`, the owned copy of
    /// the view's base (as [`Btf::from_view`] or [`Btf::parse`] makes it);
    /// a base view takes `None`. A `base` of another type count, string
    /// length or kind layout than the view's base is
    /// [`Error::BadArgument`].
    pub fn from_view(view: &BtfView<'_>, base: Option<Arc<Btf>>) -> Result<Btf> {
        let fits = match (view.base(), base.as_deref()) {
            (None, None) => true,
            (Some(v), Some(b)) => {
                v.type_count() == b.type_count()
                    && v.str_end() == b.str_end()
                    && v.layout() == b.layout()
            }
            _ => false,
        };
        if !fits {
            return Err(Error::BadArgument(format!(
                "the base given ({} types) is not the owned copy of the view's base ({} types)",
                base.map_or(0, |b| b.type_count()),
                view.base().map_or(0, BtfView::type_count)
            )));
        }
        let btf = Btf::from_sections(view.sections().without_infos(), base);
        btf.check_resolved()?;
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
        let shape = base.as_deref().map(|b| BaseShape {
            start_id: b.type_count(),
            layout: b.layout(),
        });
        let sections = Sections::parse(blob, shape, false)?;
        Ok(Btf::from_sections(sections, base))
    }

    /// The owned copy of a blob whose structure was checked over `base`.
    fn from_sections(sections: Sections<'_>, base: Option<Arc<Btf>>) -> Btf {
        let mut btf = match base {
            Some(base) => Btf::new_split(base),
            None => Btf::new(),
        };
        btf.endian = sections.endian;
        btf.hdr_len = sections.hdr_len;
        btf.hdr_extra = sections.hdr_extra;
        btf.layout = sections.layout;
        btf.strings = StringTable::from_bytes(sections.strs.to_vec());
        sections.endian.read_words(sections.types, &mut btf.words);
        btf.offsets = sections.records;
        // The end of the last record: a Btf finds it as its words' end.
        btf.offsets.pop();
        btf
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
