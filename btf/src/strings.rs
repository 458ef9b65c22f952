//! The string section: NUL-terminated strings addressed by byte offset, with
//! an interning index built on first use. The index stores offsets only, so
//! looking a string up in a large base never copies the base's strings.
//! A base read with a base index uses the index's frozen table instead
//! (`base_index/strings.rs`) and builds none.

use std::hash::BuildHasher;
use std::sync::OnceLock;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

use crate::base_index::strings::FrozenStrings;

/// One BTF's own strings (offsets are relative to this table).
#[derive(Default)]
pub struct StringTable {
    bytes: Vec<u8>,
    index: OnceLock<HashTable<Entry>>,
    /// A base index's table of these very bytes; dropped on the first
    /// change, after which `index` serves.
    frozen: Option<FrozenStrings>,
}

/// An indexed string: where it starts, how long it is and its hash, so
/// that neither a lookup nor a table resize has to scan for the NUL.
#[derive(Copy, Clone)]
struct Entry {
    hash: u64,
    off: u32,
    len: u32,
}

impl Entry {
    fn is(&self, bytes: &[u8], s: &[u8]) -> bool {
        self.len as usize == s.len() && &bytes[self.off as usize..][..s.len()] == s
    }
}

impl Clone for StringTable {
    fn clone(&self) -> StringTable {
        StringTable::from_bytes(self.bytes.clone())
    }
}

impl std::fmt::Debug for StringTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StringTable")
            .field("len", &self.bytes.len())
            .finish()
    }
}

fn hash(s: &[u8]) -> u64 {
    FxBuildHasher.hash_one(s)
}

impl StringTable {
    /// The table of a new base BTF: just the empty string at offset 0.
    pub fn new_base() -> StringTable {
        StringTable::from_bytes(vec![0])
    }

    /// Wraps a string section as read; the caller has checked it is well formed.
    pub fn from_bytes(bytes: Vec<u8>) -> StringTable {
        StringTable {
            bytes,
            index: OnceLock::new(),
            frozen: None,
        }
    }

    /// The section's bytes, NULs included.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Length in bytes.
    pub fn len(&self) -> u32 {
        self.bytes.len() as u32
    }

    /// Whether there are no bytes at all.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The string starting at `off`, without its NUL.
    pub fn get(&self, off: u32) -> Option<&[u8]> {
        let tail = self.bytes.get(off as usize..)?;
        let end = memchr_nul(tail)?;
        Some(&tail[..end])
    }

    /// Offsets at which a string starts, in order (every string, not every suffix).
    pub fn offsets(&self) -> impl Iterator<Item = u32> + '_ {
        self.strings().map(|(off, _)| off)
    }

    /// Every string with its offset, in order.
    fn strings(&self) -> impl Iterator<Item = (u32, &[u8])> + '_ {
        let mut at = 0usize;
        std::iter::from_fn(move || {
            let tail = self.bytes.get(at..).filter(|t| !t.is_empty())?;
            let len = memchr_nul(tail).unwrap_or(tail.len());
            let start = at;
            at += len + 1;
            Some((start as u32, &tail[..len]))
        })
    }

    fn index(&self) -> &HashTable<Entry> {
        self.index.get_or_init(|| {
            // Sized once for every string (a vmlinux base has ~100k): growing
            // step by step rehashes them all several times.
            let count = self.bytes.iter().filter(|&&b| b == 0).count();
            let mut table = HashTable::with_capacity(count);
            for (off, s) in self.strings() {
                let h = hash(s);
                // Keep the first occurrence: that is where lookups should
                // land. One probe finds it or the slot for a new string.
                let found = table.entry(h, |e: &Entry| e.is(&self.bytes, s), |e| e.hash);
                if let hashbrown::hash_table::Entry::Vacant(slot) = found {
                    slot.insert(Entry {
                        hash: h,
                        off,
                        len: s.len() as u32,
                    });
                }
            }
            table
        })
    }

    /// Builds the index lookups use now rather than on the first lookup.
    pub fn build_index(&self) {
        if self.frozen.is_none() {
            self.index();
        }
    }

    /// Serves lookups from `frozen`, a base index's table checked against
    /// these bytes.
    pub(crate) fn use_frozen_index(&mut self, frozen: FrozenStrings) {
        self.frozen = Some(frozen);
    }

    /// The offset of a string equal to `s`, if the table has one.
    pub fn find(&self, s: &[u8]) -> Option<u32> {
        if let Some(frozen) = &self.frozen {
            return frozen.find(&self.bytes, s);
        }
        self.find_hashed(s, hash(s))
    }

    fn find_hashed(&self, s: &[u8], h: u64) -> Option<u32> {
        self.index()
            .find(h, |e| e.is(&self.bytes, s))
            .map(|e| e.off)
    }

    /// The offset of `s`, appending it if it is new. `s` must not contain NUL.
    pub fn intern(&mut self, s: &[u8]) -> u32 {
        debug_assert!(!s.contains(&0));
        // The frozen table knows only the strings it was made with.
        self.frozen = None;
        let h = hash(s);
        if let Some(off) = self.find_hashed(s, h) {
            return off;
        }
        let off = self.bytes.len() as u32;
        self.bytes.extend_from_slice(s);
        self.bytes.push(0);
        let entry = Entry {
            hash: h,
            off,
            len: s.len() as u32,
        };
        self.index
            .get_mut()
            .expect("index built by find")
            .insert_unique(h, entry, |e| e.hash);
        off
    }
}

fn memchr_nul(s: &[u8]) -> Option<usize> {
    s.iter().position(|&b| b == 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_returns_existing_offsets() {
        let mut t = StringTable::new_base();
        let a = t.intern(b"alpha");
        let b = t.intern(b"beta");
        assert_eq!((a, b), (1, 7));
        assert_eq!(t.intern(b"alpha"), a);
        assert_eq!(t.find(b""), Some(0));
        assert_eq!(t.get(b), Some(&b"beta"[..]));
        assert_eq!(t.as_bytes(), b"\0alpha\0beta\0");
    }

    #[test]
    fn lookups_on_a_read_table_find_the_first_copy() {
        let t = StringTable::from_bytes(b"\0x\0x\0y\0".to_vec());
        assert_eq!(t.find(b"x"), Some(1));
        assert_eq!(t.find(b"y"), Some(5));
        assert_eq!(t.find(b"z"), None);
        assert_eq!(t.offsets().collect::<Vec<_>>(), [0, 1, 3, 5]);
    }
}
