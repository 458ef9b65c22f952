//! Putting BTF into ELF files: the third layer, after reading BTF and
//! building it. It replaces the objcopy steps of the kernel build:
//!
//! - a module's `.BTF` (and `.BTF.base`, `.BTF_ids`) added to or replaced
//!   in the `.ko` ([`set_sections`], [`replace_sections_in_file`]), as
//!   Makefile.modfinal/gen-btf.sh do with `objcopy --add-section` and
//!   `resolve_btfids --patch_btfids`;
//! - vmlinux's `.btf.o`, an object holding only an allocated `.BTF` that is
//!   linked into the final image ([`btf_object`]), as gen-btf.sh makes it.
//!
//! Only headers are interpreted ([`elf`]); a rewrite splices section bytes
//! and leaves every other section's bytes and index as they were
//! ([`splice`]), so symbols, relocations and groups need no fixing.

mod btf_object;
mod elf;
mod splice;

use std::path::Path;

pub use btf_object::btf_object;
pub use elf::ElfInfo;
pub use splice::set_sections;

use crate::atomic::write_file_atomic;
use crate::Result;

/// Sets sections of the ELF file at `path` as [`set_sections`] does and
/// replaces the file atomically ([`write_file_atomic`]): a reader, or a
/// crash, sees the old file or the new one. A file that would not change
/// is not written (its modification time stays). Returns whether it was
/// written. Errors name the file.
pub fn replace_sections_in_file(path: &Path, sections: &[(&str, &[u8])]) -> Result<bool> {
    let run = || -> Result<bool> {
        let old = std::fs::read(path)?;
        let new = set_sections(&old, sections)?;
        if new == old {
            return Ok(false);
        }
        write_file_atomic(path, &new)?;
        Ok(true)
    };
    run().map_err(|e| e.in_file(path))
}

#[cfg(test)]
mod tests;
