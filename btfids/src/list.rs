//! Listing the id symbols of a file: what `kbtf ids` prints.

use crate::elf::IdsElf;
use crate::layout::Layout;
use crate::symbol::IdKind;
use crate::Result;

/// One `__BTF_ID__` symbol and the entry at its slot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdEntry {
    /// Index in [`IdsElf::symbols`].
    pub symbol: usize,
    /// What the symbol stands for.
    pub kind: IdKind,
    /// The name it stands for.
    pub name: String,
    /// The set it is a member of.
    pub set: Option<String>,
    /// Its offset in `.BTF_ids`.
    pub offset: u64,
    /// The word at its slot: the id, or a set's count.
    pub id: u32,
    /// The kfunc flags beside it, for a member of a set8; a set8's header flags.
    pub flags: Option<u32>,
}

/// Every id symbol with what its slot holds, by section offset.
pub fn entries(elf: &IdsElf) -> Result<Vec<IdEntry>> {
    let layout = Layout::new(elf)?;
    let sec = elf.section_bytes();
    let mut out: Vec<IdEntry> = elf
        .symbols
        .iter()
        .enumerate()
        .map(|(i, sym)| {
            let set = layout.membership[i].map(|(s, _)| &layout.sets[s]);
            let flags = if sym.kind == IdKind::Set8 || set.is_some_and(|s| s.is_set8()) {
                elf.word_at(sec, sym.offset + 4)
            } else {
                None
            };
            IdEntry {
                symbol: i,
                kind: sym.kind,
                name: sym.name_str().into_owned(),
                set: set.map(|s| s.name.clone()),
                offset: sym.offset,
                id: elf.word_at(sec, sym.offset).unwrap_or(0),
                flags,
            }
        })
        .collect();
    // By offset; a set before a symbol at the same offset (none should share one).
    out.sort_by_key(|e| (e.offset, !e.kind.is_set()));
    Ok(out)
}
