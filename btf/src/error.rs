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
    /// Another error, in the file at `path`.
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong in it.
        #[source]
        source: Box<Error>,
    },
    /// Reading or writing failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A part of the blob ends before its header says it does.
    #[error("{what} is truncated: needs {need} bytes at offset {offset}, blob has {len}")]
    Truncated {
        /// Which part.
        what: &'static str,
        /// Where it starts.
        offset: usize,
        /// The bytes it needs.
        need: usize,
        /// The blob's length.
        len: usize,
    },
    /// The blob does not start with BTF's magic number.
    #[error("bad BTF magic {0:#06x} (expected 0xeb9f in either byte order)")]
    BadMagic(u16),
    /// A BTF version other than 1.
    #[error("unsupported BTF version {0}")]
    BadVersion(u8),
    /// Header flags kbtf does not know.
    #[error("unsupported BTF header flags {0:#x}")]
    BadFlags(u8),
    /// A header whose lengths or offsets do not fit together.
    #[error("bad BTF header: {0}")]
    BadHeader(String),
    /// A record of a kind that neither kbtf nor the BTF's kind layout describes.
    #[error("type [{id}] at offset {offset}: kind {kind} is unknown and the BTF has no kind layout for it")]
    UnknownKind {
        /// The type.
        id: TypeId,
        /// Its record's offset in the blob.
        offset: usize,
        /// The raw kind.
        kind: u8,
    },
    /// A record that cannot be read as its kind says.
    #[error("type [{id}] at offset {offset}: {what}")]
    BadType {
        /// The type.
        id: TypeId,
        /// Its record's offset in the blob.
        offset: usize,
        /// What is wrong.
        what: String,
    },
    /// A type that breaks a rule (or that a builder refuses to make).
    #[error("type [{id}]: {what}")]
    Invalid {
        /// The type.
        id: TypeId,
        /// What is wrong.
        what: String,
    },
    /// A reference to a type id past the last one.
    #[error("type [{id}]: refers to type id {target}, but the last type id is {last}")]
    TypeIdOutOfRange {
        /// The referring type.
        id: TypeId,
        /// The id it refers to.
        target: TypeId,
        /// The last type id there is.
        last: u32,
    },
    /// A string offset past the string section.
    #[error("type [{id}]: string offset {off} is outside the string section (ends at {end})")]
    StrOffOutOfRange {
        /// The type.
        id: TypeId,
        /// The offset.
        off: StrOff,
        /// Where the strings end.
        end: u32,
    },
    /// A string section that breaks the rules (first string not empty, last not terminated).
    #[error("string section: {0}")]
    BadStrings(String),
    /// A lookup of a type id that does not exist.
    #[error("type id {0} does not exist")]
    NoSuchType(TypeId),
    /// A lookup of a string offset that does not exist.
    #[error("string offset {0} does not exist")]
    NoSuchString(StrOff),
    /// An ELF file without `.BTF`.
    #[error("no .BTF section in the ELF file")]
    NoBtfSection,
    /// An ELF file that cannot be read or written as asked.
    #[error("ELF: {0}")]
    Elf(String),
    /// DWARF the encoder cannot read, at a `.debug_info` offset.
    #[error("DWARF at .debug_info offset {offset:#x}: {what}")]
    Dwarf {
        /// Where in `.debug_info`.
        offset: u64,
        /// What is wrong.
        what: String,
    },
    /// An operation asked of a BTF that it cannot do on that BTF (libbpf's
    /// `-EINVAL` on an argument), e.g. distilling the base of a BTF that
    /// has no base.
    #[error("{0}")]
    BadArgument(String),
    /// Input past a bound kbtf sets where real input never goes.
    #[error("{0}")]
    Limit(String),
    /// Split BTF whose references do not fit the base it was given. Split
    /// BTF does not name its base, so this is how a wrong base shows.
    #[error("does not fit the base BTF{}: {what}; the base is probably not the one this split BTF was made against", base_name(.base))]
    BaseMismatch {
        /// The base's file, when it was read from one.
        base: Option<PathBuf>,
        /// The reference that does not fit.
        what: String,
    },
}

fn base_name(base: &Option<PathBuf>) -> String {
    match base {
        Some(p) => format!(" {}", p.display()),
        None => String::new(),
    }
}

/// The crate's result type.
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
