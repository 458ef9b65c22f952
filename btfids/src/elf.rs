//! Reading what resolve_btfids needs from an ELF file: the `.BTF_ids`
//! section, its `__BTF_ID__` symbols and which of them relocations use.
//! Both classes and byte orders; relocatable files (`.ko`, `.o`: symbol
//! values are section offsets) and linked ones (vmlinux: virtual addresses).

use object::elf;
use object::read::elf::{FileHeader, Rel, Rela, SectionHeader, Sym};
use object::{Endian as _, Endianness, FileKind};

use kbtf_btf::Endian;

use crate::symbol::{parse_symbol_name, IdKind};
use crate::{Error, Result};

/// The name of the section of BTF ids.
pub const BTF_IDS_SECTION: &str = ".BTF_ids";

/// Where a section's bytes are.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct SectionPlace {
    /// The section's index.
    pub index: usize,
    /// File offset of the contents.
    pub offset: u64,
    /// `sh_addr`: 0 in a relocatable file.
    pub addr: u64,
    /// The size in bytes.
    pub size: u64,
}

/// One `__BTF_ID__` symbol of `.BTF_ids`.
#[derive(Clone, Debug)]
pub struct IdSymbol {
    /// Its index in `.symtab`.
    pub index: usize,
    /// What the symbol stands for.
    pub kind: IdKind,
    /// The type, function or set name it stands for.
    pub name: Vec<u8>,
    /// `st_value` as read.
    pub value: u64,
    /// Its offset in `.BTF_ids` (`st_value - sh_addr`).
    pub offset: u64,
    /// The size in bytes.
    pub size: u64,
}

impl IdSymbol {
    /// The name, lossily decoded.
    pub fn name_str(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.name)
    }

    /// The full symbol name, `__BTF_ID__<kind>__<name>[__N]` without the `N`.
    pub fn display(&self) -> String {
        format!("{} {}", self.kind, self.name_str())
    }
}

/// The `.BTF_ids` section of an ELF file and its symbols.
#[derive(Debug)]
pub struct IdsElf<'data> {
    /// The whole file.
    pub data: &'data [u8],
    /// The byte order.
    pub endian: Endian,
    /// ELFCLASS64 rather than ELFCLASS32.
    pub is_64: bool,
    /// Symbol values are addresses (vmlinux), not section offsets.
    pub is_linked: bool,
    /// `.BTF_ids`: where its bytes are.
    pub section: SectionPlace,
    /// `.symtab`: file offset and entry size.
    pub symtab: SectionPlace,
    /// The size of one `.symtab` entry.
    pub symtab_entsize: u64,
    /// The `__BTF_ID__` symbols defined in `.BTF_ids`, in symbol table order.
    pub symbols: Vec<IdSymbol>,
}

impl<'data> IdsElf<'data> {
    /// Collects `.BTF_ids` and its symbols. Errors with
    /// [`Error::NoBtfIdsSection`] or [`Error::NoSymtab`] where there is nothing to resolve.
    pub fn parse(data: &'data [u8]) -> Result<IdsElf<'data>> {
        match FileKind::parse(data)? {
            FileKind::Elf32 => parse_as::<elf::FileHeader32<Endianness>>(data),
            FileKind::Elf64 => parse_as::<elf::FileHeader64<Endianness>>(data),
            _ => Err(Error::Elf("not an ELF file".into())),
        }
    }

    /// The current contents of `.BTF_ids`.
    pub fn section_bytes(&self) -> &'data [u8] {
        // Bounds were checked by parse.
        &self.data[self.section.offset as usize..][..self.section.size as usize]
    }

    /// Reads the word at `off` of `.BTF_ids`, if in bounds.
    pub fn word_at(&self, bytes: &[u8], off: u64) -> Option<u32> {
        let b = bytes.get(off as usize..off as usize + 4)?;
        Some(self.endian.read_u32([b[0], b[1], b[2], b[3]]))
    }

    /// The `st_value` a symbol at section offset `off` has.
    pub fn value_of_offset(&self, off: u64) -> u64 {
        off + self.section.addr
    }

    /// Which of the symbols `indices` (symbol table indices) relocations
    /// use, each with the name of a relocation section using it.
    pub fn relocations_against(&self, indices: &[usize]) -> Result<Vec<(usize, String)>> {
        if indices.is_empty() {
            return Ok(Vec::new());
        }
        match FileKind::parse(self.data)? {
            FileKind::Elf32 => scan_relocations::<elf::FileHeader32<Endianness>>(
                self.data,
                self.symtab.index,
                indices,
            ),
            _ => scan_relocations::<elf::FileHeader64<Endianness>>(
                self.data,
                self.symtab.index,
                indices,
            ),
        }
    }
}

fn parse_as<'data, H: FileHeader<Endian = Endianness>>(data: &'data [u8]) -> Result<IdsElf<'data>> {
    let header = H::parse(data)?;
    let endian = header.endian()?;
    let sections = header.sections(endian, data)?;
    let mut ids: Option<SectionPlace> = None;
    let mut symtab: Option<(SectionPlace, u64)> = None;
    // Section 0 is reserved (with extended numbering it holds counts, not a
    // section): libelf and `object` start at 1, so whatever it is named
    // is no .BTF_ids.
    for (index, sh) in sections.enumerate().skip(1) {
        let name = sections.section_name(endian, sh)?;
        let place = |sh: &H::SectionHeader| -> Result<SectionPlace> {
            let (offset, size) = sh
                .file_range(endian)
                .ok_or_else(|| Error::Elf(format!("section {index} has no file contents")))?;
            if offset
                .checked_add(size)
                .is_none_or(|e| e > data.len() as u64)
            {
                return Err(Error::Elf(format!(
                    "section {index} is beyond the end of the file"
                )));
            }
            Ok(SectionPlace {
                index: index.0,
                offset,
                addr: sh.sh_addr(endian).into(),
                size,
            })
        };
        // Any section outside the file makes it unreadable to upstream
        // (libelf refuses it) and to the in-place rewrite: refuse it here.
        if sh.sh_type(endian) != elf::SHT_NOBITS {
            place(sh).map_err(|_| {
                Error::Elf(format!(
                    "section {} ({}) is beyond the end of the file",
                    index.0,
                    String::from_utf8_lossy(name)
                ))
            })?;
        }
        // The last of each wins, as in upstream.
        if name == BTF_IDS_SECTION.as_bytes() {
            if sh.sh_flags(endian).contains(elf::SHF_COMPRESSED) {
                return Err(Error::Elf(".BTF_ids is compressed".into()));
            }
            ids = Some(place(sh)?);
        } else if sh.sh_type(endian) == elf::SHT_SYMTAB {
            // The symbols are read (by `object`, as by libelf) at the
            // class's entry size whatever sh_entsize says, so they are
            // patched there too.
            let entsize = std::mem::size_of::<H::Sym>() as u64;
            symtab = Some((place(sh)?, entsize));
        }
    }
    let section = ids.ok_or(Error::NoBtfIdsSection)?;
    let (symtab_place, entsize) = symtab.ok_or(Error::NoSymtab)?;
    check_patched_ranges(header, endian, data, &section, &symtab_place)?;
    let table =
        sections.symbol_table_by_index(endian, data, object::SectionIndex(symtab_place.index))?;
    let is_linked = header.e_type(endian) != elf::ET_REL;

    let mut symbols = Vec::new();
    for (i, sym) in table.enumerate() {
        if table.symbol_section(endian, sym, i)? != Some(object::SectionIndex(section.index)) {
            continue;
        }
        let raw = table.symbol_name(endian, sym)?;
        let Some((kind, name)) = parse_symbol_name(raw)? else {
            continue;
        };
        let value: u64 = sym.st_value(endian).into();
        let offset = value
            .checked_sub(section.addr)
            .ok_or_else(|| Error::Symbol {
                symbol: String::from_utf8_lossy(raw).into_owned(),
                what: format!("value {value:#x} is below .BTF_ids at {:#x}", section.addr),
            })?;
        symbols.push(IdSymbol {
            index: i.0,
            kind,
            name: name.to_vec(),
            value,
            offset,
            size: sym.st_size(endian).into(),
        });
    }

    Ok(IdsElf {
        data,
        endian: if endian.is_little_endian() {
            Endian::Little
        } else {
            Endian::Big
        },
        is_64: header.is_class_64(),
        is_linked,
        section,
        symtab: symtab_place,
        symtab_entsize: entsize,
        symbols,
    })
}

/// Resolving rewrites `.BTF_ids` and symbol values in `.symtab` in place:
/// neither may share bytes with the ELF headers or another section (a
/// crafted file could make the patch rewrite its own section headers),
/// nor with each other.
fn check_patched_ranges<H: FileHeader<Endian = Endianness>>(
    header: &H,
    endian: Endianness,
    data: &[u8],
    ids: &SectionPlace,
    symtab: &SectionPlace,
) -> Result<()> {
    let sections = header.sections(endian, data)?;
    let mut others: Vec<(String, u64, u64)> = vec![
        (
            "the ELF header".into(),
            0,
            // The class's size, whatever the (unchecked) e_ehsize says.
            u64::from(header.e_ehsize(endian)).max(std::mem::size_of::<H>() as u64),
        ),
        (
            "the section headers".into(),
            header.e_shoff(endian).into(),
            sections.len() as u64
                * u64::from(header.e_shentsize(endian))
                    .max(std::mem::size_of::<H::SectionHeader>() as u64),
        ),
        (
            "the program headers".into(),
            header.e_phoff(endian).into(),
            u64::from(header.e_phnum(endian))
                * u64::from(header.e_phentsize(endian))
                    .max(std::mem::size_of::<H::ProgramHeader>() as u64),
        ),
    ];
    // The names of sections and symbols must stay what they are.
    let symtab_strings = sections
        .section(object::SectionIndex(symtab.index))
        .map(|sh| sh.sh_link(endian) as usize)?;
    let shstrndx = header.shstrndx(endian, data)? as usize;
    for (what, place) in [(BTF_IDS_SECTION, ids), (".symtab", symtab)] {
        if place.index == shstrndx || place.index == symtab_strings {
            return Err(Error::Elf(format!(
                "{what} is the string table of section or symbol names"
            )));
        }
    }
    for (index, sh) in sections.enumerate() {
        if sh.sh_type(endian) == elf::SHT_NOBITS || index.0 == ids.index || index.0 == symtab.index
        {
            continue;
        }
        if let Some((offset, size)) = sh.file_range(endian) {
            let name = sections.section_name(endian, sh).unwrap_or(b"?");
            let name = format!("section {} ({})", index.0, String::from_utf8_lossy(name));
            others.push((name, offset, size));
        }
    }
    others.push((BTF_IDS_SECTION.into(), ids.offset, ids.size));
    let overlaps = |a: (u64, u64), b: (u64, u64)| {
        a.1 > 0 && b.1 > 0 && a.0 < b.0.saturating_add(b.1) && b.0 < a.0.saturating_add(a.1)
    };
    for (what, place) in [(BTF_IDS_SECTION, ids), (".symtab", symtab)] {
        for (other, offset, size) in &others {
            if other != what && overlaps((place.offset, place.size), (*offset, *size)) {
                return Err(Error::Elf(format!("{what} overlaps {other} in the file")));
            }
        }
    }
    Ok(())
}

/// The relocations of `data` (any section linked to the symbol table at
/// `symtab`) against the symbols in `wanted`: (symbol index, relocation section name).
fn scan_relocations<H: FileHeader<Endian = Endianness>>(
    data: &[u8],
    symtab: usize,
    wanted: &[usize],
) -> Result<Vec<(usize, String)>> {
    let header = H::parse(data)?;
    let endian = header.endian()?;
    let sections = header.sections(endian, data)?;
    let is_mips64el = header.is_mips64el(endian);
    let mut hit = vec![false; wanted.iter().max().map_or(0, |m| m + 1)];
    for &w in wanted {
        hit[w] = true;
    }
    let mut found: Vec<(usize, String)> = Vec::new();
    for (index, sh) in sections.enumerate() {
        if sh.link(endian).0 != symtab {
            continue;
        }
        let mut note = |sym: usize| {
            if hit.get(sym).copied().unwrap_or(false) {
                let n = sections.section_name(endian, sh).unwrap_or(b"?");
                found.push((sym, String::from_utf8_lossy(n).into_owned()));
            }
        };
        if let Some((rels, _)) = sh.rel(endian, data)? {
            rels.iter().for_each(|r| note(r.r_sym(endian) as usize));
        } else if let Some((relas, _)) = sh.rela(endian, data)? {
            relas
                .iter()
                .for_each(|r| note(r.r_sym(endian, is_mips64el) as usize));
        } else if sh.sh_type(endian) == elf::SHT_CREL {
            return Err(Error::Elf(format!(
                "section {}: compact relocations (SHT_CREL) are not supported",
                index.0
            )));
        }
    }
    found.sort();
    found.dedup_by_key(|r| r.0);
    Ok(found)
}

/// The contents of an ELF file's `.BTF.base` section (the distilled base of
/// an out-of-tree module), if it has one. Upstream resolves against it instead of `--btf_base`.
pub fn distilled_base_blob(data: &[u8]) -> Result<Option<std::borrow::Cow<'_, [u8]>>> {
    use object::Object;
    let file = object::File::parse(data)?;
    let Some(sec) = file.section_by_name(".BTF.base") else {
        return Ok(None);
    };
    // kbtf's inflation: claims checked, memory bounded by the stream.
    Ok(Some(
        kbtf_btf::input::section_data(&sec).map_err(|e| Error::Elf(e.to_string()))?,
    ))
}
