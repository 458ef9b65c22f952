//! What a subcommand can fail with. Every error names the file it is about,
//! so `main` prints it as `kbtf: <file>: <what>`.

use std::io;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// From the libraries, which already name the file.
    #[error(transparent)]
    Btf(#[from] kbtf_btf::Error),
    /// Writing an output (a file, or `<stdout>`).
    #[error("{}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error(transparent)]
    Btfids(#[from] kbtf_btfids::Error),
    #[error("{0}")]
    Usage(String),
    /// The input is wrong in ways already reported on stdout.
    #[error("{0}")]
    Rejected(String),
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

    pub fn is_broken_pipe(&self) -> bool {
        matches!(self, Error::Write { source, .. } if source.kind() == io::ErrorKind::BrokenPipe)
    }
}
