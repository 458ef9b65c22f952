//! What a subcommand can fail with. Every error names the file it is about,
//! so `main` prints it as `kbtf: <file>: <what>`.

use std::io;
use std::path::PathBuf;

/// A failed subcommand, printed by `main` as one line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// From kbtf-btf, which already names the file.
    #[error(transparent)]
    Btf(#[from] kbtf_btf::Error),
    /// Writing an output (a file, or `<stdout>`).
    #[error("{}: {source}", path.display())]
    Write {
        /// The output.
        path: PathBuf,
        /// What the write returned.
        source: io::Error,
    },
    /// From kbtf-btfids, which already names the file.
    #[error(transparent)]
    Btfids(#[from] kbtf_btfids::Error),
    /// The command line (or an environment variable it reads) is wrong.
    #[error("{0}")]
    Usage(String),
    /// The input is wrong in ways already reported on stdout.
    #[error("{0}")]
    Rejected(String),
    /// Anything else, said in full.
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// Writing standard output when the reader has gone.
    pub fn stdout(source: io::Error) -> Error {
        Error::Write {
            path: "<stdout>".into(),
            source,
        }
    }

    /// Whether this is a write to a reader that has gone (`kbtf dump | head`),
    /// which is not an error.
    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Write { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
    }
}
