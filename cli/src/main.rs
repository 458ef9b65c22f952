//! `kbtf`: encode, dedup, resolve and embed kernel BTF.
//!
//! A thin dispatcher: `main` parses the command line and calls the chosen
//! subcommand's `run`; the work lives in the `kbtf-btf` and `kbtf-btfids`
//! libraries. Front ends that take another tool's command line (`pahole`,
//! `resolve_btfids`, invoked through a symlink of that name) are chosen from
//! `argv[0]` in [`main`] before kbtf's own parser runs.

mod allocator;
mod check;
mod dump;
mod encode;
mod error;
mod gen;
mod ids;
mod pahole;
mod resolve_btfids;
mod threads;

use std::ffi::OsString;
use std::io::Write;
use std::path::Path;
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
    /// Encode an ELF file's DWARF as deduplicated BTF (what `pahole -J` does)
    Encode(encode::Args),
    /// pahole's command line for BTF encoding (also: run kbtf through a symlink named `pahole`)
    #[command(disable_help_flag = true)]
    Pahole(PaholeArgs),
    /// Resolve .BTF_ids like the kernel's resolve_btfids, with its options (idempotent)
    #[command(name = "resolve_btfids", disable_help_flag = true)]
    ResolveBtfids(resolve_btfids::Args),
    /// gen-btf.sh in one process: encode, resolve .BTF_ids, embed (atomic, idempotent; many modules in parallel)
    ///
    /// The flow follows the emulated pahole, KBTF_PAHOLE_VERSION (1.24, 1.30, or 1.32, the
    /// default), whose command line PAHOLE_FLAGS is read as. As 1.24 and 1.30 it is Linux 6.x's
    /// (pahole, then resolve_btfids in place); as 1.32 it is Linux 7.x's gen-btf.sh (pahole,
    /// then resolve_btfids --btf: kfuncs with KF_IMPLICIT_ARGS rewritten, types sorted by name,
    /// ids resolved against that; with --distill_base in RESOLVE_BTFIDS_FLAGS, as for
    /// out-of-tree modules, a distilled .BTF.base too).
    ///
    /// Environment, as gen-btf.sh passes it: PAHOLE_FLAGS (modules: also MODULE_PAHOLE_FLAGS),
    /// RESOLVE_BTFIDS_FLAGS (--fatal_warnings, --distill_base).
    ///
    /// Modules: the base's dedup candidates and string index are kept in a base index, made by
    /// the first process over that vmlinux and mapped by the others (docs/kbuild.md). It lives
    /// in KBTF_BASE_INDEX if that names a directory, else $KBTF_CACHE_DIR/base-index, else
    /// $XDG_CACHE_HOME/kbtf/base-index, else ~/.cache/kbtf/base-index; KBTF_BASE_INDEX=off
    /// prepares the base in memory every time. The output is the same either way; an
    /// unusable index is made again, an unwritable directory only costs the saving
    /// (--verbose says so).
    Gen(gen::Args),
    /// List the BTF_ID symbols of an ELF file: set, id, resolved id, kfunc flags
    Ids(ids::Args),
}

fn main() -> ExitCode {
    allocator::tune();
    // Ctrl-C removes temporary files; a shrinking input is named, not a crash.
    kbtf_btf::signals::install();
    ignore_sigxfsz();
    let mut args: Vec<OsString> = std::env::args_os().collect();
    let invoked_as = args
        .first()
        .and_then(|a| Path::new(a).file_name())
        .map(|n| n.to_string_lossy().into_owned());
    match invoked_as.as_deref() {
        Some("resolve_btfids") => return resolve_btfids::main(args.split_off(1)),
        Some("pahole") => return report(pahole::run(args.split_off(1))),
        _ => {}
    }
    let cli = Cli::parse_from(args);
    let result = match cli.command {
        Command::Dump(args) => dump::run(args),
        Command::Check(args) => check::run(args),
        Command::Encode(args) => encode::run(args),
        Command::Pahole(args) => pahole::run(args.args),
        Command::ResolveBtfids(args) => return resolve_btfids::main(args.args),
        Command::Ids(args) => ids::run(args),
        Command::Gen(args) => gen::run(args),
    };
    report(result)
}

/// A write past the file size limit (`ulimit -f`) kills the process with
/// SIGXFSZ by default, before kbtf can remove its temporary file or say
/// which file failed. Ignored, the write fails with EFBIG instead and is
/// reported like any other write error.
fn ignore_sigxfsz() {
    // SAFETY: setting a signal's disposition to SIG_IGN, before any thread
    // starts, installs no handler code.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// The exit status of a subcommand's result, printing its error.
fn report(result: Result<(), Error>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // A reader that stopped early (`kbtf dump ... | head`) is not an error.
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            // Not eprintln!: it panics (exit 101) when stderr cannot be
            // written, e.g. a file under the same full disk or `ulimit -f`.
            let _ = writeln!(std::io::stderr(), "kbtf: {e}");
            ExitCode::FAILURE
        }
    }
}

/// pahole's arguments, passed through untouched to its own parser.
#[derive(clap::Args)]
struct PaholeArgs {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<OsString>,
}
