//! Finding BTF in a file: a raw blob (pahole's `--btf_encode_detached`
//! output, `/sys/kernel/btf/*`) or the `.BTF` section of an ELF file
//! (vmlinux, a `.ko`, the BTF-only vmlinux of linux-headers).

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use memmap2::Mmap;
use object::{Object, ObjectSection};

use crate::{Btf, Error, Result};

/// A file's bytes: mapped where the file system allows, read otherwise
/// (sysfs files may refuse mmap).
pub enum FileBytes {
    Mapped(Mmap),
    Read(Vec<u8>),
}

impl std::ops::Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Mapped(m) => m,
            FileBytes::Read(v) => v,
        }
    }
}

impl FileBytes {
    pub fn open(path: &Path) -> std::io::Result<FileBytes> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        if len > 0 {
            // SAFETY: the map is read-only; kbtf replaces files by rename,
            // never by writing into them, so its own writes cannot change it.
            if let Ok(map) = unsafe { Mmap::map(&file) } {
                return Ok(FileBytes::Mapped(map));
            }
        }
        std::fs::read(path).map(FileBytes::Read)
    }
}

/// Whether `bytes` start like an ELF file.
pub fn is_elf(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x7fELF")
}

/// The BTF blob in `bytes`: the bytes themselves, or an ELF file's `.BTF` section.
pub fn btf_blob(bytes: &[u8]) -> Result<std::borrow::Cow<'_, [u8]>> {
    if !is_elf(bytes) {
        return Ok(bytes.into());
    }
    let elf = object::File::parse(bytes)?;
    let section = elf.section_by_name(".BTF").ok_or(Error::NoBtfSection)?;
    Ok(section.uncompressed_data()?)
}

impl Btf {
    /// Reads BTF from a raw blob or an ELF file, as base BTF.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Btf> {
        Btf::from_file_split(path, None)
    }

    /// Reads BTF from a raw blob or an ELF file, as split BTF over `base`
    /// when one is given. Errors name the file.
    pub fn from_file_split(path: impl AsRef<Path>, base: Option<Arc<Btf>>) -> Result<Btf> {
        let path = path.as_ref();
        let read = || -> Result<Btf> {
            let bytes = FileBytes::open(path)?;
            Btf::parse_split(&btf_blob(&bytes)?, base)
        };
        read().map_err(|e| e.in_file(path))
    }
}
