//! The shape of `.BTF_ids`: which symbols are sets, which are members of a
//! set and at which slot, which stand alone (`BTF_ID_LIST` entries).
//!
//! A set is the `__BTF_ID__set[8]__NAME` symbol: a header (`cnt`, and for a
//! set8 `flags`) followed by `cnt` slots of 4 (set) or 8 (set8: id, flags)
//! bytes, `cnt` coming from the symbol size. Member symbols are the id
//! symbols whose offset falls on a slot.

use crate::elf::IdsElf;
use crate::symbol::IdKind;
use crate::{Error, Result};

/// One set or set8 of `.BTF_ids`.
#[derive(Clone, Debug)]
pub struct Set {
    /// Index of its symbol in [`IdsElf::symbols`].
    pub symbol: usize,
    /// Set or set8.
    pub kind: IdKind,
    /// The set's name.
    pub name: String,
    /// Section offset of the header.
    pub offset: u64,
    /// The number of slots, from the symbol size.
    pub cnt: u32,
    /// Slot `j` is owned by symbol `members[j]` (index in [`IdsElf::symbols`]),
    /// or by none (`BTF_ID_UNUSED`).
    pub members: Vec<Option<usize>>,
}

impl Set {
    /// Whether it is a set8 (id and flags per entry).
    pub fn is_set8(&self) -> bool {
        self.kind == IdKind::Set8
    }

    /// Bytes of the header: `cnt`, and `flags` for a set8.
    pub fn header_len(&self) -> u64 {
        if self.is_set8() {
            8
        } else {
            4
        }
    }

    /// Bytes per slot: an id, and its flags for a set8.
    pub fn stride(&self) -> u64 {
        self.header_len()
    }

    /// Section offset of slot `j`.
    pub fn slot_offset(&self, j: usize) -> u64 {
        self.offset + self.header_len() + j as u64 * self.stride()
    }

    /// Section offset one past the last slot.
    pub fn end(&self) -> u64 {
        self.slot_offset(self.cnt as usize)
    }
}

/// Where each id symbol sits.
#[derive(Clone, Debug)]
pub struct Layout {
    /// Sets by section offset.
    pub sets: Vec<Set>,
    /// For each symbol of [`IdsElf::symbols`]: the set and slot it occupies, if it is a member.
    pub membership: Vec<Option<(usize, usize)>>,
}

impl Layout {
    /// Finds the sets and their members, with upstream's checks (a set
    /// defined twice, a symbol outside the section) and kbtf's own (a set
    /// size that is not a whole number of slots, a member off a slot
    /// boundary, two members on one slot, overlapping sets, an id
    /// written over another or over a set).
    pub fn new(elf: &IdsElf) -> Result<Layout> {
        let size = elf.section.size;
        let mut sets: Vec<Set> = Vec::new();
        for (i, sym) in elf.symbols.iter().enumerate() {
            if !sym.kind.is_set() {
                if sym.offset.checked_add(4).is_none_or(|e| e > size) {
                    return Err(Error::Symbol {
                        symbol: sym.display(),
                        what: format!(
                            "offset {:#x} is outside .BTF_ids ({size} bytes)",
                            sym.offset
                        ),
                    });
                }
                continue;
            }
            let name = sym.name_str().into_owned();
            let malformed = |what: String| Error::MalformedSet {
                set: name.clone(),
                what,
            };
            let unit = if sym.kind == IdKind::Set8 { 8 } else { 4 };
            if sym.size < unit || sym.size % unit != 0 {
                return Err(malformed(format!(
                    "symbol size {} is not a {unit}-byte header plus {unit}-byte slots",
                    sym.size
                )));
            }
            if sym.offset.checked_add(sym.size).is_none_or(|e| e > size) {
                return Err(malformed(format!(
                    "{} bytes at offset {:#x} run past the end of .BTF_ids ({size} bytes)",
                    sym.size, sym.offset
                )));
            }
            if sets.iter().any(|s| s.name == name) {
                return Err(malformed("defined more than once".into()));
            }
            let cnt = u32::try_from(sym.size / unit - 1)
                .map_err(|_| malformed(format!("symbol size {} is too large", sym.size)))?;
            sets.push(Set {
                symbol: i,
                kind: sym.kind,
                name,
                offset: sym.offset,
                cnt,
                members: vec![None; cnt as usize],
            });
        }
        sets.sort_by_key(|s| s.offset);
        for pair in sets.windows(2) {
            if pair[1].offset < pair[0].end() {
                return Err(Error::MalformedSet {
                    set: pair[1].name.clone(),
                    what: format!("starts inside set {}", pair[0].name),
                });
            }
        }

        let mut membership = vec![None; elf.symbols.len()];
        for (i, sym) in elf.symbols.iter().enumerate() {
            if sym.kind.is_set() {
                continue;
            }
            // The last set starting before the symbol is the only one that may hold it.
            let k = sets.partition_point(|s| s.offset <= sym.offset);
            let Some(si) = k.checked_sub(1) else { continue };
            let set = &mut sets[si];
            if sym.offset >= set.end() {
                continue;
            }
            let rel = sym.offset - set.offset;
            if rel < set.header_len() || (rel - set.header_len()) % set.stride() != 0 {
                return Err(Error::MalformedSet {
                    set: set.name.clone(),
                    what: format!(
                        "symbol {} at offset {:#x} is not on a slot boundary",
                        sym.display(),
                        sym.offset
                    ),
                });
            }
            let slot = ((rel - set.header_len()) / set.stride()) as usize;
            if let Some(other) = set.members[slot] {
                return Err(Error::MalformedSet {
                    set: set.name.clone(),
                    what: format!(
                        "symbols {} and {} share slot {slot}",
                        elf.symbols[other].display(),
                        sym.display()
                    ),
                });
            }
            set.members[slot] = Some(i);
            membership[i] = Some((si, slot));
        }
        check_overlaps(elf, &sets, &membership)?;
        Ok(Layout { sets, membership })
    }
}

/// Each stand-alone id (a `BTF_ID_LIST` entry) is written at its own 4
/// bytes, outside every set: an id written over another one, or over a
/// set, could not be read back, so the next run could not tell which BTF
/// produced the section. Two symbols of one kind and name on one slot
/// write the same id and are fine. (The macros of `btf_ids.h` give every
/// symbol 4 bytes of its own; upstream writes such files regardless.)
fn check_overlaps(elf: &IdsElf, sets: &[Set], membership: &[Option<(usize, usize)>]) -> Result<()> {
    // (start, end, symbol index) of every id and every set.
    let mut spans: Vec<(u64, u64, usize)> =
        sets.iter().map(|s| (s.offset, s.end(), s.symbol)).collect();
    for (i, sym) in elf.symbols.iter().enumerate() {
        if !sym.kind.is_set() && membership[i].is_none() {
            spans.push((sym.offset, sym.offset + 4, i));
        }
    }
    spans.sort_unstable();
    let mut last: Option<(u64, u64, usize)> = None;
    for span in spans {
        if let Some(prev) = last {
            if span.0 < prev.1 {
                let (a, b) = (&elf.symbols[prev.2], &elf.symbols[span.2]);
                let same_id =
                    span.0 == prev.0 && !a.kind.is_set() && a.kind == b.kind && a.name == b.name;
                if !same_id {
                    return Err(Error::Symbol {
                        symbol: b.display(),
                        what: format!(
                            "at offset {:#x}, overlaps {} at {:#x}",
                            b.offset,
                            a.display(),
                            a.offset
                        ),
                    });
                }
            }
            if span.1 <= prev.1 {
                continue;
            }
        }
        last = Some(span);
    }
    Ok(())
}
