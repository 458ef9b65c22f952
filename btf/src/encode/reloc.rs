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
                let addr = next.div_ceil(align) * align;
                base[index] = addr;
                next = addr + section.size().max(1);
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
    let mut data = section.uncompressed_data()?;
    let name = section.name().unwrap_or("?");
    let little = file.is_little_endian();
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
        if reloc.kind() != RelocationKind::Absolute {
            if let RelocationFlags::Elf { r_type } = reloc.flags() {
                // R_X86_64_NONE and friends: nothing to do.
                if r_type.0 == 0 {
                    continue;
                }
            }
            return Err(bad(&format!("unsupported relocation {:?}", reloc.flags())));
        }
        let width = match reloc.size() {
            32 => 4,
            64 => 8,
            bits => return Err(bad(&format!("unsupported {bits}-bit relocation"))),
        };
        let at = usize::try_from(offset).unwrap_or(usize::MAX);
        let bytes = at
            .checked_add(width)
            .and_then(|end| data.to_mut().get_mut(at..end))
            .ok_or_else(|| bad("relocation outside the section"))?;
        let implicit = if reloc.has_implicit_addend() {
            read_uint(bytes, little)
        } else {
            0
        };
        let value = symbol_value
            .wrapping_add(reloc.addend() as u64)
            .wrapping_add(implicit);
        write_uint(bytes, value, little);
    }
    Ok(data)
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
