//! `kbtf`: encode, dedup, resolve, embed and check kernel BTF. A thin layer
//! over `kbtf-btf` and `kbtf-btfids`: one module per subcommand, each with a
//! `run(args)`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod check;

#[derive(Parser)]
#[command(
    name = "kbtf",
    version,
    about = "Produce and post-process Linux kernel BTF"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check BTF against the rules the kernel's BTF loader enforces.
    Check(check::Args),
}

/// Why a subcommand failed; printed as `kbtf: <error>`, exit status 1.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Btf(#[from] kbtf_btf::Error),
    /// The input is wrong in ways already reported on stdout.
    #[error("{0}")]
    Rejected(String),
    #[error("{0}")]
    Other(String),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Check(args) => check::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kbtf: {e}");
            ExitCode::FAILURE
        }
    }
}
