//! [`Btf`]: one BTF object, base or split, as an arena of 32-bit words.

use std::sync::Arc;

use crate::record::{self, COMMON_WORDS};
use crate::{Endian, Error, Info, Kind, KindLayout, Result, StrOff, StringTable, TypeId, TypeRef};

/// One BTF object. Types are kept as the words of their records (in native
/// byte order) with an index of where each record starts; typed views
/// ([`TypeRef`]) read them in place.
///
/// A split BTF holds its base in an `Arc`: its type ids start at the base's
/// [`Btf::type_count`] and its string offsets at the end of the base's
/// strings. Lookups below those starts go to the base, which may itself be split.
#[derive(Clone, Debug)]
pub struct Btf {
    pub(crate) base: Option<Arc<Btf>>,
    pub(crate) start_id: u32,
    pub(crate) start_str_off: u32,
    pub(crate) endian: Endian,
    /// Header length and bytes past the known fields, as read (24 for new BTF).
    pub(crate) hdr_len: u32,
    pub(crate) hdr_extra: Vec<u8>,
    pub(crate) layout: Option<Vec<KindLayout>>,
    pub(crate) words: Vec<u32>,
    /// Word index of each own record; entry `i` is type `start_id + i`.
    pub(crate) offsets: Vec<u32>,
    pub(crate) strings: StringTable,
    /// The file this BTF was read from, to name it in errors about split
    /// BTF over it.
    pub(crate) source: Option<Arc<std::path::Path>>,
    /// [`Btf::pointer_size`], found once; reset when a type is added.
    pub(crate) ptr_size: std::sync::OnceLock<u32>,
}

impl Btf {
    /// An empty base BTF, holding only the empty string.
    pub fn new() -> Btf {
        Btf {
            base: None,
            start_id: 1,
            start_str_off: 0,
            endian: Endian::NATIVE,
            hdr_len: crate::header::HDR_LEN_BASIC,
            hdr_extra: Vec::new(),
            layout: None,
            words: Vec::new(),
            offsets: Vec::new(),
            strings: StringTable::new_base(),
            source: None,
            ptr_size: std::sync::OnceLock::new(),
        }
    }

    /// An empty split BTF on top of `base`.
    pub fn new_split(base: Arc<Btf>) -> Btf {
        Btf {
            start_id: base.type_count(),
            start_str_off: base.str_end(),
            endian: base.endian,
            strings: StringTable::default(),
            base: Some(base),
            ..Btf::new()
        }
    }

    /// The file this BTF was read from ([`Btf::from_file`]), if any.
    pub fn source(&self) -> Option<&std::path::Path> {
        self.source.as_deref()
    }

    /// The base of a split BTF.
    pub fn base(&self) -> Option<&Arc<Btf>> {
        self.base.as_ref()
    }

    /// The length of the header [`Btf::to_bytes`] writes: 24, or 32 (and
    /// more) when it carries the `layout_off`/`layout_len` fields of newer
    /// libbpf, as read or as set by [`Btf::use_layout_header`].
    pub fn header_len(&self) -> u32 {
        if self.layout.is_some() {
            self.hdr_len.max(crate::header::HDR_LEN_LAYOUT)
        } else {
            self.hdr_len
        }
    }

    /// Writes this BTF with the 32-byte header (the layout fields, zero
    /// when it has no layout section), as the libbpf in Linux 7.x's tree
    /// writes a BTF it created: resolve_btfids 7.x's distilled `.BTF.base`
    /// and the split BTF over it. A longer header read from a file stays.
    pub fn use_layout_header(&mut self) {
        self.hdr_len = self.hdr_len.max(crate::header::HDR_LEN_LAYOUT);
    }

    /// The byte order it was read in; [`Btf::to_bytes`] writes in it.
    pub fn endian(&self) -> Endian {
        self.endian
    }

    /// Sets the byte order the BTF is written in.
    pub fn set_endian(&mut self, endian: Endian) {
        self.endian = endian;
    }

    /// The kind-layout section, if the BTF has one (its own, or its base's).
    pub fn layout(&self) -> Option<&[KindLayout]> {
        match &self.layout {
            Some(l) => Some(l),
            None => self.base.as_deref().and_then(Btf::layout),
        }
    }

    /// The first type id this BTF defines (1 for a base).
    pub fn start_id(&self) -> TypeId {
        TypeId(self.start_id)
    }

    /// One past the last type id, counting void and the base: libbpf's `btf__type_cnt`.
    pub fn type_count(&self) -> u32 {
        self.start_id + self.offsets.len() as u32
    }

    /// The ids of this BTF's own types (not its base's).
    pub fn own_ids(&self) -> impl ExactSizeIterator<Item = TypeId> + DoubleEndedIterator {
        (self.start_id..self.type_count()).map(TypeId)
    }

    /// Every id from 1, base types included.
    pub fn all_ids(&self) -> impl Iterator<Item = TypeId> {
        (1..self.type_count()).map(TypeId)
    }

    /// The first string offset this BTF defines.
    pub fn start_str_off(&self) -> StrOff {
        StrOff(self.start_str_off)
    }

    /// One past the last string offset, base strings included.
    pub fn str_end(&self) -> u32 {
        self.start_str_off + self.strings.len()
    }

    /// This BTF's own strings (a split BTF's, without the base's).
    pub fn own_strings(&self) -> &StringTable {
        &self.strings
    }

    /// The record of type `id`, looked up in the base where the id is below this BTF's.
    pub fn type_by_id(&self, id: TypeId) -> Option<TypeRef<'_>> {
        if id.0 < self.start_id {
            return self.base.as_deref()?.type_by_id(id);
        }
        let i = (id.0 - self.start_id) as usize;
        let start = *self.offsets.get(i)? as usize;
        let end = self
            .offsets
            .get(i + 1)
            .map_or(self.words.len(), |&e| e as usize);
        Some(TypeRef::new(id, &self.words[start..end]))
    }

    /// Like [`Btf::type_by_id`], with an error naming the id.
    pub fn get(&self, id: TypeId) -> Result<TypeRef<'_>> {
        self.type_by_id(id).ok_or(Error::NoSuchType(id))
    }

    /// The string at `off` (without NUL), looked up in the base where the offset is below this BTF's.
    pub fn str_at(&self, off: StrOff) -> Option<&[u8]> {
        if off.0 < self.start_str_off {
            return self.base.as_deref()?.str_at(off);
        }
        self.strings.get(off.0 - self.start_str_off)
    }

    /// The string at `off`, lossily decoded, or `""` where there is none.
    pub fn name(&self, off: StrOff) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(self.str_at(off).unwrap_or_default())
    }

    /// Builds the index [`Btf::find_str`] and [`Btf::add_str`] look this
    /// BTF's own strings up in, which the first lookup would otherwise
    /// build: a vmlinux base has about 100k strings, and a module encoded
    /// over it looks every name up there, so the index can be built on
    /// another thread while the base's other preparation runs.
    pub fn index_strings(&self) {
        self.strings.build_index();
    }

    /// The offset of a string equal to `s` in this BTF or its bases.
    pub fn find_str(&self, s: &[u8]) -> Option<StrOff> {
        if let Some(off) = self.base.as_deref().and_then(|b| b.find_str(s)) {
            return Some(off);
        }
        self.strings.find(s).map(|o| StrOff(o + self.start_str_off))
    }

    /// The offset of `s`, adding it to this BTF's strings if neither it nor a base has it.
    pub fn add_str(&mut self, s: &[u8]) -> Result<StrOff> {
        if s.contains(&0) {
            return Err(Error::BadStrings("a string to add contains NUL".into()));
        }
        if s.is_empty() {
            return Ok(StrOff(0));
        }
        if let Some(off) = self.base.as_deref().and_then(|b| b.find_str(s)) {
            return Ok(off);
        }
        Ok(StrOff(self.strings.intern(s) + self.start_str_off))
    }

    /// Appends a record given as words (native order); returns its id.
    /// The record's length must match what its `info` says.
    pub fn add_record(&mut self, words: &[u32]) -> Result<TypeId> {
        let id = TypeId(self.type_count());
        let info = words
            .get(1)
            .map(|&w| Info(w))
            .ok_or_else(|| Error::Invalid {
                id,
                what: "a record needs at least 3 words".into(),
            })?;
        if record::record_words(info, self.layout()) != Some(words.len()) {
            return Err(Error::Invalid {
                id,
                what: format!(
                    "{} record of {} words does not match its info",
                    info.kind().name(),
                    words.len()
                ),
            });
        }
        if self.type_count() > crate::MAX_NR_TYPES {
            return Err(Error::Limit(format!(
                "more than {} types",
                crate::MAX_NR_TYPES
            )));
        }
        self.offsets.push(self.words.len() as u32);
        self.words.extend_from_slice(words);
        self.ptr_size = std::sync::OnceLock::new();
        Ok(id)
    }

    /// Appends a record from its common part and trailing words.
    pub fn add_type(
        &mut self,
        name: StrOff,
        info: Info,
        size_or_type: u32,
        rest: &[u32],
    ) -> Result<TypeId> {
        let mut words = Vec::with_capacity(COMMON_WORDS + rest.len());
        words.extend_from_slice(&[name.0, info.0, size_or_type]);
        words.extend_from_slice(rest);
        self.add_record(&words)
    }

    /// The words of one of this BTF's own records, to rewrite in place.
    ///
    /// The record keeps its length: an `info` word changed to one that
    /// needs more or fewer words (another kind, another vlen) is put back
    /// when the guard is dropped, and [`RecordMut::set_info`] refuses it,
    /// so no view can read past a record.
    pub fn record_mut(&mut self, id: TypeId) -> Option<RecordMut<'_>> {
        let i = id.0.checked_sub(self.start_id)? as usize;
        let start = *self.offsets.get(i)? as usize;
        let end = self
            .offsets
            .get(i + 1)
            .map_or(self.words.len(), |&e| e as usize);
        let words = &mut self.words[start..end];
        Some(RecordMut {
            id,
            info: words[1],
            words,
            layout: self.layout.as_deref(),
        })
    }

    /// Calls `f` on every type-id word of this BTF's own records.
    pub fn for_each_type_id_mut(&mut self, mut f: impl FnMut(&mut u32)) {
        for i in 0..self.offsets.len() {
            let start = self.offsets[i] as usize;
            let info = Info(self.words[start + 1]);
            for slot in record::type_id_slots(info) {
                f(&mut self.words[start + slot]);
            }
        }
    }

    /// Calls `f` on every string-offset word of this BTF's own records.
    pub fn for_each_str_off_mut(&mut self, mut f: impl FnMut(&mut u32)) {
        for i in 0..self.offsets.len() {
            let start = self.offsets[i] as usize;
            let info = Info(self.words[start + 1]);
            for slot in record::str_off_slots(info) {
                f(&mut self.words[start + slot]);
            }
        }
    }

    /// Iterates this BTF's own types in id order.
    pub fn own_types(&self) -> impl Iterator<Item = TypeRef<'_>> {
        self.own_ids().filter_map(|id| self.type_by_id(id))
    }

    /// Replaces the own string section, for passes (like dedup) that rebuild it.
    pub fn replace_strings(&mut self, strings: StringTable) {
        self.strings = strings;
    }

    /// Finds the first type with this name and kind, base types included.
    pub fn find_by_name_kind(&self, name: &[u8], kind: Kind) -> Option<TypeId> {
        self.all_ids().find(|&id| {
            self.type_by_id(id)
                .is_some_and(|t| t.kind() == kind && self.str_at(t.name_off()) == Some(name))
        })
    }
}

impl Default for Btf {
    fn default() -> Btf {
        Btf::new()
    }
}

/// One record of a [`Btf`], writable in place without changing its length
/// (see [`Btf::record_mut`]). Dereferences to the record's words.
pub struct RecordMut<'a> {
    id: TypeId,
    words: &'a mut [u32],
    /// The info word the record's length follows from.
    info: u32,
    layout: Option<&'a [KindLayout]>,
}

impl RecordMut<'_> {
    /// Sets the info word, if the record keeps its length with it.
    pub fn set_info(&mut self, info: Info) -> Result<()> {
        if record::record_words(info, self.layout) != Some(self.words.len()) {
            return Err(Error::Invalid {
                id: self.id,
                what: format!(
                    "a {} record with vlen {} does not fit the {} words of the record",
                    info.kind().name(),
                    info.vlen(),
                    self.words.len()
                ),
            });
        }
        self.words[1] = info.0;
        self.info = info.0;
        Ok(())
    }
}

impl std::ops::Deref for RecordMut<'_> {
    type Target = [u32];
    fn deref(&self) -> &[u32] {
        self.words
    }
}

impl std::ops::DerefMut for RecordMut<'_> {
    fn deref_mut(&mut self) -> &mut [u32] {
        self.words
    }
}

impl Drop for RecordMut<'_> {
    fn drop(&mut self) {
        let info = Info(self.words[1]);
        if info.0 != self.info && record::record_words(info, self.layout) != Some(self.words.len())
        {
            self.words[1] = self.info;
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{Btf, Info, Kind};

    /// Turning a PTR (3 words) into an ARRAY (6) through `record_mut` once
    /// made the next read index past the record.
    #[test]
    fn a_record_cannot_be_made_longer_than_it_is() {
        let mut btf = Btf::new();
        let int = btf.add_int("int", 4, 0).unwrap();
        let ptr = btf.add_ptr(int).unwrap();
        {
            let mut r = btf.record_mut(ptr).unwrap();
            r[1] = Info::new(Kind::Array, false, 0).0;
        }
        assert_eq!(
            btf.get(ptr).unwrap().kind(),
            Kind::Ptr,
            "the change was undone"
        );
        let mut r = btf.record_mut(ptr).unwrap();
        assert!(r.set_info(Info::new(Kind::Array, false, 0)).is_err());
        r.set_info(Info::new(Kind::Const, false, 0)).unwrap();
        drop(r);
        assert_eq!(btf.get(ptr).unwrap().kind(), Kind::Const);
        assert!(btf.get(ptr).unwrap().array().is_none());
    }
}
