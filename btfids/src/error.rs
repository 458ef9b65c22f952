//! The error type of the crate: what is wrong with the ELF file's `.BTF_ids`, and where.

use std::path::PathBuf;

/// Errors from collecting, resolving or patching `.BTF_ids`.
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
    /// An ELF file that cannot be read or written as asked.
    #[error("ELF: {0}")]
    Elf(String),
    /// The BTF to resolve against is bad.
    #[error(transparent)]
    Btf(#[from] kbtf_btf::Error),
    /// A `__BTF_ID__` symbol that cannot be used.
    #[error("symbol {symbol}: {what}")]
    Symbol {
        /// The symbol.
        symbol: String,
        /// What is wrong with it.
        what: String,
    },
    /// A set or set8 whose layout is broken.
    #[error("set {set}: {what}")]
    MalformedSet {
        /// The set's name.
        set: String,
        /// What is wrong with it.
        what: String,
    },
    /// An ELF file without `.BTF_ids`.
    #[error("no section .BTF_ids in the ELF file")]
    NoBtfIdsSection,
    /// An ELF file without a symbol table.
    #[error("no symbol table in the ELF file")]
    NoSymtab,
    /// A `.BTF_ids` blob given to patch in that is not the section's size.
    #[error(".BTF_ids has {section} bytes but the blob {blob}: sizes must match")]
    SizeMismatch {
        /// The section's size.
        section: u64,
        /// The blob's size.
        blob: u64,
    },
    /// Sorting a set would move a symbol that a relocation refers to.
    #[error(
        "set {set}: symbol {symbol} would move from {from:#x} to {to:#x}, \
         but relocation section {reloc} refers to it"
    )]
    RelocatedSymbol {
        /// The set.
        set: String,
        /// The symbol.
        symbol: String,
        /// Its offset before the sort.
        from: u64,
        /// Its offset after.
        to: u64,
        /// The relocation section that refers to it.
        reloc: String,
    },
    /// A processed set whose entries cannot be matched to their symbols again.
    #[error("set {set}: cannot tell which entry belongs to which symbol: {why}")]
    Unrecoverable {
        /// The set.
        set: String,
        /// Why not.
        why: String,
    },
    /// A kfunc whose BTF cannot be rewritten as its flags ask.
    #[error("kfunc {name}: {what}")]
    Kfunc {
        /// The kfunc's name.
        name: String,
        /// What is wrong.
        what: String,
    },
    /// A bad symbol moves file.
    #[error("symbol moves file: {0}")]
    Moves(String),
    /// Warnings were given, and `--fatal_warnings` makes them errors.
    #[error("{0} warning(s) and --fatal_warnings given")]
    FatalWarnings(usize),
    /// What [`gen`](crate::gen) was doing: encoding, resolving, writing.
    #[error("{step}: {source}")]
    Step {
        /// The step.
        step: &'static str,
        /// What went wrong in it.
        #[source]
        source: Box<Error>,
    },
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
