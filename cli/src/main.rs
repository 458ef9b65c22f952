//! `kbtf`: encode, dedup, resolve and embed kernel BTF.
//!
//! A thin dispatcher: `main` parses the command line and calls the chosen
//! subcommand's `run`; the work lives in the `kbtf-btf` and `kbtf-btfids`
//! libraries. Front ends that take another tool's command line (`pahole`,
//! `resolve_btfids`, invoked through a symlink of that name) are chosen from
//! argv[0] in [`main`] before kbtf's own parser runs.

mod check;
mod dump;
mod error;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use error::Error;

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
    /// Print the types of a BTF file, as `bpftool btf dump file` does
    Dump(dump::Args),
    /// Check BTF against the rules the kernel's BTF loader enforces
    Check(check::Args),
}

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    // argv[0] dispatch for the pahole and resolve_btfids front ends goes here.
    let cli = Cli::parse_from(args);
    let result = match cli.command {
        Command::Dump(args) => dump::run(args),
        Command::Check(args) => check::run(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that stopped early (`kbtf dump ... | head`) is not an error.
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("kbtf: {e}");
            ExitCode::FAILURE
        }
    }
}
