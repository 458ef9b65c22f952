//! Which symbol owns which entry of a set that was resolved before.
//!
//! Upstream resolve_btfids sorts each set by id but leaves the member
//! symbols where they were, so after it ran, the symbol `__BTF_ID__func__f__N`
//! points at whatever entry sorted into its old slot; run it again and f's
//! id lands beside another function's flags. kbtf moves the symbols with
//! their entries, so on its own output a symbol and its slot agree.
//!
//! For a set whose entries hold ids already, the owners are decided here:
//! 1. By a BTF that produced the ids: every entry's id is the id of its
//!    owner's name. Such a BTF is recognised by explaining everything:
//!    each stand-alone id is the id of its symbol's name, and each set's ids
//!    are exactly its members' ids (as multisets). Owners then follow from
//!    the ids; where several entries share an id with different flags and
//!    different names, it is ambiguous and an error.
//! 2. Without such a BTF (the ids came from one that is gone), the current
//!    association is kept where it cannot be wrong or is known to be kbtf's:
//!    a plain set (ids carry nothing), a set8 whose flags are all equal, or
//!    a set8 whose members are no longer in symbol-table order, which only
//!    kbtf's moves produce (assemblers emit a set's symbols in source order
//!    and upstream never moves them). Anything else is an error.

use crate::elf::IdsElf;
use crate::layout::{Layout, Set};
use crate::{Error, Result};

/// The owner of each slot, per set of the layout.
pub(crate) type Owners = Vec<Vec<Option<usize>>>;

/// Whether a set holds ids already: a resolved count or a non-zero id.
pub(crate) fn is_resolved(elf: &IdsElf, set: &Set, sec: &[u8]) -> bool {
    elf.word_at(sec, set.offset).is_some_and(|c| c != 0)
        || (0..set.cnt as usize).any(|j| elf.word_at(sec, set.slot_offset(j)) != Some(0))
}

fn payload(elf: &IdsElf, set: &Set, sec: &[u8], j: usize) -> Option<u32> {
    if set.is_set8() {
        elf.word_at(sec, set.slot_offset(j) + 4)
    } else {
        None
    }
}

/// Owners of every set: members as they stand for unresolved sets, recovered for resolved ones.
/// `candidates` are the symbol ids under each BTF that may have produced the ids.
/// Returns the owners and a note per set whose symbols were repaired.
pub(crate) fn owners(
    elf: &IdsElf,
    layout: &Layout,
    sec: &[u8],
    candidates: &[&[u32]],
) -> Result<(Owners, Vec<String>)> {
    let current: Owners = layout.sets.iter().map(|s| s.members.clone()).collect();
    let resolved: Vec<bool> = layout
        .sets
        .iter()
        .map(|s| is_resolved(elf, s, sec))
        .collect();
    if !resolved.iter().any(|&r| r) {
        return Ok((current, Vec::new()));
    }
    for ids in candidates {
        if let Some(owners) = explain(elf, layout, sec, &resolved, ids)? {
            let notes = layout
                .sets
                .iter()
                .zip(owners.iter().zip(&current))
                .filter(|(_, (new, old))| new != old)
                .map(|(set, (new, old))| {
                    let n = new.iter().zip(old).filter(|(a, b)| a != b).count();
                    format!(
                        "set {}: {n} symbols pointed at other entries (left so by upstream \
                         resolve_btfids); moved to their own",
                        set.name
                    )
                })
                .collect();
            return Ok((owners, notes));
        }
    }
    for (set, &res) in layout.sets.iter().zip(&resolved) {
        if res {
            keep_without_btf(elf, set, sec)?;
        }
    }
    Ok((current, Vec::new()))
}

/// The owners, if the BTF that gave `ids` produced the ids in the section.
fn explain(
    elf: &IdsElf,
    layout: &Layout,
    sec: &[u8],
    resolved: &[bool],
    ids: &[u32],
) -> Result<Option<Owners>> {
    for (i, sym) in elf.symbols.iter().enumerate() {
        if sym.kind.is_set() || layout.membership[i].is_some() {
            continue;
        }
        if elf.word_at(sec, sym.offset) != Some(ids[i]) {
            return Ok(None);
        }
    }
    let mut all = Vec::with_capacity(layout.sets.len());
    for (set, &res) in layout.sets.iter().zip(resolved) {
        if !res {
            all.push(set.members.clone());
            continue;
        }
        match assign(elf, set, sec, ids)? {
            Some(o) => all.push(o),
            None => return Ok(None),
        }
    }
    Ok(Some(all))
}

/// Gives each member the slot holding its id: its own if it does, else the
/// first free one. `None` if the ids do not match the members'.
fn assign(elf: &IdsElf, set: &Set, sec: &[u8], ids: &[u32]) -> Result<Option<Vec<Option<usize>>>> {
    let n = set.cnt as usize;
    let slot_id: Vec<u32> = (0..n)
        .map(|j| elf.word_at(sec, set.slot_offset(j)).unwrap_or(0))
        .collect();
    let mut owner: Vec<Option<usize>> = vec![None; n];
    let mut pending = Vec::new();
    for (j, m) in set.members.iter().enumerate() {
        if let Some(m) = *m {
            if slot_id[j] == ids[m] {
                owner[j] = Some(m);
            } else {
                pending.push(m);
            }
        }
    }
    // Every member at a slot holding its own id: the section's ids are in
    // the order they were listed (a stable sort by id changed nothing, or
    // kbtf moved each symbol with its entry), so each slot is its member's.
    let reassigned = !pending.is_empty();
    for m in pending {
        let free = (0..n).find(|&j| owner[j].is_none() && slot_id[j] == ids[m]);
        match free {
            Some(j) => owner[j] = Some(m),
            None => return Ok(None),
        }
    }
    // Slots nobody owns (`BTF_ID_UNUSED`) are never resolved, so hold 0.
    if (0..n).any(|j| owner[j].is_none() && slot_id[j] != 0) {
        return Ok(None);
    }
    // Several entries with one id (unresolved ones, or a name listed twice)
    // among members that had to be reassigned: which of them owns which
    // entry matters if their flags differ and their names do. (Without
    // reassignment the slots are the members' own: upstream sorts with
    // glibc's qsort, a stable merge sort, so ids already in order stay put.)
    if set.is_set8() && reassigned {
        for j in 0..n {
            for k in j + 1..n {
                let (Some(a), Some(b)) = (owner[j], owner[k]) else {
                    continue;
                };
                if slot_id[j] == slot_id[k]
                    && payload(elf, set, sec, j) != payload(elf, set, sec, k)
                    && elf.symbols[a].name != elf.symbols[b].name
                {
                    return Err(Error::Unrecoverable {
                        set: set.name.clone(),
                        why: format!(
                            "{} and {} both have id {} but different flags",
                            elf.symbols[a].name_str(),
                            elf.symbols[b].name_str(),
                            slot_id[j]
                        ),
                    });
                }
            }
        }
    }
    Ok(Some(owner))
}

/// Checks that a resolved set's symbols may stay where they are, with no BTF to check them by.
fn keep_without_btf(elf: &IdsElf, set: &Set, sec: &[u8]) -> Result<()> {
    if !set.is_set8() {
        return Ok(());
    }
    let flags: Vec<Option<u32>> = (0..set.cnt as usize)
        .map(|j| payload(elf, set, sec, j))
        .collect();
    if flags.windows(2).all(|w| w[0] == w[1]) {
        return Ok(());
    }
    // Members by symbol-table index: are their slots still in that order?
    let mut by_index: Vec<(usize, u64)> = set
        .members
        .iter()
        .flatten()
        .map(|&m| (elf.symbols[m].index, elf.symbols[m].offset))
        .collect();
    by_index.sort();
    if by_index.windows(2).any(|w| w[0].1 > w[1].1) {
        return Ok(());
    }
    Err(Error::Unrecoverable {
        set: set.name.clone(),
        why: "its ids were resolved before, by a BTF that is neither the one given nor the \
              file's .BTF, and its symbols may be stale (upstream resolve_btfids does not move \
              them when it sorts); relink the object, or resolve it with the BTF that produced \
              its ids first"
            .into(),
    })
}
