//! A memo of the BTF string offsets of names taken from `.debug_str`.
//!
//! Encoding a vmlinux interns tens of millions of names, nearly all of them
//! slices of `.debug_str`, and a string there is known by where it starts.
//! Remembering the BTF offset per `.debug_str` offset turns almost every
//! lookup into hashing one integer instead of hashing and comparing the
//! name. (A table indexed by offset would be an array load, but costs four
//! bytes per byte of `.debug_str`: 52 MB for mlx5_core.ko's 13 MB.)
//! It is exact: the interned string at an offset never changes, and a
//! `.debug_str` offset always names the same bytes (up to its NUL).

use hashbrown::HashMap;
use rustc_hash::FxBuildHasher;

/// BTF string offset per byte offset of the string section.
pub(super) struct StrMemo<'s> {
    section: &'s [u8],
    btf_off: HashMap<u32, u32, FxBuildHasher>,
}

impl<'s> StrMemo<'s> {
    pub(super) fn new(section: &'s [u8]) -> StrMemo<'s> {
        StrMemo {
            section,
            btf_off: HashMap::default(),
        }
    }

    /// The slot of a name that is a whole string of the section (found by
    /// its address, ending at a NUL there), if it is one.
    fn slot(&self, name: &[u8]) -> Option<u32> {
        let at = (name.as_ptr() as usize).checked_sub(self.section.as_ptr() as usize)?;
        let nul = self.section.get(at.checked_add(name.len())?)?;
        if *nul == 0 {
            u32::try_from(at).ok()
        } else {
            None
        }
    }

    pub(super) fn get(&self, name: &[u8]) -> Option<u32> {
        self.btf_off.get(&self.slot(name)?).copied()
    }

    pub(super) fn set(&mut self, name: &[u8], btf_off: u32) {
        if let Some(at) = self.slot(name) {
            self.btf_off.insert(at, btf_off);
        }
    }
}
