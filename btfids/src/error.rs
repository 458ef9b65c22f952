//! The error type of the crate: what is wrong with the ELF file's `.BTF_ids`, and where.

use std::path::PathBuf;

/// Errors from collecting, resolving or patching `.BTF_ids`.
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
    #[error("ELF: {0}")]
    Elf(String),
    #[error(transparent)]
    Btf(#[from] kbtf_btf::Error),
    #[error("symbol {symbol}: {what}")]
    Symbol { symbol: String, what: String },
    #[error("set {set}: {what}")]
    MalformedSet { set: String, what: String },
    #[error("no section .BTF_ids in the ELF file")]
    NoBtfIdsSection,
    #[error("no symbol table in the ELF file")]
    NoSymtab,
    #[error(".BTF_ids has {section} bytes but the blob {blob}: sizes must match")]
    SizeMismatch { section: u64, blob: u64 },
    #[error(
        "set {set}: symbol {symbol} would move from {from:#x} to {to:#x}, \
         but relocation section {reloc} refers to it"
    )]
    RelocatedSymbol {
        set: String,
        symbol: String,
        from: u64,
        to: u64,
        reloc: String,
    },
    #[error("set {set}: cannot tell which entry belongs to which symbol: {why}")]
    Unrecoverable { set: String, why: String },
    #[error("symbol moves file: {0}")]
    Moves(String),
    #[error("{0} warning(s) and --fatal_warnings given")]
    FatalWarnings(usize),
    /// What [`gen`](crate::gen) was doing: encoding, resolving, writing.
    #[error("{step}: {source}")]
    Step {
        step: &'static str,
        #[source]
        source: Box<Error>,
    },
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
