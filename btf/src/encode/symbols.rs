//! The ELF symbol index the encoder needs: the names of function symbols
//! (which DWARF functions get a FUNC) and the per-CPU variables (which
//! DWARF variables get a VAR in `.data..percpu`).

use object::elf;
use object::read::elf::{ElfFile, FileHeader, Sym};
use object::{Object, ObjectSection, ObjectSymbol, ObjectSymbolTable};
use rustc_hash::FxHashMap;

use crate::{Error, Result};

/// The section pahole collects per-CPU variables from.
pub const PERCPU_SECTION: &str = ".data..percpu";

/// The kernel's `KSYM_NAME_LEN`: longer names are not valid BTF names.
const KSYM_NAME_LEN: usize = 128;

/// A per-CPU variable symbol.
#[derive(Clone, Debug)]
pub struct PercpuVar<'a> {
    /// The symbol's name.
    pub name: &'a [u8],
    /// The variable's size.
    pub size: u32,
}

/// The per-CPU section: where it is and which variables it holds.
#[derive(Clone, Debug, Default)]
pub struct Percpu<'a> {
    /// The address DWARF locations in the section start at.
    pub base_addr: u64,
    /// The section's size.
    pub size: u64,
    /// Section-relative offset -> variable (the first symbol at that offset).
    pub vars: FxHashMap<u64, PercpuVar<'a>>,
}

/// Function names and per-CPU variables of one ELF file.
#[derive(Debug, Default)]
pub struct SymbolIndex<'a> {
    /// Names of `STT_FUNC` symbols, sorted and deduplicated.
    functions: Vec<&'a [u8]>,
    /// None when the file has no `.data..percpu` (or variables are not wanted).
    pub percpu: Option<Percpu<'a>>,
}

impl<'a> SymbolIndex<'a> {
    /// Reads `.symtab` of `file`. `section_base` gives the address each
    /// section's DWARF addresses start at (non-zero only for ET_REL files,
    /// whose sections the relocation pass places apart).
    pub fn read<H: FileHeader>(
        file: &ElfFile<'a, H>,
        section_base: impl Fn(usize) -> u64,
        collect_percpu: bool,
        force: bool,
    ) -> Result<SymbolIndex<'a>> {
        let is_rel = file.elf_header().e_type(file.endian()) == elf::ET_REL;
        let mut index = SymbolIndex::default();
        let percpu_section = file.section_by_name(PERCPU_SECTION);
        let mut percpu = percpu_section.as_ref().map(|s| {
            let base_addr = if is_rel {
                section_base(s.index().0)
            } else {
                s.address()
            };
            Percpu {
                base_addr,
                size: s.size(),
                vars: FxHashMap::default(),
            }
        });
        // Without a symbol table pahole encodes no variables at all.
        let Some(symtab) = file.symbol_table() else {
            return Ok(index);
        };
        let percpu_index = percpu_section.map(|s| s.index());
        let mut percpu_syms: Vec<(u64, PercpuVar<'a>)> = Vec::new();
        for sym in symtab.symbols() {
            let raw = sym.elf_symbol();
            let st_type = raw.st_type();
            let name = sym.name_bytes().map_err(Error::from)?;
            if st_type == elf::STT_FUNC {
                index.functions.push(name);
            }
            if collect_percpu
                && st_type == elf::STT_OBJECT
                && percpu_index.is_some()
                && sym.section_index() == percpu_index
            {
                let size: u64 = raw.st_size(file.endian()).into();
                if size == 0 {
                    continue;
                }
                if !btf_name_valid(name) {
                    if force {
                        continue;
                    }
                    return Err(Error::Elf(format!(
                        "per-CPU symbol {:?} is not a valid BTF name",
                        String::from_utf8_lossy(name)
                    )));
                }
                let mut addr = raw.st_value(file.endian()).into();
                if !is_rel {
                    addr = addr.wrapping_sub(percpu.as_ref().map_or(0, |p| p.base_addr));
                }
                percpu_syms.push((
                    addr,
                    PercpuVar {
                        name,
                        size: size as u32,
                    },
                ));
            }
        }
        index.functions.sort_unstable();
        index.functions.dedup();
        if let Some(p) = percpu.as_mut() {
            // pahole bsearches a sorted array; with equal addresses it finds
            // one of them. Keep the first in symbol order.
            for (addr, var) in percpu_syms {
                p.vars.entry(addr).or_insert(var);
            }
        }
        index.percpu = if collect_percpu { percpu } else { None };
        Ok(index)
    }

    /// Whether the file has any function symbols (pahole falls back to
    /// "external functions only" when it has none).
    pub fn has_functions(&self) -> bool {
        !self.functions.is_empty()
    }

    /// The position of a function name, an id for "already emitted" flags.
    pub fn function(&self, name: &[u8]) -> Option<usize> {
        self.functions.binary_search(&name).ok()
    }

    /// The number of function symbols.
    pub fn function_count(&self) -> usize {
        self.functions.len()
    }
}

/// pahole's `btf_name_valid`: a C identifier (dots allowed) shorter than `KSYM_NAME_LEN`.
fn btf_name_valid(name: &[u8]) -> bool {
    let Some((&first, rest)) = name.split_first() else {
        return false;
    };
    let ok = |c: u8, first: bool| {
        c == b'_'
            || c == b'.'
            || if first {
                c.is_ascii_alphabetic()
            } else {
                c.is_ascii_alphanumeric()
            }
    };
    ok(first, true) && name.len() <= KSYM_NAME_LEN && rest.iter().all(|&c| ok(c, false))
}

#[cfg(test)]
mod tests {
    use super::btf_name_valid;

    #[test]
    fn btf_names_are_c_identifiers_with_dots() {
        assert!(btf_name_valid(b"runqueues"));
        assert!(btf_name_valid(b"_x.isra.0"));
        assert!(!btf_name_valid(b"0abc"));
        assert!(!btf_name_valid(b"a-b"));
        assert!(!btf_name_valid(b""));
        assert!(btf_name_valid(&[b'a'; 128]));
        assert!(!btf_name_valid(&[b'a'; 129]));
    }
}
