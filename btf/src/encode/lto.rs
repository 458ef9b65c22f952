//! Whether a file's DWARF must be walked as one merged unit: pahole does
//! so for LTO builds, whose units refer into each other.

use gimli::constants as dw;
use object::read::elf::{ElfFile, FileHeader, SectionHeader};
use object::Object;

use super::R;

/// pahole merges all units into one when the kernel was built with LTO
/// (a `Linux` note of type 0x101 that says so) or any unit refers across
/// units (`DW_FORM_ref_addr`).
pub(super) fn merged_dwarf<H: FileHeader>(
    file: &ElfFile<'_, H>,
    dwarf: &gimli::Dwarf<R<'_>>,
    headers: &[gimli::UnitHeader<R<'_>>],
) -> bool {
    use gimli::Section;
    const LINUX_ELFNOTE_BUILD_LTO: u32 = 0x101;
    let endian = file.endian();
    for section in file.elf_section_table().iter() {
        let Ok(Some(mut notes)) = section.notes(endian, file.data()) else {
            continue;
        };
        while let Ok(Some(note)) = notes.next() {
            if note.n_type(endian).0 == LINUX_ELFNOTE_BUILD_LTO && note.name() == b"Linux" {
                let desc = note.desc();
                if desc.len() >= 4 {
                    let v = if file.is_little_endian() {
                        u32::from_le_bytes([desc[0], desc[1], desc[2], desc[3]])
                    } else {
                        u32::from_be_bytes([desc[0], desc[1], desc[2], desc[3]])
                    };
                    return v != 0;
                }
            }
        }
    }
    let abbrev = dwarf.debug_abbrev.reader();
    let mut seen = rustc_hash::FxHashSet::default();
    for h in headers {
        let offset = h.debug_abbrev_offset().0;
        if seen.insert(offset) && abbrevs_use_ref_addr(abbrev, offset) {
            return true;
        }
    }
    false
}

/// Whether the abbreviation table at `offset` has an attribute of form
/// `DW_FORM_ref_addr` (a malformed table counts as not).
fn abbrevs_use_ref_addr(section: &R<'_>, offset: usize) -> bool {
    use gimli::Reader;
    let mut r = *section;
    if r.skip(offset).is_err() {
        return false;
    }
    let mut scan = || -> gimli::Result<bool> {
        loop {
            if r.read_uleb128()? == 0 {
                return Ok(false);
            }
            r.read_uleb128()?; // tag
            r.read_u8()?; // children
            loop {
                let name = r.read_uleb128()?;
                let form = r.read_uleb128()?;
                if form == dw::DW_FORM_implicit_const.0 as u64 {
                    r.read_sleb128()?;
                }
                if name == 0 && form == 0 {
                    break;
                }
                if form == dw::DW_FORM_ref_addr.0 as u64 {
                    return Ok(true);
                }
            }
        }
    };
    scan().unwrap_or(false)
}
