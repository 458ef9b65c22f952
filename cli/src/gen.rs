//! `kbtf gen [--btf_base VMLINUX] ELF...`: the kernel's gen-btf.sh in one
//! process (the work is `kbtf_btfids::gen`; this file reads options, files
//! and make's jobserver, and writes results).
//!
//! - With `--btf_base`, each ELF is a module: its `.BTF` and `.BTF_ids` are
//!   replaced in one atomic rewrite, and a module that would not change is
//!   not written. Many modules share one loaded base and run in parallel,
//!   taking a token from make's jobserver for each module beyond the first.
//!   The base comes with its index ([`kbtf_btf::base_index`]), mapped from
//!   the cache directory [`index_dir`] names, or made and saved there.
//! - Without it, the one ELF is a vmlinux, left as it is: `ELF.btf.o` and
//!   `ELF.BTF_ids` are written for link-vmlinux.sh.
//!
//! The encoding follows `PAHOLE_FLAGS` (and for modules `MODULE_PAHOLE_FLAGS`,
//! as 6.12's Makefile.modfinal adds) and the resolving `RESOLVE_BTFIDS_FLAGS`
//! from the environment, as gen-btf.sh passes them; without `PAHOLE_FLAGS`
//! the encoding is what Linux 6.x asks of pahole 1.24. Encoding as pahole
//! 1.32 (`KBTF_PAHOLE_VERSION=1.32`, or a 1.32 `PAHOLE_FLAGS`) is Linux
//! 7.x's gen-btf.sh: resolve_btfids `--btf`'s transform of the BTF
//! ([`kbtf_btfids::btf2btf`]) comes before the resolving and the embedding.

use std::ffi::OsString;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use kbtf_btf::atomic::write_file_atomic;
use kbtf_btf::base_index::cache;
use kbtf_btf::dedup::BaseCandidates;
use kbtf_btf::encode::EncodeOptions;
use kbtf_btf::Btf;
use kbtf_btfids::gen::{gen_module, gen_vmlinux, GenOptions};
use kbtf_btfids::Error as IdsError;

use crate::Error;

#[derive(clap::Args)]
pub struct Args {
    /// The vmlinux whose BTF the modules' split BTF refers to: module mode
    #[arg(long = "btf_base", visible_alias = "btf-base", value_name = "VMLINUX")]
    btf_base: Option<PathBuf>,
    /// Modules at once (default: one per CPU, within what make's jobserver grants;
    /// one under make without -j); for a single file, its encoding threads
    #[arg(short, long, value_name = "N")]
    jobs: Option<usize>,
    /// Turn unresolved .BTF_ids symbols into errors (resolve_btfids --fatal_warnings)
    #[arg(long = "fatal_warnings", visible_alias = "fatal-warnings")]
    fatal_warnings: bool,
    /// Say which stale sets were repaired
    #[arg(short, long)]
    verbose: bool,
    /// No progress bar, even on a terminal
    #[arg(long)]
    no_progress: bool,
    /// A vmlinux, or (with --btf_base) modules
    #[arg(required = true, value_name = "ELF")]
    files: Vec<PathBuf>,
}

/// A file that failed, and how.
type Failure = (PathBuf, Error);

pub fn run(args: Args) -> Result<(), Error> {
    let opts = options_from_env(&args)?;
    let Some(base_path) = &args.btf_base else {
        let [elf] = args.files.as_slice() else {
            return Err(Error::Usage(
                "without --btf_base, kbtf gen takes one vmlinux".into(),
            ));
        };
        return crate::threads::with_threads(args.jobs, || vmlinux(elf, &opts, args.verbose));
    };
    crate::allocator::no_huge_pages();
    let base = match index_dir() {
        Some(dir) => {
            let loaded = cache::load(base_path, &dir)?;
            if args.verbose {
                eprintln!("{}", loaded.outcome);
            }
            BaseCandidates::from_index(&loaded.index)
        }
        None => prepare_base(base_path, args.files.len() == 1, args.jobs)?,
    };
    if let [ko] = args.files.as_slice() {
        // One module: its encoding may use every thread.
        return crate::threads::with_threads(args.jobs, || module(ko, &base, &opts, args.verbose));
    }
    let failures = batch(&args, &base, &opts);
    match failures.len() {
        0 => Ok(()),
        n => {
            for (_, e) in &failures {
                eprintln!("kbtf: {e}");
            }
            Err(Error::Other(format!(
                "gen failed for {n} of {} files",
                args.files.len()
            )))
        }
    }
}

/// Where base indexes live (see `kbtf gen --help`), or `None` to prepare
/// the base in memory.
fn index_dir() -> Option<PathBuf> {
    let var = |name| std::env::var_os(name).filter(|v| !v.is_empty());
    match var("KBTF_BASE_INDEX") {
        Some(v) if ["off", "0", "no", "false"].iter().any(|off| v == *off) => return None,
        Some(dir) => return Some(dir.into()),
        None => {}
    }
    if let Some(dir) = var("KBTF_CACHE_DIR") {
        return Some(PathBuf::from(dir).join("base-index"));
    }
    // XDG: a relative XDG_CACHE_HOME is to be ignored.
    let xdg = var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|d| d.is_absolute());
    let cache = xdg.or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(cache.join("kbtf").join("base-index"))
}

/// The base without an index (`KBTF_BASE_INDEX=off`), read once for all
/// the modules, with its dedup candidates and (on a second thread when
/// `-j` allows) the index of its strings, which
/// encoding looks every name up in: the two are most of a small module's
/// work. `one`: a single module, whose dedup may take the candidates
/// rather than copy them.
fn prepare_base(path: &Path, one: bool, jobs: Option<usize>) -> Result<BaseCandidates, Error> {
    let btf = Arc::new(Btf::from_file(path)?);
    let candidates = || match one {
        true => BaseCandidates::new_for_one(btf.clone()),
        false => BaseCandidates::new(btf.clone()),
    };
    if crate::threads::thread_count(jobs) < 2 {
        return Ok(candidates());
    }
    Ok(std::thread::scope(|s| {
        // Without the thread, the first lookup builds the index.
        let _ = std::thread::Builder::new().spawn_scoped(s, || btf.index_strings());
        candidates()
    }))
}

/// gen-btf.sh's environment and kbtf's options.
fn options_from_env(args: &Args) -> Result<GenOptions, Error> {
    let module_flags = match args.btf_base {
        Some(_) => std::env::var("MODULE_PAHOLE_FLAGS").unwrap_or_default(),
        None => String::new(),
    };
    let encode = match std::env::var("PAHOLE_FLAGS") {
        Ok(flags) => {
            let argv = std::iter::once("-J")
                .chain(flags.split_whitespace())
                .chain(module_flags.split_whitespace());
            let parsed = crate::pahole::parse(argv.map(OsString::from))
                .map_err(|e| Error::Usage(format!("PAHOLE_FLAGS: {e}")))?;
            if let Some(f) = parsed.file.or(parsed.base).or(parsed.detached) {
                return Err(Error::Usage(format!(
                    "PAHOLE_FLAGS: {} is for gen to choose",
                    f.display()
                )));
            }
            parsed.opts
        }
        Err(_) => EncodeOptions::kernel_for(crate::pahole::version_from_env()?),
    };
    // pahole 1.32 goes with Linux 7.x's gen-btf.sh, whose resolve_btfids
    // --btf rewrites the BTF (kfunc _impl prototypes, types sorted by name)
    // before it is embedded.
    let btf2btf = encode.version >= kbtf_btf::encode::PaholeVersion::V1_32;
    let mut fatal_warnings = args.fatal_warnings;
    let mut distill_base = false;
    if let Ok(flags) = std::env::var("RESOLVE_BTFIDS_FLAGS") {
        let argv = flags.split_whitespace().chain(std::iter::once("ELF"));
        let parsed = crate::resolve_btfids::parse(&argv.map(OsString::from).collect::<Vec<_>>())
            .map_err(|e| match e {
                crate::resolve_btfids::ParseStop::Usage(m) => {
                    Error::Usage(format!("RESOLVE_BTFIDS_FLAGS: {m}"))
                }
                crate::resolve_btfids::ParseStop::Help => {
                    Error::Usage("RESOLVE_BTFIDS_FLAGS: -h is not a flag for gen".into())
                }
            })?;
        if parsed.distill_base && !btf2btf {
            // Linux 6.x distills in pahole (--btf_features=distilled_base).
            return Err(Error::Usage(
                "RESOLVE_BTFIDS_FLAGS: --distill_base belongs to Linux 7.x's resolve_btfids (pahole 1.32); this run emulates an older pahole".into(),
            ));
        }
        distill_base = parsed.distill_base;
        fatal_warnings |= parsed.fatal_warnings;
    }
    Ok(GenOptions {
        encode,
        fatal_warnings,
        btf2btf,
        distill_base,
    })
}

fn print_messages(path: &Path, warnings: &[String], notes: &[String], verbose: bool) {
    for w in warnings {
        eprintln!("WARN: {}: {w}", path.display());
    }
    if verbose {
        for n in notes {
            eprintln!("{}: {n}", path.display());
        }
    }
}

fn in_file(e: IdsError, path: &Path) -> Error {
    e.in_file(path).into()
}

/// One module, rewritten in place when anything changed.
fn module(
    path: &Path,
    base: &BaseCandidates,
    opts: &GenOptions,
    verbose: bool,
) -> Result<(), Error> {
    let bytes = kbtf_btf::input::read_file(path).map_err(|e| in_file(e.into(), path))?;
    let out = gen_module(&bytes, base, opts).map_err(|e| in_file(e, path))?;
    print_messages(path, &out.warnings, &out.notes, verbose);
    if out.changed {
        write_file_atomic(path, &out.bytes)?;
    }
    Ok(())
}

/// A vmlinux: `ELF.btf.o`, `ELF.BTF_ids` (and its moves) beside it.
fn vmlinux(path: &Path, opts: &GenOptions, verbose: bool) -> Result<(), Error> {
    let bytes = kbtf_btf::input::FileBytes::open(path).map_err(|e| in_file(e.into(), path))?;
    let out = gen_vmlinux(&bytes, opts).map_err(|e| in_file(e, path))?;
    print_messages(path, &out.warnings, &out.notes, verbose);
    for (file, contents) in out.files(path) {
        match contents {
            Some(bytes) => write_file_atomic(&file, bytes)?,
            None => match std::fs::remove_file(&file) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(in_file(e.into(), &file))
                }
                _ => {}
            },
        }
    }
    Ok(())
}

/// Many modules over one base. Each worker handles one module at a time
/// on a single thread; every worker but the first holds a jobserver token
/// while it works, so kbtf under `make -jN` uses at most N threads.
fn batch(args: &Args, base: &BaseCandidates, opts: &GenOptions) -> Vec<Failure> {
    // SAFETY: called once, before any file is opened, so the descriptors
    // MAKEFLAGS names are still the ones make passed.
    let client = unsafe { jobserver::Client::from_env() };
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    // Under make without -j (no jobserver), one module at a time, as make would.
    let under_serial_make = client.is_none() && std::env::var_os("MAKEFLAGS").is_some();
    let default = if under_serial_make { 1 } else { cpus };
    let workers =
        crate::threads::thread_count(Some(args.jobs.unwrap_or(default))).min(args.files.len());
    let bar = (!args.no_progress && std::io::stderr().is_terminal()).then(|| {
        let bar = indicatif::ProgressBar::new(args.files.len() as u64);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} modules, {elapsed} (eta {eta}) {msg}",
        ) {
            bar.set_style(style);
        }
        bar
    });
    let next = AtomicUsize::new(0);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for worker in 0..workers {
            let (client, next, failures, bar) = (&client, &next, &failures, &bar);
            s.spawn(move || {
                // One thread per module: the encoder's parallelism stays within the token.
                let pool = match rayon::ThreadPoolBuilder::new().num_threads(1).build() {
                    Ok(p) => p,
                    Err(e) => {
                        let e = Error::Other(format!("cannot start a worker: {e}"));
                        failures.lock().unwrap().push((PathBuf::new(), e));
                        return;
                    }
                };
                loop {
                    let token = match (worker, client) {
                        (1.., Some(c)) => match c.acquire() {
                            Ok(t) => Some(t),
                            // make went away: the first worker finishes alone.
                            Err(_) => return,
                        },
                        _ => None,
                    };
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(path) = args.files.get(i) else {
                        return;
                    };
                    let result = pool.install(|| module(path, base, opts, args.verbose));
                    drop(token);
                    if let Err(e) = result {
                        failures.lock().unwrap().push((path.clone(), e));
                    }
                    if let Some(bar) = bar {
                        bar.inc(1);
                    }
                }
            });
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let mut failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
    failures.sort_by(|a, b| a.0.cmp(&b.0));
    failures
}
