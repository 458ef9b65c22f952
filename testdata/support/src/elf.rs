//! Reading sections of ELF files in tests.

use std::path::Path;

use object::{Object, ObjectSection};

/// The bytes of section `name` of an ELF file in memory (inflated if
/// compressed), or `None` if the file has no such section.
///
/// # Panics
/// If `elf` is not an ELF file object can read: tests hand it files they made.
pub fn section(elf: &[u8], name: &str) -> Option<Vec<u8>> {
    let file = object::File::parse(elf).expect("an ELF file");
    let section = file.section_by_name(name)?;
    Some(
        section
            .uncompressed_data()
            .expect("the section's data")
            .into_owned(),
    )
}

/// [`section`] of the file at `path`.
pub fn file_section(path: &Path, name: &str) -> Option<Vec<u8>> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    section(&bytes, name)
}

/// Asserts that the file `got` has each section of `names`, equal to the
/// same section of `reference` (made by `oracle`); `what` names the step
/// that made `got`.
pub fn assert_same_sections(
    got: &Path,
    reference: &Path,
    names: &[&str],
    what: &str,
    oracle: &str,
) {
    for name in names {
        let ours = file_section(got, name);
        assert!(ours.is_some(), "{what}: no {name}");
        assert!(
            ours == file_section(reference, name),
            "{what}: {name} differs from {oracle}'s"
        );
    }
}
