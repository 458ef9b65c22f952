//! The one error type of the crate: what went wrong, and where.

use std::path::PathBuf;

use crate::{StrOff, TypeId};

/// Errors from reading, building or writing BTF.
///
/// Offsets are byte offsets into the BTF blob (not the ELF file) unless the
/// variant says otherwise.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("{}: {source}", path.display())]
    File {
        path: PathBuf,
        #[source]
        source: Box<Error>,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{what} is truncated: needs {need} bytes at offset {offset}, blob has {len}")]
    Truncated {
        what: &'static str,
        offset: usize,
        need: usize,
        len: usize,
    },
    #[error("bad BTF magic {0:#06x} (expected 0xeb9f in either byte order)")]
    BadMagic(u16),
    #[error("unsupported BTF version {0}")]
    BadVersion(u8),
    #[error("unsupported BTF header flags {0:#x}")]
    BadFlags(u8),
    #[error("bad BTF header: {0}")]
    BadHeader(String),
    #[error("type [{id}] at offset {offset}: kind {kind} is unknown and the BTF has no kind layout for it")]
    UnknownKind { id: TypeId, offset: usize, kind: u8 },
    #[error("type [{id}] at offset {offset}: {what}")]
    BadType {
        id: TypeId,
        offset: usize,
        what: String,
    },
    #[error("type [{id}]: {what}")]
    Invalid { id: TypeId, what: String },
    #[error("type [{id}]: refers to type id {target}, but the last type id is {last}")]
    TypeIdOutOfRange {
        id: TypeId,
        target: TypeId,
        last: u32,
    },
    #[error("type [{id}]: string offset {off} is outside the string section (ends at {end})")]
    StrOffOutOfRange { id: TypeId, off: StrOff, end: u32 },
    #[error("string section: {0}")]
    BadStrings(String),
    #[error("type id {0} does not exist")]
    NoSuchType(TypeId),
    #[error("string offset {0} does not exist")]
    NoSuchString(StrOff),
    #[error("no .BTF section in the ELF file")]
    NoBtfSection,
    #[error("ELF: {0}")]
    Elf(String),
    /// DWARF the encoder cannot read, at a `.debug_info` offset.
    #[error("DWARF at .debug_info offset {offset:#x}: {what}")]
    Dwarf { offset: u64, what: String },
    #[error("{0}")]
    Limit(String),
    /// Split BTF whose references do not fit the base it was given. Split
    /// BTF does not name its base, so this is how a wrong base shows.
    #[error("does not fit the base BTF{}: {what}; the base is probably not the one this split BTF was made against", base_name(.base))]
    BaseMismatch { base: Option<PathBuf>, what: String },
}

fn base_name(base: &Option<PathBuf>) -> String {
    match base {
        Some(p) => format!(" {}", p.display()),
        None => String::new(),
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Attach the file this error came from.
    pub fn in_file(self, path: impl Into<PathBuf>) -> Error {
        match self {
            e @ Error::File { .. } => e,
            e => Error::File {
                path: path.into(),
                source: Box::new(e),
            },
        }
    }
}

impl From<object::read::Error> for Error {
    fn from(e: object::read::Error) -> Error {
        Error::Elf(e.to_string())
    }
}
