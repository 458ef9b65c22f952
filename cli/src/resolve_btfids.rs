//! `resolve_btfids`: a drop-in for the kernel's tool, with its option
//! syntax (tools/lib/subcmd parse-options: options before the one ELF
//! argument, `-b F`/`-bF`, `--btf_base F`/`--btf_base=F`, unique prefixes of
//! long options, `-vv`), its outputs and its exit codes (129 for usage,
//! 255 for failure).
//!
//! - Without `--btf` (Makefile.modfinal of 6.12: `resolve_btfids -b vmlinux X.ko`,
//!   link-vmlinux.sh: `resolve_btfids vmlinux`): resolve the file's `.BTF_ids`
//!   against its own `.BTF`, in place and atomically.
//! - With `--btf F` (gen-btf.sh of 7.x): leave the ELF file alone, apply
//!   7.x's BTF transform to F (kfuncs with `KF_IMPLICIT_ARGS` rewritten,
//!   types sorted by name: [`kbtf_btfids::btf2btf`]) and write `ELF.BTF`
//!   (that BTF) and `ELF.BTF_ids` (the section resolved against it, as
//!   upstream's bytes), plus `ELF.BTF_ids.moves` when member symbols must
//!   move with their entries. With `--distill_base` and `--btf_base` (an
//!   out-of-tree module), the BTF moves onto its distilled base before the
//!   sort, and that base is written as `ELF.BTF.base`.
//!   `--fatal_warnings` fails the run (255) after the outputs are written.
//!   (resolve_btfids 7.2 means to, but its exit code is overwritten by the
//!   last write's, so it exits 0 with warnings: kbtf keeps the option's meaning.)
//! - `--patch_btfids F ELF`: copy F into `.BTF_ids`, atomically, and apply
//!   `F.moves` if kbtf left one for that blob (removed then for a module,
//!   whose blob gen-btf.sh removes next).
//!
//! What each mode reads and gives is [`kbtf_btfids::workflow`]'s; here the
//! options are parsed, the files read, the outputs written (atomically) and
//! the messages printed.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use kbtf_btf::atomic::{patch_file_atomic, write_file_atomic};
use kbtf_btf::input::FileBytes;
use kbtf_btfids::workflow::{self, Base};
use kbtf_btfids::Error as IdsError;

use crate::Error;

/// The arguments after `kbtf resolve_btfids`, parsed by hand (upstream's syntax is not clap's).
#[derive(clap::Args)]
pub struct Args {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    pub args: Vec<OsString>,
}

const USAGE: &str = "\
 Usage: resolve_btfids [<options>] <ELF object>
    or: resolve_btfids --patch_btfids <.BTF_ids file> <ELF object>

    -v, --verbose         be more verbose (show errors, etc)
        --btf <file>      input BTF data
    -b, --btf_base <file>
                          path of file providing base BTF
        --fatal_warnings  turn warnings into errors
        --distill_base    distill --btf_base and emit .BTF.base section data
        --patch_btfids <file>
                          replace .BTF_ids section with data from file
";

/// Upstream's options.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub verbose: u32,
    pub btf: Option<PathBuf>,
    pub btf_base: Option<PathBuf>,
    pub fatal_warnings: bool,
    pub distill_base: bool,
    pub patch_btfids: Option<PathBuf>,
    pub elf: PathBuf,
}

/// Why parsing stopped: a usage error, or `-h`.
#[derive(Debug, PartialEq, Eq)]
pub enum ParseStop {
    Help,
    Usage(String),
}

const LONG: [(&str, bool); 6] = [
    ("verbose", false),
    ("btf", true),
    ("btf_base", true),
    ("fatal_warnings", false),
    ("distill_base", false),
    ("patch_btfids", true),
];

/// Parses upstream's command line (without the program name).
pub fn parse(args: &[OsString]) -> Result<Options, ParseStop> {
    let mut o = Options::default();
    let mut it = args.iter();
    let mut positional: Vec<PathBuf> = Vec::new();
    let usage = |m: String| ParseStop::Usage(m);
    while let Some(arg) = it.next() {
        let s = arg.to_string_lossy();
        if s == "--" {
            positional.extend(it.by_ref().map(PathBuf::from));
            break;
        }
        if let Some(long) = s.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(OsString::from(v))),
                None => (long, None),
            };
            if name == "help" {
                return Err(ParseStop::Help);
            }
            // An exact name wins; else a unique prefix, as parse-options allows.
            let matches: Vec<_> = LONG.iter().filter(|(l, _)| l.starts_with(name)).collect();
            let &(full, takes_value) = LONG
                .iter()
                .find(|(l, _)| *l == name)
                .or_else(|| (matches.len() == 1).then(|| matches[0]))
                .ok_or_else(|| {
                    usage(if matches.is_empty() {
                        format!("unknown option `{name}'")
                    } else {
                        format!("ambiguous option: {name}")
                    })
                })?;
            let value = if takes_value {
                Some(match inline {
                    Some(v) => v,
                    None => it
                        .next()
                        .cloned()
                        .ok_or_else(|| usage(format!("option `{full}' requires a value")))?,
                })
            } else if inline.is_some() {
                return Err(usage(format!("option `{full}' takes no value")));
            } else {
                None
            };
            let path = || PathBuf::from(value.clone().unwrap_or_default());
            match full {
                "verbose" => o.verbose += 1,
                "btf" => o.btf = Some(path()),
                "btf_base" => o.btf_base = Some(path()),
                "fatal_warnings" => o.fatal_warnings = true,
                "distill_base" => o.distill_base = true,
                _ => o.patch_btfids = Some(path()),
            }
            continue;
        }
        if let Some(shorts) = s.strip_prefix('-').filter(|r| !r.is_empty()) {
            for (i, c) in shorts.char_indices() {
                match c {
                    'v' => o.verbose += 1,
                    'h' => return Err(ParseStop::Help),
                    'b' => {
                        let rest = &shorts[i + 1..];
                        o.btf_base = Some(if rest.is_empty() {
                            PathBuf::from(
                                it.next()
                                    .ok_or_else(|| usage("switch `b' requires a value".into()))?,
                            )
                        } else {
                            PathBuf::from(rest)
                        });
                        break;
                    }
                    c => return Err(usage(format!("unknown switch `{c}'"))),
                }
            }
            continue;
        }
        // Options stop at the first non-option.
        positional.push(PathBuf::from(arg));
        positional.extend(it.by_ref().map(PathBuf::from));
        break;
    }
    if positional.len() != 1 {
        return Err(usage(String::new()));
    }
    o.elf = positional.remove(0);
    Ok(o)
}

/// Parses, runs and reports like upstream: usage 129, failure 255.
pub fn main(args: Vec<OsString>) -> ExitCode {
    let opts = match parse(&args) {
        Ok(o) => o,
        Err(ParseStop::Help) => {
            print!("\n{USAGE}\n");
            return ExitCode::from(129);
        }
        Err(ParseStop::Usage(msg)) => {
            if !msg.is_empty() {
                eprintln!(" Error: {msg}");
            }
            eprint!("\n{USAGE}\n");
            return ExitCode::from(129);
        }
    };
    match run(&opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Not eprintln!, which panics when stderr cannot be written.
            let _ = writeln!(std::io::stderr(), "FAILED: {e}");
            ExitCode::from(255)
        }
    }
}

/// Where an in-place rewrite goes: through symlinks, as upstream's writes
/// into the open file do (an atomic rename would replace the link instead).
fn in_place_target(elf: &Path) -> Result<PathBuf, Error> {
    Ok(std::fs::canonicalize(elf).map_err(|e| IdsError::from(e).in_file(elf))?)
}

/// Runs resolve_btfids with parsed options: reads the files, runs the mode
/// ([`kbtf_btfids::workflow`]), writes what it gives and reports.
pub fn run(o: &Options) -> Result<(), Error> {
    if let Some(blob_path) = &o.patch_btfids {
        let blob = kbtf_btf::input::read_file(blob_path)
            .map_err(|e| IdsError::from(e).in_file(blob_path))?;
        let data = FileBytes::open(&o.elf).map_err(|e| IdsError::from(e).in_file(&o.elf))?;
        // Symbol moves kbtf's --btf run left beside the blob.
        let moves_path = workflow::moves_path(blob_path);
        let moves = std::fs::read_to_string(&moves_path).ok();
        let out = workflow::patch_btfids(&o.elf, &data, blob_path, &blob, moves.as_deref())?;
        write_file_atomic(&in_place_target(&o.elf)?, &out)?;
        // gen-btf.sh removes a module's blob after this step, and its moves
        // go with it; a vmlinux's both stay for link-vmlinux.sh's patch of
        // the final image.
        let linked = || kbtf_btfids::IdsElf::parse(&data).is_ok_and(|ids| ids.is_linked);
        if moves.is_some() && !linked() {
            std::fs::remove_file(&moves_path)
                .map_err(|e| IdsError::from(e).in_file(&moves_path))?;
        }
        return Ok(());
    }
    if o.distill_base && o.btf.is_none() {
        return Err(Error::Usage(
            "--distill_base goes with --btf (Linux 7.x's gen-btf.sh); the in-place mode does not distill".into(),
        ));
    }
    let data = FileBytes::open(&o.elf).map_err(|e| IdsError::from(e).in_file(&o.elf))?;
    let ids = workflow::ids_elf(&data).map_err(|e| e.in_file(&o.elf))?;
    if ids.is_none() && o.verbose > 0 {
        eprintln!("Cannot find .BTF_ids or symbols sections, skip symbols resolution");
    }
    let base_file = match &o.btf_base {
        Some(b) => Some(FileBytes::open(b).map_err(|e| IdsError::from(e).in_file(b))?),
        None => None,
    };
    let base = o
        .btf_base
        .as_deref()
        .zip(base_file.as_deref())
        .map(|(path, bytes)| Base { path, bytes });

    match &o.btf {
        None => {
            let Some(done) = workflow::in_place(&o.elf, &data, ids.as_ref(), base)? else {
                return Ok(());
            };
            let warned = report(o, &done.outcome);
            if o.fatal_warnings && warned > 0 {
                return Err(IdsError::FatalWarnings(warned).into());
            }
            if done.patches.is_empty() {
                return Ok(());
            }
            // Patch a kernel-made copy rather than copying the file through
            // memory: a vmlinux is hundreds of megabytes.
            let patches: Vec<(u64, &[u8])> =
                done.patches.iter().map(|(o, b)| (*o, &b[..])).collect();
            patch_file_atomic(&in_place_target(&o.elf)?, &patches)?;
        }
        Some(btf_path) => {
            // Opened here, read (or its error reported) after the base.
            let btf = FileBytes::open(btf_path);
            let out = workflow::btf_mode(
                &o.elf,
                &data,
                ids.as_ref(),
                base,
                btf_path,
                btf,
                o.distill_base,
            )?;
            if o.verbose > 0 {
                for k in &out.btf2btf.rewritten {
                    eprintln!("resolve_btfids: updated BTF for kfunc with implicit args {k}");
                }
            }
            let warned = out
                .btf2btf
                .btf_ids
                .as_ref()
                .map_or(0, |outcome| report(o, outcome));
            for (path, contents) in out.files(&o.elf) {
                match contents {
                    Some(bytes) => write_file_atomic(&path, bytes)?,
                    None => {
                        let _ = std::fs::remove_file(&path);
                    }
                }
            }
            // The outputs are written first, as upstream writes them.
            if o.fatal_warnings && warned > 0 {
                return Err(IdsError::FatalWarnings(warned).into());
            }
        }
    }
    Ok(())
}

/// Prints upstream's warnings (and kbtf's notes and moves with `-v`);
/// returns how many warnings there were.
fn report(o: &Options, outcome: &kbtf_btfids::Outcome) -> usize {
    for w in &outcome.warnings {
        eprintln!("WARN: {w}");
    }
    if o.verbose > 0 {
        for n in &outcome.notes {
            eprintln!("{n}");
        }
        for m in &outcome.moves {
            eprintln!("moving {} from {:#x} to {:#x}", m.name, m.from, m.to);
        }
    }
    outcome.warnings.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Options, ParseStop> {
        parse(&args.iter().map(OsString::from).collect::<Vec<_>>())
    }

    #[test]
    fn upstream_spellings() {
        let o = p(&["-b", "vmlinux", "x.ko"]).unwrap();
        assert_eq!(o.btf_base, Some("vmlinux".into()));
        assert_eq!(o.elf, PathBuf::from("x.ko"));
        let o = p(&[
            "-bvmlinux",
            "-vv",
            "--btf=x.BTF.1",
            "--fatal_warnings",
            "x.ko",
        ])
        .unwrap();
        assert_eq!((o.btf_base, o.verbose), (Some("vmlinux".into()), 2));
        assert_eq!(o.btf, Some("x.BTF.1".into()));
        assert!(o.fatal_warnings);
        let o = p(&["--btf_base", "v", "--btf", "b", "x"]).unwrap();
        assert_eq!((o.btf_base, o.btf), (Some("v".into()), Some("b".into())));
        let o = p(&["--patch", "ids", "vmlinux"]).unwrap();
        assert_eq!(o.patch_btfids, Some("ids".into()));
        assert_eq!(
            p(&["--verbose", "--", "-odd"]).unwrap().elf,
            PathBuf::from("-odd")
        );
    }

    #[test]
    fn usage_errors() {
        assert!(matches!(p(&[]), Err(ParseStop::Usage(_))));
        assert!(matches!(p(&["a", "b"]), Err(ParseStop::Usage(_))));
        // Options stop at the first non-option: "-v" is a second argument.
        assert!(matches!(p(&["x.ko", "-v"]), Err(ParseStop::Usage(_))));
        assert!(matches!(p(&["--nope", "x"]), Err(ParseStop::Usage(_))));
        assert!(matches!(p(&["--btf_base"]), Err(ParseStop::Usage(_))));
        assert!(matches!(p(&["-x", "f"]), Err(ParseStop::Usage(_))));
        assert_eq!(p(&["-h"]), Err(ParseStop::Help));
    }
}
