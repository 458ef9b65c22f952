//! Appending one BTF's types to another (libbpf's `btf__add_btf`), the way
//! pahole merges per-unit BTF before one dedup, and a handy way to build
//! dedup inputs.

use hashbrown::HashMap;
use rustc_hash::FxBuildHasher;

use crate::record::{str_off_slots, type_id_slots};
use crate::{Btf, Error, Kind, Result, StrOff, TypeId};

impl Btf {
    /// Appends the own types of `src` in order, rewriting their type ids to
    /// the appended copies and re-interning their strings here. Returns the
    /// id of the first appended type.
    ///
    /// `src` is either a base BTF (its ids shift past this BTF's last one)
    /// or a split BTF over the same base as `self` (references to the base
    /// stay as they are). Nothing is appended when an error is returned.
    ///
    /// ```
    /// use kbtf_btf::{Btf, Info, Kind};
    ///
    /// let mut a = Btf::new();
    /// let name = a.add_str(b"int").unwrap();
    /// let int = a.add_type(name, Info::new(Kind::Int, false, 0), 4, &[32]).unwrap();
    /// a.add_type(Default::default(), Info::new(Kind::Ptr, false, 0), int.0, &[]).unwrap();
    /// let mut b = a.clone();
    /// let first = b.add_btf(&a).unwrap();
    /// assert_eq!(first.0, 3);
    /// assert_eq!(b.get(kbtf_btf::TypeId(4)).unwrap().type_id().0, 3);
    /// ```
    pub fn add_btf(&mut self, src: &Btf) -> Result<TypeId> {
        let first = TypeId(self.type_count());
        let (src_start, shift_base) = match &src.base {
            None => (1, true),
            Some(_)
                if self.base.is_some()
                    && self.start_id == src.start_id
                    && self.start_str_off == src.start_str_off =>
            {
                (src.start_id, false)
            }
            Some(_) => {
                return Err(Error::Invalid {
                    id: src.start_id(),
                    what: "add_btf: a split source must share the destination's base".into(),
                })
            }
        };
        let shift = |id: u32| -> u32 {
            match id {
                0 => 0,
                _ if !shift_base && id < src_start => id,
                // A dangling id stays dangling: wrapped as libbpf's u32
                // arithmetic wraps it, not a panic in a debug build.
                _ => id.wrapping_sub(src_start).wrapping_add(first.0),
            }
        };
        let (words_len, offsets_len, strings) =
            (self.words.len(), self.offsets.len(), self.strings.clone());
        let mut str_map: HashMap<u32, u32, FxBuildHasher> = HashMap::default();
        let mut record = Vec::new();
        let result = (|| {
            for t in src.own_types() {
                record.clear();
                record.extend_from_slice(t.words());
                let fwd = (t.kind() == Kind::Fwd).then_some(2);
                for slot in type_id_slots(t.info()).chain(fwd) {
                    record[slot] = shift(record[slot]);
                }
                for slot in str_off_slots(t.info()) {
                    let off = record[slot];
                    if off == 0 || (!shift_base && off < src.start_str_off) {
                        continue;
                    }
                    record[slot] = match str_map.get(&off) {
                        Some(&new) => new,
                        None => {
                            let s = src
                                .str_at(StrOff(off))
                                .ok_or(Error::NoSuchString(StrOff(off)))?;
                            let new = self.add_str(s)?.0;
                            str_map.insert(off, new);
                            new
                        }
                    };
                }
                self.add_record(&record)?;
            }
            Ok(first)
        })();
        if result.is_err() {
            self.words.truncate(words_len);
            self.offsets.truncate(offsets_len);
            self.strings = strings;
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use crate::{Btf, TypeId};

    /// Found by the `builder` fuzz target: a type id past the source's
    /// last overflowed the shift (a panic in debug builds).
    #[test]
    fn a_dangling_id_is_shifted_without_overflow() {
        let mut src = Btf::new();
        let int = src.add_int("int", 4, 0).unwrap();
        let ptr = src.add_ptr(int).unwrap();
        src.record_mut(ptr).unwrap()[2] = u32::MAX;
        let mut dst = src.clone();
        let first = dst.add_btf(&src).unwrap();
        assert_eq!(first, TypeId(3));
        let copy = dst.get(TypeId(4)).unwrap();
        assert_eq!(copy.type_id(), TypeId(u32::MAX.wrapping_add(2)));
    }
}
