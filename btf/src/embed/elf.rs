//! The parts of an ELF file that placing section data depends on: the file
//! header, the section header table and the program header table, read with
//! explicit bounds checks into plain, class-independent values and written
//! back in the file's own class and byte order.
//!
//! Only the headers are interpreted; section contents (symbols, relocations,
//! groups) are never read, which is why a rewrite cannot disturb them.

use object::elf;
use object::{Endian, Endianness};

use crate::{Error, Result};

/// `sh_type` of a section without file bytes (`.bss`).
pub(super) const SHT_NOBITS: u32 = elf::SHT_NOBITS.0;
const SHN_XINDEX: u16 = elf::SHN_XINDEX.0;
const PN_XNUM: u16 = elf::PN_XNUM;
// Offsets in `e_ident` (object has the struct, not these).
pub(super) const EI_NIDENT: usize = 16;
const EI_CLASS: usize = 4;
const EI_DATA: usize = 5;
const EI_OSABI: usize = 7;
const EI_ABIVERSION: usize = 8;
const EHDR_SIZE_32: usize = 52;
const EHDR_SIZE_64: usize = 64;
const SHDR_SIZE_32: usize = 40;
const SHDR_SIZE_64: usize = 64;
const PHDR_SIZE_32: usize = 32;
const PHDR_SIZE_64: usize = 56;

/// What an ELF file is built for: the identity a new object needs to be
/// linkable with it (`ld` refuses objects whose class, byte order, machine
/// or ABI flags differ).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ElfInfo {
    /// ELFCLASS64 rather than ELFCLASS32.
    pub is_64: bool,
    /// The byte order.
    pub endian: Endianness,
    /// `e_machine` (`EM_X86_64`, `EM_AARCH64`, ...).
    pub machine: u16,
    /// `e_flags`: the processor's ABI flags (float ABI on ARM, RISC-V, MIPS).
    pub flags: u32,
    /// `e_ident[EI_OSABI]`.
    pub os_abi: u8,
    /// `e_ident[EI_ABIVERSION]`.
    pub abi_version: u8,
}

impl ElfInfo {
    /// Reads the identity of the ELF file in `bytes` (only its file header).
    pub fn parse(bytes: &[u8]) -> Result<ElfInfo> {
        let id = Ident::parse(bytes)?;
        let r = id.reader(bytes);
        Ok(ElfInfo {
            is_64: id.is_64,
            endian: id.endian,
            machine: r.u16(18)?,
            flags: r.u32(if id.is_64 { 48 } else { 36 })?,
            os_abi: bytes[EI_OSABI],
            abi_version: bytes[EI_ABIVERSION],
        })
    }

    pub(super) fn ehdr_size(&self) -> usize {
        if self.is_64 {
            EHDR_SIZE_64
        } else {
            EHDR_SIZE_32
        }
    }

    pub(super) fn shdr_size(&self) -> usize {
        if self.is_64 {
            SHDR_SIZE_64
        } else {
            SHDR_SIZE_32
        }
    }

    /// The alignment ELF wants for the header tables of this class.
    pub(super) fn word_align(&self) -> u64 {
        if self.is_64 {
            8
        } else {
            4
        }
    }
}

/// Class and byte order from `e_ident`, checked.
struct Ident {
    is_64: bool,
    endian: Endianness,
}

impl Ident {
    fn parse(bytes: &[u8]) -> Result<Ident> {
        if bytes.len() < EI_NIDENT {
            return Err(elf_err(format!(
                "truncated ELF identification: the file has {} bytes, needs {}",
                bytes.len(),
                EI_NIDENT
            )));
        }
        if bytes[..4] != elf::ELFMAG {
            return Err(elf_err("not an ELF file (no \\x7fELF magic)".into()));
        }
        let is_64 = match bytes[EI_CLASS] {
            c if c == elf::ELFCLASS32.0 => false,
            c if c == elf::ELFCLASS64.0 => true,
            c => return Err(elf_err(format!("unknown ELF class {c}"))),
        };
        let endian = match bytes[EI_DATA] {
            d if d == elf::ELFDATA2LSB.0 => Endianness::Little,
            d if d == elf::ELFDATA2MSB.0 => Endianness::Big,
            d => return Err(elf_err(format!("unknown ELF data encoding {d}"))),
        };
        let need = if is_64 { EHDR_SIZE_64 } else { EHDR_SIZE_32 };
        if bytes.len() < need {
            return Err(elf_err(format!(
                "truncated ELF header: the file has {} bytes, the header needs {need}",
                bytes.len()
            )));
        }
        Ok(Ident { is_64, endian })
    }

    fn reader<'a>(&self, bytes: &'a [u8]) -> Reader<'a> {
        Reader {
            bytes,
            endian: self.endian,
            is_64: self.is_64,
        }
    }
}

/// Bounds-checked reads of header fields.
struct Reader<'a> {
    bytes: &'a [u8],
    endian: Endianness,
    is_64: bool,
}

impl Reader<'_> {
    fn take<const N: usize>(&self, at: usize) -> Result<[u8; N]> {
        self.bytes
            .get(at..at.saturating_add(N))
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| elf_err(format!("truncated ELF: no {N} bytes at offset {at:#x}")))
    }
    fn u16(&self, at: usize) -> Result<u16> {
        Ok(self.endian.read_u16(self.take(at)?))
    }
    fn u32(&self, at: usize) -> Result<u32> {
        Ok(self.endian.read_u32(self.take(at)?))
    }
    fn u64(&self, at: usize) -> Result<u64> {
        Ok(self.endian.read_u64(self.take(at)?))
    }
    /// An address-sized field (Elf32_Addr/Off/Word or Elf64_Addr/Off/Xword).
    fn word(&self, at: usize) -> Result<u64> {
        if self.is_64 {
            self.u64(at)
        } else {
            self.u32(at).map(u64::from)
        }
    }
}

/// One section header, whatever the class.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Shdr {
    pub name: u32,
    pub sh_type: u32,
    pub flags: u64,
    pub addr: u64,
    pub offset: u64,
    pub size: u64,
    pub link: u32,
    pub info: u32,
    pub addralign: u64,
    pub entsize: u64,
}

impl Shdr {
    /// The bytes it occupies in the file (none for SHT_NOBITS).
    pub fn file_size(&self) -> u64 {
        if self.sh_type == SHT_NOBITS {
            0
        } else {
            self.size
        }
    }
}

/// One program header: only where its file bytes are.
#[derive(Clone, Debug)]
pub(super) struct Phdr {
    pub p_type: u32,
    pub offset: u64,
    pub filesz: u64,
}

/// The headers of an ELF file.
pub(super) struct Layout {
    pub info: ElfInfo,
    pub phoff: u64,
    pub shoff: u64,
    /// Index of the section name string table.
    pub shstrndx: usize,
    /// All section headers, index 0 included.
    pub sections: Vec<Shdr>,
    pub segments: Vec<Phdr>,
}

impl Layout {
    /// Reads and checks the headers: tables and section data inside the
    /// file, a section name table that holds every name.
    pub fn parse(bytes: &[u8]) -> Result<Layout> {
        let id = Ident::parse(bytes)?;
        let info = ElfInfo::parse(bytes)?;
        let r = id.reader(bytes);
        let (phoff, shoff, phentsize, phnum, shentsize, shnum, shstrndx) = if id.is_64 {
            (
                r.u64(32)?,
                r.u64(40)?,
                r.u16(54)?,
                r.u16(56)?,
                r.u16(58)?,
                r.u16(60)?,
                r.u16(62)?,
            )
        } else {
            (
                r.u32(28)?.into(),
                r.u32(32)?.into(),
                r.u16(42)?,
                r.u16(44)?,
                r.u16(46)?,
                r.u16(48)?,
                r.u16(50)?,
            )
        };
        if shoff == 0 {
            return Err(elf_err("the file has no section header table".into()));
        }
        if usize::from(shentsize) != info.shdr_size() {
            return Err(elf_err(format!(
                "section header entry size is {shentsize}, expected {}",
                info.shdr_size()
            )));
        }
        // Section 0 holds the real counts when they do not fit the header.
        let first = read_shdr(&r, shoff, 0)?;
        let shnum = if shnum == 0 {
            usize::try_from(first.size).unwrap_or(usize::MAX)
        } else {
            usize::from(shnum)
        };
        let shstrndx = if shstrndx == SHN_XINDEX {
            first.link as usize
        } else {
            usize::from(shstrndx)
        };
        let phnum = if phnum == PN_XNUM {
            first.info as usize
        } else {
            usize::from(phnum)
        };
        check_table(
            bytes.len(),
            "section header",
            shoff,
            shnum,
            info.shdr_size(),
        )?;
        let sections = (0..shnum)
            .map(|i| read_shdr(&r, shoff, i))
            .collect::<Result<Vec<_>>>()?;
        let mut segments = Vec::new();
        if phnum > 0 {
            let size = if id.is_64 { PHDR_SIZE_64 } else { PHDR_SIZE_32 };
            if usize::from(phentsize) != size {
                return Err(elf_err(format!(
                    "program header entry size is {phentsize}, expected {size}"
                )));
            }
            check_table(bytes.len(), "program header", phoff, phnum, size)?;
            for i in 0..phnum {
                let at = (phoff as usize) + i * size;
                segments.push(if id.is_64 {
                    Phdr {
                        p_type: r.u32(at)?,
                        offset: r.u64(at + 8)?,
                        filesz: r.u64(at + 32)?,
                    }
                } else {
                    Phdr {
                        p_type: r.u32(at)?,
                        offset: r.u32(at + 4)?.into(),
                        filesz: r.u32(at + 16)?.into(),
                    }
                });
            }
        }
        let layout = Layout {
            info,
            phoff,
            shoff,
            shstrndx,
            sections,
            segments,
        };
        layout.check(bytes)?;
        Ok(layout)
    }

    fn check(&self, bytes: &[u8]) -> Result<()> {
        let len = bytes.len() as u64;
        for (i, s) in self.sections.iter().enumerate().skip(1) {
            let end = s.offset.checked_add(s.file_size());
            if !matches!(end, Some(end) if end <= len) {
                return Err(elf_err(format!(
                    "section [{i}] (offset {:#x}, size {:#x}) extends past the end of the file ({len:#x} bytes)",
                    s.offset, s.size
                )));
            }
        }
        for (i, p) in self.segments.iter().enumerate() {
            if !matches!(p.offset.checked_add(p.filesz), Some(end) if end <= len) {
                return Err(elf_err(format!(
                    "segment [{i}] (offset {:#x}, file size {:#x}) extends past the end of the file ({len:#x} bytes)",
                    p.offset, p.filesz
                )));
            }
        }
        let strtab = self.shstrtab_header()?;
        if strtab.sh_type == SHT_NOBITS {
            return Err(elf_err(format!(
                "the section name table [{}] has no bytes in the file (SHT_NOBITS)",
                self.shstrndx
            )));
        }
        for i in 0..self.sections.len() {
            self.section_name(bytes, i)?;
        }
        Ok(())
    }

    fn shstrtab_header(&self) -> Result<&Shdr> {
        if self.shstrndx == 0 {
            return Err(elf_err("the file has no section name table".into()));
        }
        self.sections.get(self.shstrndx).ok_or_else(|| {
            elf_err(format!(
                "section name table index {} is out of range ({} sections)",
                self.shstrndx,
                self.sections.len()
            ))
        })
    }

    /// The bytes of the section name table (in bounds: checked by `parse`).
    pub fn shstrtab<'a>(&self, bytes: &'a [u8]) -> Result<&'a [u8]> {
        let s = self.shstrtab_header()?;
        Ok(&bytes[s.offset as usize..(s.offset + s.size) as usize])
    }

    /// The name of section `index`, without its NUL.
    pub fn section_name<'a>(&self, bytes: &'a [u8], index: usize) -> Result<&'a [u8]> {
        let strtab = self.shstrtab(bytes)?;
        let off = self.sections[index].name as usize;
        let tail = strtab.get(off..).unwrap_or_default();
        let nul = tail.iter().position(|&b| b == 0).ok_or_else(|| {
            elf_err(format!(
                "section [{index}]: name offset {off:#x} has no NUL-terminated string in the section name table ({:#x} bytes)",
                strtab.len()
            ))
        })?;
        Ok(&tail[..nul])
    }
}

fn check_table(len: usize, what: &str, off: u64, num: usize, entsize: usize) -> Result<()> {
    let end = (num as u64)
        .checked_mul(entsize as u64)
        .and_then(|size| off.checked_add(size));
    if !matches!(end, Some(end) if end <= len as u64) {
        return Err(elf_err(format!(
            "{what} table (offset {off:#x}, {num} entries of {entsize} bytes) extends past the end of the file ({len:#x} bytes)"
        )));
    }
    Ok(())
}

fn read_shdr(r: &Reader, shoff: u64, index: usize) -> Result<Shdr> {
    let size = if r.is_64 { SHDR_SIZE_64 } else { SHDR_SIZE_32 };
    let at = usize::try_from(shoff)
        .ok()
        .and_then(|o| o.checked_add(index.checked_mul(size)?))
        .filter(|at| at.saturating_add(size) <= r.bytes.len())
        .ok_or_else(|| {
            elf_err(format!(
                "section header [{index}] at table offset {shoff:#x} is outside the file ({:#x} bytes)",
                r.bytes.len()
            ))
        })?;
    let w = if r.is_64 { 8 } else { 4 };
    Ok(Shdr {
        name: r.u32(at)?,
        sh_type: r.u32(at + 4)?,
        flags: r.word(at + 8)?,
        addr: r.word(at + 8 + w)?,
        offset: r.word(at + 8 + 2 * w)?,
        size: r.word(at + 8 + 3 * w)?,
        link: r.u32(at + 8 + 4 * w)?,
        info: r.u32(at + 12 + 4 * w)?,
        addralign: r.word(at + 16 + 4 * w)?,
        entsize: r.word(at + 16 + 5 * w)?,
    })
}

/// Serializes class-sized and byte-ordered header fields.
pub(super) struct Writer<'a> {
    pub out: &'a mut Vec<u8>,
    pub info: ElfInfo,
}

impl Writer<'_> {
    pub fn u16(&mut self, v: u16) {
        self.out.extend_from_slice(&self.info.endian.write_u16(v));
    }
    pub fn u32(&mut self, v: u32) {
        self.out.extend_from_slice(&self.info.endian.write_u32(v));
    }
    /// An address-sized field; the caller has checked that it fits ELF32.
    pub fn word(&mut self, v: u64) {
        if self.info.is_64 {
            self.out.extend_from_slice(&self.info.endian.write_u64(v));
        } else {
            self.u32(v as u32);
        }
    }

    pub fn shdr(&mut self, s: &Shdr) {
        self.u32(s.name);
        self.u32(s.sh_type);
        self.word(s.flags);
        self.word(s.addr);
        self.word(s.offset);
        self.word(s.size);
        self.u32(s.link);
        self.u32(s.info);
        self.word(s.addralign);
        self.word(s.entsize);
    }
}

/// Overwrites the section header table fields of the file header in `out`:
/// `e_shoff`, `e_shnum` and `e_shstrndx` (with the section-0 escapes when
/// the values do not fit 16 bits, which the caller puts in `sections[0]`).
pub(super) fn patch_section_table_fields(
    out: &mut [u8],
    info: ElfInfo,
    shoff: u64,
    shnum: usize,
    shstrndx: usize,
) {
    let e = info.endian;
    let shnum = u16::try_from(shnum)
        .ok()
        .filter(|&n| n < elf::SHN_LORESERVE)
        .unwrap_or(0);
    let shstrndx = u16::try_from(shstrndx)
        .ok()
        .filter(|&n| n < elf::SHN_LORESERVE)
        .unwrap_or(SHN_XINDEX);
    if info.is_64 {
        out[40..48].copy_from_slice(&e.write_u64(shoff));
        out[60..62].copy_from_slice(&e.write_u16(shnum));
        out[62..64].copy_from_slice(&e.write_u16(shstrndx));
    } else {
        out[32..36].copy_from_slice(&e.write_u32(shoff as u32));
        out[48..50].copy_from_slice(&e.write_u16(shnum));
        out[50..52].copy_from_slice(&e.write_u16(shstrndx));
    }
}

pub(super) fn elf_err(what: String) -> Error {
    Error::Elf(what)
}
