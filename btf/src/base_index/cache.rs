//! Finding a base's index in a cache directory, and making it when it is
//! missing or unusable.
//!
//! The file's name is the base's [`BaseKey`] (see [`BaseKey::file_name`]),
//! so a changed vmlinux finds no index and makes its own; the old one stays
//! until someone clears the directory. Creation writes a temporary file
//! beside the final name and renames it
//! ([`crate::atomic::write_file_atomic`]): processes creating the same index
//! at once (`make -j`) each write a whole file, the last rename wins, and a
//! reader sees some whole file or none. A reader checks what it maps
//! ([`BaseIndex::open`]), so a truncated, corrupt or stale file is made
//! again. Nothing here is an error: a directory that cannot be made or
//! written (read-only, full, a file in the way) leaves the index in memory
//! for this process, and the outcome says why for a verbose line.

use std::path::{Path, PathBuf};

use super::{BaseIndex, BaseKey, Rejected, Unopened};
use crate::input::{btf_blob, FileBytes};
use crate::{Btf, Error, Result};

/// What [`load`] did about the index, for a verbose line.
#[derive(Debug)]
pub enum Outcome {
    /// The index at this path was valid and is in use.
    Used(PathBuf),
    /// There was none (or an unusable one, and why); one was made and saved.
    Created(PathBuf, Option<Rejected>),
    /// One was made for this process but not saved there, and why.
    NotSaved(PathBuf, String),
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Outcome::Used(p) => write!(f, "base index {}: used", p.display()),
            Outcome::Created(p, None) => write!(f, "base index {}: created", p.display()),
            Outcome::Created(p, Some(why)) => {
                write!(f, "base index {}: {why}; made again", p.display())
            }
            Outcome::NotSaved(p, why) => {
                write!(
                    f,
                    "base index {}: not saved ({why}); used in memory",
                    p.display()
                )
            }
        }
    }
}

/// A base read with its index: from `dir` when a valid one is there, else
/// made now (and saved there when the directory allows).
pub struct Loaded {
    /// The index, holding the base.
    pub index: BaseIndex,
    /// What happened to the file.
    pub outcome: Outcome,
}

/// Reads the base BTF of `vmlinux` (an ELF file or a raw blob, as
/// [`Btf::from_file`] does) with its index from `dir`. Errors are the
/// base's own (unreadable, not BTF); the index never causes one.
pub fn load(vmlinux: &Path, dir: &Path) -> Result<Loaded> {
    let bytes = FileBytes::open(vmlinux).map_err(|e| Error::from(e).in_file(vmlinux))?;
    let blob = btf_blob(&bytes).map_err(|e| e.in_file(vmlinux))?;
    let key = BaseKey::of(&blob);
    let path = dir.join(key.file_name());
    let rejected = match FileBytes::open(&path) {
        Ok(data) => match BaseIndex::open_blob(data, &blob, &key, Some(vmlinux)) {
            Ok(index) => {
                let outcome = Outcome::Used(path);
                return Ok(Loaded { index, outcome });
            }
            Err(why) => Some(why),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        // A directory or an unreadable file at the name: making one fails
        // to save too, and says why.
        Err(_) => Some(Rejected("unreadable")),
    };
    let mut btf = Btf::parse(&blob).map_err(|e| e.in_file(vmlinux))?;
    btf.source = Some(vmlinux.into());
    let bytes = BaseIndex::build(&btf, &key);
    let outcome = match save(dir, &path, &bytes) {
        Ok(()) => Outcome::Created(path, rejected),
        Err(e) => Outcome::NotSaved(path, e.to_string()),
    };
    match BaseIndex::open(FileBytes::Read(bytes), btf, &key) {
        Ok(index) => Ok(Loaded { index, outcome }),
        // What `build` made, `open` accepts; were it not so, the index
        // would be a bug to report, not a reason to guess.
        Err(Unopened { why, .. }) => Err(Error::Io(std::io::Error::other(format!(
            "kbtf made a base index it then refused ({why})"
        )))),
    }
}

fn save(dir: &Path, path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::from(e).in_file(dir))?;
    crate::atomic::write_file_atomic(path, bytes)
}
