//! `kbtf`: a thin command line over the kbtf crates. Each subcommand lives
//! in its own file with a `run(args) -> Result<(), Error>`. Invoked as
//! `resolve_btfids` (a symlink or copy), it takes upstream's arguments.

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod ids;
mod resolve_btfids;

/// Errors of the command line: the libraries', and usage.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Btf(#[from] kbtf_btf::Error),
    #[error(transparent)]
    Btfids(#[from] kbtf_btfids::Error),
    #[error("{0}")]
    Usage(String),
}

#[derive(Parser)]
#[command(
    name = "kbtf",
    version,
    about = "Encode, dedup, resolve and embed kernel BTF"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Resolve .BTF_ids like the kernel's resolve_btfids, with its options (idempotent)
    #[command(name = "resolve_btfids", disable_help_flag = true)]
    ResolveBtfids(resolve_btfids::Args),
    /// List the BTF_ID symbols of an ELF file: set, id, resolved id, kfunc flags
    Ids(ids::Args),
}

fn main() -> ExitCode {
    let mut argv: Vec<OsString> = std::env::args_os().collect();
    let invoked_as = argv
        .first()
        .and_then(|a| Path::new(a).file_name())
        .map(|n| n.to_string_lossy().into_owned());
    if invoked_as.as_deref() == Some("resolve_btfids") {
        return resolve_btfids::main(argv.split_off(1));
    }
    let cli = Cli::parse_from(argv);
    let result = match cli.command {
        Command::ResolveBtfids(args) => return resolve_btfids::main(args.args),
        Command::Ids(args) => ids::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kbtf: {e}");
            ExitCode::FAILURE
        }
    }
}
