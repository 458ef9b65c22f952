//! Whether a file's DWARF must be walked as one merged unit: pahole does
//! so for LTO builds, whose units refer into each other.

use object::read::elf::{ElfFile, FileHeader, SectionHeader};
use object::Object;

/// pahole merges all units into one when the kernel was built with LTO
/// (a `Linux` note of type 0x101 that says so) or any unit refers across
/// units (`DW_FORM_ref_addr`).
/// `uses_ref_addr` comes from the abbreviation scan (`abbrev`).
pub(super) fn merged_dwarf<H: FileHeader>(file: &ElfFile<'_, H>, uses_ref_addr: bool) -> bool {
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
    uses_ref_addr
}
