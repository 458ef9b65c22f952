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
//! Only headers are interpreted (`elf.rs`); a rewrite splices section bytes
//! and leaves every other section's bytes and index as they were
//! (`splice.rs`), so symbols, relocations and groups need no fixing.
//!
//! What the kernel's tools produce, and where kbtf differs:
//! - A module's `.BTF` is SHT_PROGBITS with no flags and alignment 1: pahole
//!   1.24 (`-J` without `--btf_encode_detached`) runs `$LLVM_OBJCOPY
//!   --add-section .BTF=...`, which Makefile.modfinal points at GNU objcopy;
//!   gen-btf.sh runs objcopy itself. BFD then rewrites the whole file: the
//!   new header goes before `.symtab` (renumbering the symbol and string
//!   tables) and every section is laid out again. kbtf appends the header
//!   after the last one and puts the data where the section header table
//!   was, so no index changes; the section's header and bytes are the same.
//! - When the section exists, pahole replaced it through libelf and
//!   resolve_btfids `--patch_btfids` writes `.BTF_ids` in place; kbtf writes
//!   same-size sections in place too, so writing a module's own `.BTF` back
//!   gives the file unchanged.
//! - vmlinux's `.btf.o` is byte for byte what gen-btf.sh's `gcc -c` +
//!   `objcopy --set-section-flags .BTF=alloc,readonly` + `objcopy
//!   --only-section=.BTF --strip-all` make for the same machine.

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
        let old = crate::input::read_file(path)?;
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
