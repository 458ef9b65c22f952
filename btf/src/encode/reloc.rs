//! Relocating the DWARF of an ET_REL file (a `.ko`): its `.debug_*`
//! sections hold zeros where `.rela.debug_*` says a symbol's address or a
//! string offset goes, so they must be patched before DWARF is read.
//!
//! Like libdwfl's offline mode, allocated sections are laid out one after
//! another from a non-zero address, so that every DWARF address names the
//! section it falls in; non-allocated sections (the debug sections
//! themselves) stay at 0, so offsets into them stay offsets.

use std::borrow::Cow;

use object::read::elf::{ElfFile, FileHeader};
use object::{
    Object, ObjectSection, ObjectSymbol, RelocationFlags, RelocationKind, RelocationTarget,
    SectionFlags, SectionIndex,
};

use crate::{Error, Result};

/// libdwfl's first offline address ("red zone" below it).
const FIRST_ADDRESS: u64 = 0x10000;

/// Where each section of an ET_REL file is placed (index -> address).
pub struct Layout {
    base: Vec<u64>,
}

impl Layout {
    /// Places the `SHF_ALLOC` sections of `file` at distinct addresses.
    pub fn new<H: FileHeader>(file: &ElfFile<'_, H>) -> Layout {
        let mut base = Vec::new();
        let mut next = FIRST_ADDRESS;
        for section in file.sections() {
            let index = section.index().0;
            if base.len() <= index {
                base.resize(index + 1, 0);
            }
            let alloc = match section.flags() {
                SectionFlags::Elf { sh_flags, .. } => sh_flags.0 & object::elf::SHF_ALLOC.0 != 0,
                _ => false,
            };
            if alloc {
                let align = section.align().max(1);
                // Wrapping, as libdwfl's unsigned arithmetic does, for sizes
                // and alignments no real file has.
                let addr = next.div_ceil(align).wrapping_mul(align);
                base[index] = addr;
                next = addr.wrapping_add(section.size().max(1));
            }
        }
        Layout { base }
    }

    /// The address of section `index` (0 for sections not placed).
    pub fn base(&self, index: usize) -> u64 {
        self.base.get(index).copied().unwrap_or(0)
    }
}

/// The contents of `section` with its relocations applied.
pub fn relocated<'data, H: FileHeader>(
    file: &ElfFile<'data, H>,
    section: &object::read::elf::ElfSection<'data, '_, H>,
    layout: &Layout,
) -> Result<Cow<'data, [u8]>> {
    // section_data: bounds named, inflation bounded by the stream.
    let mut data = crate::input::section_data(section)?;
    let name = section.name().unwrap_or("?");
    let little = file.is_little_endian();
    let riscv = file.elf_header().e_machine(file.endian()) == object::elf::EM_RISCV;
    for (offset, reloc) in section.relocations() {
        let bad = |what: &str| Error::Elf(format!("{name}+{offset:#x}: {what}"));
        let symbol_value = match reloc.target() {
            RelocationTarget::Symbol(idx) => {
                let sym = file.symbol_by_index(idx)?;
                let base = match sym.section_index() {
                    Some(SectionIndex(i)) => layout.base(i),
                    None => 0,
                };
                sym.address().wrapping_add(base)
            }
            RelocationTarget::Section(SectionIndex(i)) => layout.base(i),
            RelocationTarget::Absolute => 0,
            _ => return Err(bad("unsupported relocation target")),
        };
        let op = match (reloc.kind(), reloc.flags()) {
            (RelocationKind::Absolute, _) => match reloc.size() {
                8 | 16 | 32 | 64 => Op::Set(reloc.size() as usize / 8),
                bits => return Err(bad(&format!("unsupported {bits}-bit relocation"))),
            },
            (_, RelocationFlags::Elf { r_type }) if riscv => match riscv_op(r_type) {
                Some(op) => op,
                None => return Err(bad(&format!("unsupported RISC-V relocation {}", r_type.0))),
            },
            // R_*_NONE: nothing to do.
            (_, RelocationFlags::Elf { r_type }) if r_type.0 == 0 => continue,
            (_, flags) => return Err(bad(&format!("unsupported relocation {flags:?}"))),
        };
        let at = usize::try_from(offset).unwrap_or(usize::MAX);
        let bytes = at
            .checked_add(op.width())
            .and_then(|end| data.to_mut().get_mut(at..end))
            .ok_or_else(|| bad("relocation outside the section"))?;
        let old = read_uint(bytes, little);
        let implicit = if reloc.has_implicit_addend() { old } else { 0 };
        let value = symbol_value
            .wrapping_add(reloc.addend() as u64)
            .wrapping_add(implicit);
        let value = match op {
            Op::Set(_) => value,
            Op::Add(_) => old.wrapping_add(value),
            Op::Sub(_) => old.wrapping_sub(value),
            Op::Set6 => (old & !0x3f) | (value & 0x3f),
            Op::Sub6 => (old & !0x3f) | (old.wrapping_sub(value) & 0x3f),
        };
        write_uint(bytes, value, little);
    }
    Ok(data)
}

/// What a relocation does to the bytes at its offset.
#[derive(Clone, Copy)]
enum Op {
    /// Store S + A in this many bytes.
    Set(usize),
    /// Add or subtract S + A (RISC-V label differences).
    Add(usize),
    Sub(usize),
    /// Set or subtract in the low 6 bits of a byte.
    Set6,
    Sub6,
}

impl Op {
    fn width(self) -> usize {
        match self {
            Op::Set(w) | Op::Add(w) | Op::Sub(w) => w,
            Op::Set6 | Op::Sub6 => 1,
        }
    }
}

/// RISC-V's relocations for differences between labels, which its
/// assemblers leave in DWARF instead of resolving them.
fn riscv_op(r_type: object::elf::RelocationType) -> Option<Op> {
    use object::elf::*;
    Some(match r_type {
        R_RISCV_ADD8 => Op::Add(1),
        R_RISCV_ADD16 => Op::Add(2),
        R_RISCV_ADD32 => Op::Add(4),
        R_RISCV_ADD64 => Op::Add(8),
        R_RISCV_SUB8 => Op::Sub(1),
        R_RISCV_SUB16 => Op::Sub(2),
        R_RISCV_SUB32 => Op::Sub(4),
        R_RISCV_SUB64 => Op::Sub(8),
        R_RISCV_SUB6 => Op::Sub6,
        R_RISCV_SET6 => Op::Set6,
        R_RISCV_SET8 => Op::Set(1),
        R_RISCV_SET16 => Op::Set(2),
        R_RISCV_SET32 => Op::Set(4),
        R_RISCV_32 => Op::Set(4),
        R_RISCV_64 => Op::Set(8),
        _ => return None,
    })
}

fn read_uint(bytes: &[u8], little: bool) -> u64 {
    let mut v = 0u64;
    for (i, &b) in bytes.iter().enumerate() {
        let shift = if little { i } else { bytes.len() - 1 - i } * 8;
        v |= (b as u64) << shift;
    }
    v
}

fn write_uint(bytes: &mut [u8], value: u64, little: bool) {
    let n = bytes.len();
    for (i, b) in bytes.iter_mut().enumerate() {
        let shift = if little { i } else { n - 1 - i } * 8;
        *b = (value >> shift) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uint_round_trips_both_orders() {
        for little in [true, false] {
            let mut b = [0u8; 4];
            write_uint(&mut b, 0x1122_3344, little);
            assert_eq!(read_uint(&b, little), 0x1122_3344);
        }
        let mut b = [0u8; 8];
        write_uint(&mut b, 0x0102_0304_0506_0708, true);
        assert_eq!(b, [8, 7, 6, 5, 4, 3, 2, 1]);
    }
}
