//! A memo of the BTF string offsets of names taken from `.debug_str`.
//!
//! Encoding a vmlinux interns some 20 million names, nearly all of them
//! slices of `.debug_str`, and a string there is known by where it starts.
//! Remembering the BTF offset per `.debug_str` offset turns almost every
//! lookup into one array load instead of hashing and comparing the name.
//! It is exact: the interned string at an offset never changes, and a
//! `.debug_str` offset always names the same bytes (up to its NUL).

/// BTF string offset per byte offset of the string section (0: not yet seen;
/// 0 is only ever the empty string, which is never memoised).
pub(super) struct StrMemo<'s> {
    section: &'s [u8],
    btf_off: Vec<u32>,
}

impl<'s> StrMemo<'s> {
    pub(super) fn new(section: &'s [u8]) -> StrMemo<'s> {
        StrMemo {
            section,
            // Zeroed memory from the allocator: untouched pages cost nothing.
            btf_off: vec![0; section.len()],
        }
    }

    /// The slot of a name that is a whole string of the section (found by
    /// its address, ending at a NUL there), if it is one.
    fn slot(&self, name: &[u8]) -> Option<usize> {
        let at = (name.as_ptr() as usize).checked_sub(self.section.as_ptr() as usize)?;
        let nul = self.section.get(at.checked_add(name.len())?)?;
        (*nul == 0).then_some(at)
    }

    pub(super) fn get(&self, name: &[u8]) -> Option<u32> {
        self.slot(name)
            .map(|at| self.btf_off[at])
            .filter(|&off| off != 0)
    }

    pub(super) fn set(&mut self, name: &[u8], btf_off: u32) {
        if let Some(at) = self.slot(name) {
            self.btf_off[at] = btf_off;
        }
    }
}
