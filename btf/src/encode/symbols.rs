//! The ELF symbol index the encoder needs: the names of function symbols
//! (which DWARF functions get a FUNC) and the per-CPU variables (which
//! DWARF variables get a VAR in `.data..percpu`).

use object::elf;
use object::read::elf::{ElfFile, FileHeader, SectionHeader, Sym};
use object::{Object, ObjectSection, ObjectSymbol, ObjectSymbolTable};
use rustc_hash::{FxHashMap, FxHashSet};

use super::elf_functions::ElfFunctions;
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

/// An ELF section as pahole 1.30 indexes it for variables (`struct elf_secinfo`).
#[derive(Clone, Debug)]
pub struct SectionInfo {
    /// `sh_addr`; in an ET_REL file the address libdwfl lays the section
    /// out at (0 for sections that are not `SHF_ALLOC`).
    pub addr: u64,
    /// `sh_size`.
    pub size: u64,
    /// `SHT_PROGBITS` or `SHT_NOBITS`: where variables can be.
    pub holds_data: bool,
    /// Whether its variables are encoded (`.data..percpu`, unless variables
    /// are off).
    pub include: bool,
}

/// What pahole 1.30 reads of the symbol table besides 1.24's index.
#[derive(Debug, Default)]
pub struct Symbols130<'a> {
    /// The function table, with its sort and lookup quirks.
    pub functions: ElfFunctions<'a>,
    /// Every section, by index (index 0 is the null section).
    pub sections: Vec<SectionInfo>,
    /// (section index, name) of every `STT_OBJECT` symbol.
    pub objects: FxHashSet<(usize, &'a [u8])>,
}

impl Symbols130<'_> {
    /// pahole 1.30's `get_elf_section`: the first data section holding `addr`.
    pub fn section_of(&self, addr: u64) -> Option<usize> {
        self.sections.iter().enumerate().skip(1).find_map(|(i, s)| {
            (s.holds_data && s.addr <= addr && addr - s.addr < s.size).then_some(i)
        })
    }
}

/// Function names and per-CPU variables of one ELF file.
#[derive(Debug, Default)]
pub struct SymbolIndex<'a> {
    /// Names of `STT_FUNC` symbols, sorted and deduplicated.
    functions: Vec<&'a [u8]>,
    /// None when the file has no `.data..percpu` (or variables are not wanted).
    pub percpu: Option<Percpu<'a>>,
    /// pahole 1.30's view (None when encoding as 1.24).
    pub v130: Option<Symbols130<'a>>,
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
        v130: bool,
        grouped: bool,
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
        let mut v130 = v130.then(|| Symbols130 {
            sections: file
                .sections()
                .map(|s| {
                    let raw = s.elf_section_header();
                    let sh_type = raw.sh_type(file.endian());
                    SectionInfo {
                        // libdwfl writes the addresses it gives the sections
                        // of an ET_REL file into the section headers pahole reads.
                        addr: if is_rel {
                            section_base(s.index().0)
                        } else {
                            raw.sh_addr(file.endian()).into()
                        },
                        size: raw.sh_size(file.endian()).into(),
                        holds_data: sh_type == elf::SHT_PROGBITS || sh_type == elf::SHT_NOBITS,
                        include: s.name() == Ok(PERCPU_SECTION),
                    }
                })
                .collect(),
            ..Symbols130::default()
        });
        if let Some(v) = v130.as_mut() {
            // object's iterator starts after the null section.
            v.sections.insert(
                0,
                SectionInfo {
                    addr: 0,
                    size: 0,
                    holds_data: false,
                    include: false,
                },
            );
        }
        // Without a symbol table pahole encodes no variables at all.
        let Some(symtab) = file.symbol_table() else {
            index.v130 = v130;
            return Ok(index);
        };
        let percpu_index = percpu_section.map(|s| s.index());
        let mut percpu_syms: Vec<(u64, PercpuVar<'a>)> = Vec::new();
        let mut function_addrs: Vec<u64> = Vec::new();
        for sym in symtab.symbols() {
            let raw = sym.elf_symbol();
            let st_type = raw.st_type();
            let name = sym.name_bytes().map_err(Error::from)?;
            if st_type == elf::STT_FUNC {
                index.functions.push(name);
                if grouped {
                    function_addrs.push(raw.st_value(file.endian()).into());
                }
            }
            if let (Some(v), Some(section)) = (v130.as_mut(), sym.section_index()) {
                if st_type == elf::STT_OBJECT {
                    v.objects.insert((section.0, name));
                }
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
        if let Some(v) = v130.as_mut() {
            v.functions = if grouped {
                ElfFunctions::grouped(index.functions.iter().copied().zip(function_addrs))
            } else {
                ElfFunctions::new(index.functions.iter().copied())
            };
        }
        index.v130 = v130;
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
pub(super) fn btf_name_valid(name: &[u8]) -> bool {
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
