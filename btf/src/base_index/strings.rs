//! The base's string index, frozen: an open-addressing table of string
//! offsets that [`crate::StringTable::find`] probes in place, so a process
//! looking names up in a vmlinux base builds no hash table of its ~100k
//! strings.
//!
//! `slots` is a power of two of little-endian `u32`s: [`EMPTY`] or the
//! offset of a string. A string `s` lives at the first slot, probing
//! linearly from `xxh3_64(s) & (slots - 1)`, that is empty or holds it; each
//! distinct string is there once, at its first occurrence (what the
//! in-memory index answers too). At most two thirds of the slots are
//! taken, so a probe for a missing string ends soon.

use std::ops::Range;
use std::sync::Arc;

use twox_hash::XxHash3_64;

use crate::input::FileBytes;
use crate::StringTable;

/// A slot that holds no string.
pub(crate) const EMPTY: u32 = u32::MAX;

fn hash(s: &[u8]) -> u64 {
    XxHash3_64::oneshot(s)
}

/// Whether the string at `off` of `bytes` is `s`.
fn is_at(bytes: &[u8], off: u32, s: &[u8]) -> bool {
    let off = off as usize;
    bytes.get(off..off + s.len()) == Some(s) && bytes.get(off + s.len()) == Some(&0)
}

/// Whether a string starts at `off` (offset 0, or just after a NUL).
fn starts_string(bytes: &[u8], off: u32) -> bool {
    off == 0 || bytes.get(off as usize - 1) == Some(&0)
}

/// The slots of `strings`' index (see the module doc).
pub(crate) fn build(strings: &StringTable) -> Vec<u32> {
    let count = strings.offsets().count();
    let len = (count + count / 2).next_power_of_two().max(2);
    let mask = len - 1;
    let mut slots = vec![EMPTY; len];
    let bytes = strings.as_bytes();
    for off in strings.offsets() {
        let s = strings.get(off).unwrap_or_default();
        let mut i = hash(s) as usize & mask;
        while slots[i] != EMPTY && !is_at(bytes, slots[i], s) {
            i = (i + 1) & mask;
        }
        // Only the first occurrence is kept.
        if slots[i] == EMPTY {
            slots[i] = off;
        }
    }
    slots
}

/// A frozen string index read from a base index file.
#[derive(Clone)]
pub(crate) struct FrozenStrings {
    data: Arc<FileBytes>,
    slots: Range<usize>,
}

impl FrozenStrings {
    /// The `count` slots at byte `start` of `data`; `None` unless they lie
    /// in `data` and `count` is a power of two. The slots themselves are
    /// checked as they are read ([`FrozenStrings::find`]): walking all of
    /// them here, each into a random place of the strings, cost a small
    /// module's `kbtf gen` a tenth of its time.
    pub(crate) fn new(data: Arc<FileBytes>, start: usize, count: usize) -> Option<FrozenStrings> {
        if !count.is_power_of_two() {
            return None;
        }
        let slots = start..start.checked_add(count.checked_mul(4)?)?;
        data.get(slots.clone())?;
        Some(FrozenStrings { data, slots })
    }

    fn slot(&self, i: usize) -> u32 {
        let at = self.slots.start + i * 4;
        let b = &self.data[at..at + 4];
        u32::from_le_bytes([b[0], b[1], b[2], b[3]])
    }

    /// The offset of `s` in `bytes`, the string section this index was made
    /// for, or `None` when it has no such string. A slot is believed only
    /// if it names a whole string equal to `s` (not the tail of a longer
    /// one), and each slot is probed at most once, so a body that passed
    /// the checksum but lies can make a lookup miss, never read out of
    /// bounds or answer another string.
    pub(crate) fn find(&self, bytes: &[u8], s: &[u8]) -> Option<u32> {
        let count = self.slots.len() / 4;
        let mask = count - 1;
        let mut i = hash(s) as usize & mask;
        for _ in 0..count {
            match self.slot(i) {
                EMPTY => return None,
                off if is_at(bytes, off, s) && starts_string(bytes, off) => return Some(off),
                _ => i = (i + 1) & mask,
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frozen(table: &StringTable) -> FrozenStrings {
        let slots = build(table);
        let bytes: Vec<u8> = slots.iter().flat_map(|s| s.to_le_bytes()).collect();
        FrozenStrings::new(Arc::new(FileBytes::Read(bytes)), 0, slots.len())
            .expect("a built index is valid")
    }

    #[test]
    fn finds_what_the_in_memory_index_finds() {
        let table = StringTable::from_bytes(b"\0x\0int\0x\0long\0in\0\0t\0".to_vec());
        let f = frozen(&table);
        for s in [
            &b""[..],
            b"x",
            b"int",
            b"long",
            b"in",
            b"t",
            b"nt",
            b"missing",
        ] {
            assert_eq!(f.find(table.as_bytes(), s), table.find(s), "{s:?}");
        }
    }

    #[test]
    fn slots_that_lie_are_not_believed() {
        let table = StringTable::from_bytes(b"\0uint\0int\0".to_vec());
        let bytes = table.as_bytes();
        let frozen = |slots: &[u32]| {
            let raw: Vec<u8> = slots.iter().flat_map(|s| s.to_le_bytes()).collect();
            FrozenStrings::new(Arc::new(FileBytes::Read(raw)), 0, slots.len())
        };
        // "int" inside "uint", past the end, no empty slot: misses, no panic.
        for slots in [[2, 2], [99, EMPTY], [u32::MAX - 1, 1]] {
            let f = frozen(&slots).unwrap();
            assert_eq!(f.find(bytes, b"int"), None, "{slots:?}");
        }
        assert_eq!(frozen(&[6, 1]).unwrap().find(bytes, b"int"), Some(6));
        assert!(frozen(&[1, EMPTY, EMPTY]).is_none(), "not a power of two");
    }
}
