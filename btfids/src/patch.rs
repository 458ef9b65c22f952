//! Resolving `.BTF_ids`: write each symbol's id into its slot and each
//! set's count into its header, sort the sets by id (whole pairs for a
//! set8, stably), and move every member symbol to the slot its entry now
//! occupies, so that the next run finds each symbol at its own entry.

use crate::elf::IdsElf;
use crate::layout::Layout;
use crate::names::TypeNames;
use crate::recover;
use crate::resolve::{resolve_names, Resolved};
use crate::{Error, Result};

/// A symbol whose `st_value` changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SymbolMove {
    /// Index in `.symtab`.
    pub index: usize,
    /// The symbol's name.
    pub name: String,
    /// Old and new `st_value`.
    pub from: u64,
    /// The new value.
    pub to: u64,
}

/// What resolving produced: the new section, the symbol moves, and what to tell the user.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The new contents of `.BTF_ids`, in the file's byte order.
    pub section: Vec<u8>,
    /// Symbols whose values change.
    pub moves: Vec<SymbolMove>,
    /// Upstream's warnings: unresolved symbols, multiple ids.
    pub warnings: Vec<String>,
    /// Sets whose stale symbols (from upstream resolve_btfids) were repaired.
    pub notes: Vec<String>,
}

impl Outcome {
    /// The ELF file with the new `.BTF_ids` and the moved symbols; every other byte as it was.
    pub fn apply(&self, elf: &IdsElf) -> Vec<u8> {
        let mut out = elf.data.to_vec();
        let off = elf.section.offset as usize;
        out[off..off + self.section.len()].copy_from_slice(&self.section);
        move_symbols(elf, &mut out, &self.moves);
        out
    }
}

impl Outcome {
    /// What [`Outcome::apply`] changes, as (file offset, new bytes): the
    /// section, then each moved symbol's `st_value`. For patching a file in
    /// place of copying it ([`kbtf_btf::atomic::patch_file_atomic`]).
    pub fn patches(&self, elf: &IdsElf) -> Vec<(u64, Vec<u8>)> {
        let mut patches = vec![(elf.section.offset, self.section.clone())];
        patches.extend(self.moves.iter().map(|m| symbol_value_patch(elf, m)));
        patches
    }
}

/// Writes the new `st_value` of each moved symbol into `out`, a copy of `elf`'s file.
pub fn move_symbols(elf: &IdsElf, out: &mut [u8], moves: &[SymbolMove]) {
    for m in moves {
        let (at, bytes) = symbol_value_patch(elf, m);
        out[at as usize..at as usize + bytes.len()].copy_from_slice(&bytes);
    }
}

/// Where a moved symbol's `st_value` is in the file, and its new bytes.
fn symbol_value_patch(elf: &IdsElf, m: &SymbolMove) -> (u64, Vec<u8>) {
    let entry = elf.symtab.offset + m.index as u64 * elf.symtab_entsize;
    // st_value follows st_name (ELF32), or st_name, st_info, st_other, st_shndx (ELF64).
    let at = entry + if elf.is_64 { 8 } else { 4 };
    let bytes = if elf.is_64 {
        match elf.endian {
            kbtf_btf::Endian::Little => m.to.to_le_bytes().to_vec(),
            kbtf_btf::Endian::Big => m.to.to_be_bytes().to_vec(),
        }
    } else {
        // A 32-bit file's values fit: they came from the same section.
        elf.endian.u32_bytes(m.to as u32).to_vec()
    };
    (at, bytes)
}

/// Resolves `.BTF_ids` of `elf` against `btf`. `earlier` are BTFs that may
/// have produced ids already in the section (such as the file's own `.BTF`
/// when `btf` is a new one); `btf` itself is tried first.
pub fn resolve(elf: &IdsElf, btf: &dyn TypeNames, earlier: &[&dyn TypeNames]) -> Result<Outcome> {
    let layout = Layout::new(elf)?;
    let sec = elf.section_bytes();
    let Resolved { ids, mut warnings } = resolve_names(&elf.symbols, btf)?;

    let need_recovery = layout
        .sets
        .iter()
        .any(|s| recover::is_resolved(elf, s, sec));
    let earlier_ids: Vec<Vec<u32>> = if need_recovery {
        earlier
            .iter()
            .map(|b| resolve_names(&elf.symbols, *b).map(|r| r.ids))
            .collect::<kbtf_btf::Result<_>>()?
    } else {
        Vec::new()
    };
    let mut candidates: Vec<&[u32]> = vec![&ids];
    candidates.extend(earlier_ids.iter().map(Vec::as_slice));
    let (owners, notes) = recover::owners(elf, &layout, sec, &candidates)?;

    let mut out = sec.to_vec();
    let put = |out: &mut Vec<u8>, off: u64, v: u32| {
        out[off as usize..off as usize + 4].copy_from_slice(&elf.endian.u32_bytes(v));
    };

    // Stand-alone ids (BTF_ID_LIST entries): written where the symbol is.
    let mut unresolved: Vec<String> = Vec::new();
    for (i, sym) in elf.symbols.iter().enumerate() {
        if sym.kind.is_set() {
            continue;
        }
        if ids[i] == 0 {
            let name = sym.name_str().into_owned();
            if !unresolved.contains(&name) {
                unresolved.push(name);
            }
        }
        if layout.membership[i].is_none() {
            put(&mut out, sym.offset, ids[i]);
        }
    }
    warnings.extend(
        unresolved
            .into_iter()
            .map(|n| format!("resolve_btfids: unresolved symbol {n}")),
    );

    let mut moves = Vec::new();
    let mut moved_in: Vec<&str> = Vec::new();
    for (set, owner) in layout.sets.iter().zip(&owners) {
        put(&mut out, set.offset, set.cnt);
        let mut entries: Vec<(u32, Option<u32>, Option<usize>)> = (0..set.cnt as usize)
            .map(|j| {
                let at = set.slot_offset(j);
                // A slot no symbol owns is `BTF_ID_UNUSED`: id 0, as the
                // build leaves it. Writing 0 rather than keeping what is
                // there keeps a stray value from travelling with the sort
                // and making the next run's recovery fail.
                let id = owner[j].map_or(0, |m| ids[m]);
                let flags = set.is_set8().then(|| elf.word_at(sec, at + 4).unwrap_or(0));
                (id, flags, owner[j])
            })
            .collect();
        // Upstream compares ids as signed ints; a stable sort fixes the order of equal ids.
        entries.sort_by_key(|e| e.0 as i32);
        for (k, &(id, flags, who)) in entries.iter().enumerate() {
            let at = set.slot_offset(k);
            put(&mut out, at, id);
            if let Some(f) = flags {
                put(&mut out, at + 4, f);
            }
            let Some(m) = who else { continue };
            let sym = &elf.symbols[m];
            if sym.offset == at {
                continue;
            }
            moves.push(SymbolMove {
                index: sym.index,
                name: sym.display(),
                from: sym.value,
                to: elf.value_of_offset(at),
            });
            moved_in.push(set.name.as_str());
        }
    }
    // A relocation would still point at the old slot: refuse rather than move.
    let indices: Vec<usize> = moves.iter().map(|m| m.index).collect();
    if let Some((sym, reloc)) = elf.relocations_against(&indices)?.into_iter().next() {
        let i = indices.iter().position(|&x| x == sym).unwrap_or(0);
        let m = &moves[i];
        return Err(Error::RelocatedSymbol {
            set: moved_in[i].to_string(),
            symbol: m.name.clone(),
            from: m.from,
            to: m.to,
            reloc,
        });
    }
    moves.sort_by_key(|m| m.index);
    Ok(Outcome {
        section: out,
        moves,
        warnings,
        notes,
    })
}

/// `--patch_btfids`: the ELF file `data` with `blob` as its `.BTF_ids`,
/// which must be as long. Nothing else changes (no symbol table needed).
pub fn patch_section(data: &[u8], blob: &[u8]) -> Result<Vec<u8>> {
    use object::{Object, ObjectSection};
    let file = object::File::parse(data)?;
    // The last section of that name, as `IdsElf::parse` (and upstream) take it.
    let section = file
        .sections()
        .filter(|s| s.name() == Ok(crate::elf::BTF_IDS_SECTION))
        .last()
        .ok_or(Error::NoBtfIdsSection)?;
    let (off, size) = section
        .file_range()
        .ok_or_else(|| Error::Elf(".BTF_ids has no contents in the file".into()))?;
    if blob.len() as u64 != size {
        return Err(Error::SizeMismatch {
            section: size,
            blob: blob.len() as u64,
        });
    }
    let mut out = data.to_vec();
    out[off as usize..(off + size) as usize].copy_from_slice(blob);
    Ok(out)
}
