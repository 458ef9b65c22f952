//! [`BtfView`], BTF read in place, and [`TypeView`], one of its records:
//! the zero-copy reader beside the owned [`crate::Btf`].

use std::borrow::Cow;

use crate::sections::{BaseShape, Sections};
use crate::{Endian, Error, Info, Kind, KindLayout, Result, StrOff, TypeId};

/// A BTF blob, base or split, read in place. The blob (a `.BTF` section, a
/// mapped file) stays where it is; parsing checks its structure as
/// [`Btf::parse`](crate::Btf::parse) does and keeps only an index: where
/// each record starts, and its info word (8 bytes a type, so that a walk
/// over kinds reads no record). Records are decoded from the blob's byte
/// order when read.
///
/// A view is for reading many types once, fast, from a blob that outlives
/// the work: resolving a vmlinux's `.BTF_ids`, finding a type by name. To
/// change, deduplicate or write BTF, make the owned [`Btf`](crate::Btf) of it with
/// [`Btf::from_view`](crate::Btf::from_view).
///
/// ```
/// use kbtf_btf::{Btf, BtfView, Kind};
///
/// let mut btf = Btf::new();
/// let int = btf.add_int("int", 4, 0).unwrap();
/// let blob = btf.to_bytes();
///
/// let view = BtfView::parse(&blob).unwrap();
/// assert_eq!(view.find_by_name_kind(b"int", Kind::Int), Some(int));
/// let t = view.get(int).unwrap();
/// assert_eq!((t.kind(), t.name(), t.size()), (Kind::Int, Some(&b"int"[..]), 4));
/// assert_eq!(Btf::from_view(&view, None).unwrap().to_bytes(), blob);
/// ```
///
/// Type ids and string offsets inside records are not checked against the
/// BTF (the owned [`Btf`](crate::Btf) checks them): a lookup of one that does not
/// resolve answers `None`.
#[derive(Clone, Debug)]
pub struct BtfView<'a> {
    base: Option<&'a BtfView<'a>>,
    start_id: u32,
    start_str_off: u32,
    sections: Sections<'a>,
}

impl<'a> BtfView<'a> {
    /// Checks the structure of a base BTF blob and indexes its records.
    ///
    /// The checks are those of [`Btf::parse`](crate::Btf::parse) that need no other type:
    /// the header, sections inside the blob and apart, the strings starting
    /// empty and NUL-terminated, every record whole and of a kind known or
    /// described by the blob's kind layout. Errors carry the byte offset in
    /// the blob and, for a record, its type id.
    pub fn parse(blob: &'a [u8]) -> Result<BtfView<'a>> {
        BtfView::parse_split(blob, None)
    }

    /// Like [`BtfView::parse`], for split BTF over `base` (or base BTF
    /// when `base` is `None`, as [`Btf::parse_split`](crate::Btf::parse_split)
    /// takes it): its type ids start at the base's
    /// [`BtfView::type_count`], its string offsets at the end of the base's
    /// strings, and the base's kind layout sizes its records when it has
    /// none of its own.
    pub fn parse_split(blob: &'a [u8], base: Option<&'a BtfView<'a>>) -> Result<BtfView<'a>> {
        let shape = base.map(|b| BaseShape {
            start_id: b.type_count(),
            layout: b.layout(),
        });
        let sections = Sections::parse(blob, shape, true)?;
        let start_str_off = base.map_or(0, BtfView::str_end);
        // Keeps `str_end` from wrapping, here and in splits over this view.
        start_str_off
            .checked_add(sections.strs.len() as u32)
            .ok_or_else(|| {
                Error::Limit("the strings of the BTF and its bases pass 4 GiB".into())
            })?;
        Ok(BtfView {
            base,
            start_id: base.map_or(1, BtfView::type_count),
            start_str_off,
            sections,
        })
    }

    /// The structure [`Btf::from_view`](crate::Btf::from_view) copies.
    pub(crate) fn sections(&self) -> &Sections<'a> {
        &self.sections
    }

    /// The base of a split BTF.
    pub fn base(&self) -> Option<&'a BtfView<'a>> {
        self.base
    }

    /// The blob's byte order.
    pub fn endian(&self) -> Endian {
        self.sections.endian
    }

    /// The length of the blob's header: 24, or 32 (and more) with the
    /// kind-layout fields.
    pub fn header_len(&self) -> u32 {
        self.sections.hdr_len
    }

    /// The kind-layout section, if the BTF has one (its own, or its base's).
    pub fn layout(&self) -> Option<&[KindLayout]> {
        match &self.sections.layout {
            Some(l) => Some(l),
            None => self.base.and_then(BtfView::layout),
        }
    }

    /// The first type id this BTF defines (1 for a base).
    pub fn start_id(&self) -> TypeId {
        TypeId(self.start_id)
    }

    /// One past the last type id, counting void and the base: libbpf's `btf__type_cnt`.
    pub fn type_count(&self) -> u32 {
        // The parse refused more than MAX_NR_TYPES ids, so this cannot wrap.
        self.start_id + self.sections.record_count() as u32
    }

    /// The ids of this BTF's own types (not its base's).
    pub fn own_ids(&self) -> impl ExactSizeIterator<Item = TypeId> + DoubleEndedIterator {
        (self.start_id..self.type_count()).map(TypeId)
    }

    /// Every id from 1, base types included.
    pub fn all_ids(&self) -> impl ExactSizeIterator<Item = TypeId> + DoubleEndedIterator {
        (1..self.type_count()).map(TypeId)
    }

    /// This BTF's own types, in id order.
    pub fn own_types(&self) -> impl Iterator<Item = TypeView<'_>> {
        let s = &self.sections;
        let endian = s.endian;
        s.records
            .windows(2)
            .zip(&s.infos)
            .zip(self.own_ids())
            .map(move |((bounds, &info), id)| TypeView {
                btf: self,
                id,
                info,
                endian,
                record: s
                    .types
                    .get(bounds[0] as usize * 4..bounds[1] as usize * 4)
                    .unwrap_or_default(),
            })
    }

    /// Every type from id 1, base types first.
    pub fn all_types(&self) -> impl Iterator<Item = TypeView<'_>> {
        let mut chain = vec![self];
        while let Some(base) = chain.last().and_then(|v| v.base) {
            chain.push(base);
        }
        chain.into_iter().rev().flat_map(BtfView::own_types)
    }

    /// The first string offset this BTF defines.
    pub fn start_str_off(&self) -> StrOff {
        StrOff(self.start_str_off)
    }

    /// One past the last string offset, base strings included.
    pub fn str_end(&self) -> u32 {
        self.start_str_off + self.sections.strs.len() as u32
    }

    /// This BTF's own string section (a split BTF's, without the base's).
    pub fn own_strings(&self) -> &'a [u8] {
        self.sections.strs
    }

    /// The view whose own strings hold `off`, and the offset within them.
    fn strings_of(&self, off: StrOff) -> Option<(&'a [u8], usize)> {
        let mut btf = self;
        while off.0 < btf.start_str_off {
            btf = btf.base?;
        }
        Some((btf.sections.strs, (off.0 - btf.start_str_off) as usize))
    }

    /// The string at `off` (without its NUL), looked up in the base where
    /// the offset is below this BTF's.
    pub fn str_at(&self, off: StrOff) -> Option<&'a [u8]> {
        let (strs, at) = self.strings_of(off)?;
        let tail = strs.get(at..)?;
        Some(&tail[..tail.iter().position(|&b| b == 0)?])
    }

    /// The first byte of the string at `off` (0 for the empty string),
    /// without finding where it ends: a cheap test that spares most names a
    /// full read when looking for a few.
    pub fn str_first_byte(&self, off: StrOff) -> Option<u8> {
        let (strs, at) = self.strings_of(off)?;
        strs.get(at).copied()
    }

    /// The string at `off`, lossily decoded, or `""` where there is none.
    pub fn name(&self, off: StrOff) -> Cow<'a, str> {
        String::from_utf8_lossy(self.str_at(off).unwrap_or_default())
    }

    /// The record of type `id`, looked up in the base where the id is below this BTF's.
    pub fn type_by_id(&self, id: TypeId) -> Option<TypeView<'_>> {
        let mut btf = self;
        while id.0 < btf.start_id {
            btf = btf.base?;
        }
        let s = &btf.sections;
        let i = (id.0 - btf.start_id) as usize;
        let start = *s.records.get(i)? as usize * 4;
        let end = *s.records.get(i + 1)? as usize * 4;
        Some(TypeView {
            btf,
            id,
            info: *s.infos.get(i)?,
            endian: s.endian,
            record: s.types.get(start..end)?,
        })
    }

    /// Like [`BtfView::type_by_id`], with an error naming the id.
    pub fn get(&self, id: TypeId) -> Result<TypeView<'_>> {
        self.type_by_id(id).ok_or(Error::NoSuchType(id))
    }

    /// The kind of type `id`.
    pub fn type_kind(&self, id: TypeId) -> Option<Kind> {
        self.type_by_id(id).map(|t| t.kind())
    }

    /// The name of type `id` (empty for an anonymous type); `None` when
    /// there is no such type or its name offset does not resolve.
    pub fn type_name(&self, id: TypeId) -> Option<&'a [u8]> {
        self.str_at(self.type_by_id(id)?.name_off())
    }

    /// The first type named `name`, of any kind, base types included.
    pub fn find_by_name(&self, name: &str) -> Option<TypeId> {
        self.find_all_by_name(name).next()
    }

    /// Every type named `name`, in id order, base types included.
    pub fn find_all_by_name<'s>(&'s self, name: &'s str) -> impl Iterator<Item = TypeId> + 's {
        self.all_types()
            .filter(move |t| self.str_at(t.name_off()) == Some(name.as_bytes()))
            .map(|t| t.id())
    }

    /// The first type with this name and kind, base types included.
    pub fn find_by_name_kind(&self, name: &[u8], kind: Kind) -> Option<TypeId> {
        self.find_all_by_name_kind(name, kind).next()
    }

    /// Every type with this name and kind, in id order, base types included.
    pub fn find_all_by_name_kind<'s>(
        &'s self,
        name: &'s [u8],
        kind: Kind,
    ) -> impl Iterator<Item = TypeId> + 's {
        self.all_types()
            .filter(move |t| t.kind() == kind && self.str_at(t.name_off()) == Some(name))
            .map(|t| t.id())
    }
}

/// One type record of a [`BtfView`], read in place: the common words are
/// decoded on each call, the record's other words on demand.
#[derive(Copy, Clone, Debug)]
pub struct TypeView<'v> {
    btf: &'v BtfView<'v>,
    id: TypeId,
    /// The info word, from the view's index: testing kinds reads no record.
    info: Info,
    /// The blob's byte order, kept here: every accessor decodes with it.
    endian: Endian,
    /// The record's bytes, whole (the parse checked its length).
    record: &'v [u8],
}

impl<'v> TypeView<'v> {
    /// The type's id.
    pub fn id(&self) -> TypeId {
        self.id
    }

    /// The record's bytes as they are in the blob, in its byte order.
    pub fn bytes(&self) -> &'v [u8] {
        self.record
    }

    /// The number of words of the record.
    pub fn word_count(&self) -> usize {
        self.record.len() / 4
    }

    /// Word `i` of the record, in native byte order.
    pub fn word(&self, i: usize) -> Option<u32> {
        let b = self.record.get(i.checked_mul(4)?..)?.get(..4)?;
        Some(self.endian.read_u32([b[0], b[1], b[2], b[3]]))
    }

    /// The record's words, in native byte order: what
    /// [`TypeRef::words`](crate::TypeRef::words) of the owned [`Btf`](crate::Btf) holds.
    pub fn words(&self) -> impl ExactSizeIterator<Item = u32> + 'v {
        let endian = self.endian;
        self.record
            .chunks_exact(4)
            .map(move |c| endian.read_u32([c[0], c[1], c[2], c[3]]))
    }

    /// A word of the common part; every record has them.
    fn common(&self, i: usize) -> u32 {
        self.word(i).unwrap_or(0)
    }

    /// The name's string offset.
    pub fn name_off(&self) -> StrOff {
        StrOff(self.common(0))
    }

    /// The name (empty for an anonymous type), `None` when its offset does not resolve.
    pub fn name(&self) -> Option<&'v [u8]> {
        self.btf.str_at(self.name_off())
    }

    /// The record's info word.
    pub fn info(&self) -> Info {
        self.info
    }

    /// The record's kind.
    pub fn kind(&self) -> Kind {
        self.info().kind()
    }

    /// The record's vlen: its number of members, enumerators, parameters or variables (FUNC: linkage).
    pub fn vlen(&self) -> u32 {
        self.info().vlen()
    }

    /// The record's kind_flag.
    pub fn kind_flag(&self) -> bool {
        self.info().kind_flag()
    }

    /// The third word, a size or a type id depending on the kind.
    pub fn size_or_type(&self) -> u32 {
        self.common(2)
    }

    /// The third word read as a size (INT, STRUCT, UNION, ENUM, ENUM64, DATASEC, FLOAT).
    pub fn size(&self) -> u32 {
        self.size_or_type()
    }

    /// The third word read as a type id (PTR, modifiers, TYPEDEF, FUNC, FUNC_PROTO's return, VAR, tags).
    pub fn type_id(&self) -> TypeId {
        TypeId(self.size_or_type())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{int_encoding, Btf, Error};

    /// A base of most kinds: an int, a struct with a member, a pointer, a
    /// function and its prototype.
    fn base() -> Btf {
        let mut b = Btf::new();
        let int = b.add_int("int", 4, int_encoding::SIGNED).unwrap();
        let s = b.add_struct("task", 8).unwrap();
        b.add_field("pid", int, 0, 0).unwrap();
        b.add_ptr(s).unwrap();
        let proto = b.add_func_proto(int).unwrap();
        b.add_func_param("t", s).unwrap();
        b.add_func("do_task", proto, 1).unwrap();
        b.add_typedef("pid_t", int).unwrap();
        b
    }

    /// Every type of `view` reads as the same type of `btf`.
    fn assert_agrees(view: &BtfView<'_>, btf: &Btf) {
        assert_eq!(view.type_count(), btf.type_count());
        assert_eq!(view.start_id(), btf.start_id());
        assert_eq!(view.str_end(), btf.str_end());
        for t in view.all_types() {
            let owned = btf.get(t.id()).unwrap();
            assert_eq!(t.words().collect::<Vec<_>>(), owned.words(), "[{}]", t.id());
            assert_eq!(t.kind(), owned.kind());
            assert_eq!(t.name(), btf.str_at(owned.name_off()));
            assert_eq!(t.size_or_type(), owned.size());
        }
        assert_eq!(view.all_types().count() as u32, btf.type_count() - 1);
    }

    #[test]
    fn either_byte_order_reads_as_the_owned_btf() {
        let btf = base();
        for endian in [Endian::Little, Endian::Big] {
            let blob = btf.to_bytes_endian(endian);
            let view = BtfView::parse(&blob).unwrap();
            assert_eq!(view.endian(), endian);
            assert_agrees(&view, &btf);
            let task = view.find_by_name_kind(b"task", Kind::Struct).unwrap();
            assert_eq!(view.type_name(task), Some(&b"task"[..]));
            assert_eq!(view.type_kind(task), Some(Kind::Struct));
            assert_eq!(view.get(task).unwrap().vlen(), 1);
            assert_eq!(view.find_by_name("pid_t"), btf.find_by_name("pid_t"));
            assert_eq!(view.find_by_name_kind(b"task", Kind::Union), None);
            assert_eq!(
                view.str_first_byte(view.get(task).unwrap().name_off()),
                Some(b't')
            );
            let owned = Btf::from_view(&view, None).unwrap();
            assert!(owned.to_bytes() == blob);
            assert_eq!(owned.endian(), endian);
        }
    }

    #[test]
    fn split_over_a_base_view() {
        let base_btf = Arc::new(base());
        let mut split = Btf::new_split(base_btf.clone());
        let int = base_btf.find_by_name_kind(b"int", Kind::Int).unwrap();
        let t = split.add_struct("task", 4).unwrap(); // a name the base has too
        split.add_field("pid", int, 0, 0).unwrap();
        let own = split.add_typedef("mod_t", t).unwrap();
        let base_blob = base_btf.to_bytes();
        for endian in [Endian::Little, Endian::Big] {
            let blob = split.to_bytes_endian(endian);
            let base_view = BtfView::parse(&base_blob).unwrap();
            let view = BtfView::parse_split(&blob, Some(&base_view)).unwrap();
            assert_eq!(view.start_id(), TypeId(base_btf.type_count()));
            assert_eq!(view.own_ids().len(), 2);
            assert_eq!(view.all_ids().len() as u32, split.type_count() - 1);
            assert_eq!(view.own_types().next().map(|t| t.id()), Some(t));
            assert!(view.base().is_some());
            assert_agrees(&view, &split);
            let tasks: Vec<_> = view.find_all_by_name_kind(b"task", Kind::Struct).collect();
            assert_eq!(tasks, [TypeId(2), t], "base first");
            assert_eq!(view.find_all_by_name("task").count(), 2);
            assert_eq!(view.find_by_name("mod_t"), Some(own));
            assert_eq!(
                view.find_by_name("do_task"),
                base_btf.find_by_name("do_task")
            );
            // A base string through the split.
            assert_eq!(
                view.str_at(base_btf.find_str(b"pid").unwrap()),
                Some(&b"pid"[..])
            );

            let owned = Btf::from_view(&view, Some(base_btf.clone())).unwrap();
            assert!(owned.to_bytes() == blob);
            let wrong_base = Arc::new(Btf::new());
            assert!(matches!(
                Btf::from_view(&view, Some(wrong_base)),
                Err(Error::BadArgument(_))
            ));
            assert!(matches!(
                Btf::from_view(&view, None),
                Err(Error::BadArgument(_))
            ));
        }
    }

    /// A 32-byte header with a kind-layout section that sizes a kind kbtf
    /// does not know; a split over it without a layout of its own sizes
    /// that kind by the base's.
    #[test]
    fn kind_layout_sizes_unknown_kinds() {
        let mut btf = base();
        let mut layout = vec![
            KindLayout {
                info_sz: 0,
                elem_sz: 0,
                flags: 0
            };
            21
        ];
        layout[20] = KindLayout {
            info_sz: 4,
            elem_sz: 8,
            flags: 0,
        };
        btf.layout = Some(layout.clone());
        let unknown = btf
            .add_type(
                StrOff(0),
                Info::new(Kind::Unknown(20), false, 2),
                0,
                &[7; 5],
            )
            .unwrap();
        let blob = btf.to_bytes();
        let view = BtfView::parse(&blob).unwrap();
        assert_eq!(view.header_len(), crate::header::HDR_LEN_LAYOUT);
        assert_eq!(view.layout(), Some(&layout[..]));
        assert_eq!(view.get(unknown).unwrap().word_count(), 8);
        assert_eq!(view.get(unknown).unwrap().word(7), Some(7));
        assert_eq!(view.get(unknown).unwrap().word(8), None);
        assert_agrees(&view, &btf);
        assert!(Btf::from_view(&view, None).unwrap().to_bytes() == blob);

        let base = Arc::new(btf);
        let mut split = Btf::new_split(base.clone());
        split
            .add_type(StrOff(0), Info::new(Kind::Unknown(20), false, 0), 0, &[1])
            .unwrap();
        let split_blob = split.to_bytes();
        let split_view = BtfView::parse_split(&split_blob, Some(&view)).unwrap();
        assert_eq!(split_view.layout(), Some(&layout[..]));
        assert_agrees(&split_view, &split);
        assert!(Btf::from_view(&split_view, Some(base)).unwrap().to_bytes() == split_blob);
        // Without the base, kind 20 has no size.
        assert!(matches!(
            BtfView::parse(&split_blob),
            Err(Error::BadStrings(_) | Error::UnknownKind { .. })
        ));
    }

    /// Structure errors name the record's type id and offset in the blob.
    #[test]
    fn bad_records_are_errors_with_id_and_offset() {
        let btf = base();
        let blob = btf.to_bytes();
        let hdr = crate::header::HDR_LEN_BASIC as usize;
        // Type 3 (the pointer) starts after the int (4 words) and the struct (6).
        let ptr_at = hdr + 4 * (4 + 6);
        let mut bad = blob.clone();
        bad[ptr_at + 4..ptr_at + 8].copy_from_slice(&Info(0x1f << 24).0.to_le_bytes());
        match BtfView::parse(&bad) {
            Err(Error::UnknownKind { id, offset, kind }) => {
                assert_eq!((id, offset, kind), (TypeId(3), ptr_at, 0x1f))
            }
            other => panic!("{other:?}"),
        }
        bad[ptr_at + 4..ptr_at + 8].copy_from_slice(&0u32.to_le_bytes());
        assert!(matches!(
            BtfView::parse(&bad),
            Err(Error::BadType { id: TypeId(3), offset, .. }) if offset == ptr_at
        ));
        // A struct claiming more members than the section holds.
        let struct_at = hdr + 4 * 4;
        let mut bad = blob.clone();
        let info = Info::new(Kind::Struct, false, 1000).0.to_le_bytes();
        bad[struct_at + 4..struct_at + 8].copy_from_slice(&info);
        assert!(matches!(
            BtfView::parse(&bad),
            Err(Error::Truncated { what: "type record", offset, need, .. })
                if offset == struct_at && need == 4 * 3003
        ));
        // A type section running past the blob's end.
        assert!(matches!(
            BtfView::parse(&blob[..blob.len() - 1]),
            Err(Error::Truncated { .. })
        ));
        assert!(matches!(
            BtfView::parse(&blob[..10]),
            Err(Error::Truncated {
                what: "BTF header",
                ..
            })
        ));
    }

    /// Whatever the bytes, the view accepts exactly the blobs whose
    /// structure the owned parse accepts, with the same error, and reading
    /// any accepted view panics nowhere: every truncation and every byte
    /// of the blob changed.
    #[test]
    fn damaged_blobs_are_refused_as_the_owned_parse_refuses_them() {
        let blob = base().to_bytes_endian(Endian::Big);
        let mut damaged: Vec<Vec<u8>> = (0..blob.len()).map(|n| blob[..n].to_vec()).collect();
        for i in 0..blob.len() {
            for x in [0x01, 0x80, 0xff] {
                let mut b = blob.clone();
                b[i] ^= x;
                damaged.push(b);
            }
        }
        for bytes in &damaged {
            let view = BtfView::parse(bytes);
            let owned = Btf::parse_split_unresolved(bytes, None);
            match (&view, &owned) {
                (Ok(view), Ok(owned)) => {
                    assert_agrees(view, owned);
                    for t in view.all_types() {
                        let _ = (t.name(), t.type_id(), t.vlen(), t.kind_flag(), t.bytes());
                    }
                    let _ = view.find_by_name("task");
                    let _ = Btf::from_view(view, None);
                }
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                _ => panic!("view {:?}, owned {:?}", view.is_ok(), owned.is_ok()),
            }
        }
    }
}
