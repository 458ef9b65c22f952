//! The `pahole` front end: pahole's command line for BTF encoding, as
//! kbuild spells it (`pahole -J -j --btf_gen_floats --lang_exclude=rust
//! [--btf_base vmlinux] FILE`), run by kbtf's encoder and dedup.
//!
//! kbtf reproduces pahole 1.24 (the version Debian's 6.12 kernels were built
//! with), so `--version` answers `v1.24` and kbuild picks that version's
//! flags. Options of later pahole versions that change the encoding in ways
//! kbtf does not implement are refused by name rather than ignored.

use std::ffi::OsString;
use std::path::PathBuf;

use kbtf_btf::encode::{language_by_name, EncodeOptions, LanguageFilter};

use crate::Error;

/// What `pahole --version` prints; kbuild's pahole-version.sh turns it into 124.
pub const PAHOLE_VERSION: &str = "v1.24";

/// A parsed pahole command line.
#[derive(Debug, Default)]
pub struct Args {
    pub version: bool,
    pub encode: bool,
    pub detached: Option<PathBuf>,
    pub base: Option<PathBuf>,
    /// `-j` without a number means one thread per CPU.
    pub jobs: Option<usize>,
    pub opts: EncodeOptions,
    pub file: Option<PathBuf>,
}

/// Options of newer pahole versions whose encoding kbtf does not reproduce.
const NOT_IMPLEMENTED: &[&str] = &[
    "--btf_gen_optimized",
    "--skip_encoding_btf_inconsistent_proto",
    "--btf_encode_detached_base",
];

fn usage(msg: impl Into<String>) -> Error {
    Error::Usage(format!("pahole: {}", msg.into()))
}

/// Parses pahole's arguments (without argv[0]). Long options take their
/// value as `--opt=V` or `--opt V`; `-j`/`--jobs` take an optional attached
/// number, as with argp.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Args, Error> {
    let mut out = Args {
        opts: EncodeOptions::default(),
        ..Args::default()
    };
    let mut args = args.into_iter().map(|a| {
        a.into_string()
            .map_err(|a| usage(format!("argument {a:?} is not UTF-8")))
    });
    while let Some(arg) = args.next() {
        let arg = arg?;
        if let Some(long) = arg.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            let mut value = |what: &str| -> Result<String, Error> {
                match inline.clone() {
                    Some(v) => Ok(v),
                    None => args
                        .next()
                        .unwrap_or_else(|| Err(usage(format!("--{what} needs a value")))),
                }
            };
            match name {
                "version" => out.version = true,
                "btf_encode" => out.encode = true,
                "btf_encode_detached" => {
                    out.encode = true;
                    let file = value(name)?;
                    if file.is_empty() {
                        return Err(usage("--btf_encode_detached needs a file name"));
                    }
                    out.detached = Some(file.into());
                }
                "btf_base" => out.base = Some(value(name)?.into()),
                "jobs" => out.jobs = Some(parse_jobs(inline.as_deref())?),
                "btf_gen_floats" | "btf_gen_all" => out.opts.gen_floats = true,
                "skip_encoding_btf_vars" => out.opts.skip_vars = true,
                "skip_encoding_btf_decl_tag" => out.opts.skip_decl_tags = true,
                "skip_encoding_btf_type_tag" => out.opts.skip_type_tags = true,
                "skip_encoding_btf_enum64" => out.opts.skip_enum64 = true,
                "lang_exclude" => out.opts.languages = LanguageFilter::Exclude(languages(&value(name)?)?),
                "lang" => out.opts.languages = LanguageFilter::Only(languages(&value(name)?)?),
                "btf_features" | "btf_features_strict" => btf_features(&value(name)?, &mut out.opts)?,
                // kbtf never drops a type for an encoding error it could force past,
                // and its output is always reproducible.
                "btf_encode_force" | "reproducible_build" | "verbose" | "quiet" => {}
                _ if NOT_IMPLEMENTED.contains(&format!("--{name}").as_str()) => {
                    return Err(usage(format!(
                        "--{name} comes from a pahole newer than {PAHOLE_VERSION}, whose encoding kbtf does not reproduce"
                    )))
                }
                _ => return Err(usage(format!("unknown option --{name}"))),
            }
        } else if let Some(shorts) = arg.strip_prefix('-').filter(|s| !s.is_empty()) {
            for (i, c) in shorts.char_indices() {
                match c {
                    'J' => out.encode = true,
                    'V' | 'q' => {}
                    'j' => {
                        let rest = &shorts[i + 1..];
                        out.jobs = Some(parse_jobs((!rest.is_empty()).then_some(rest))?);
                        break;
                    }
                    _ => return Err(usage(format!("unknown option -{c}"))),
                }
            }
        } else if out.file.replace(arg.clone().into()).is_some() {
            return Err(usage(format!(
                "kbtf encodes one file at a time (also got {arg})"
            )));
        }
    }
    Ok(out)
}

fn parse_jobs(n: Option<&str>) -> Result<usize, Error> {
    match n {
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
        Some(n) => n
            .parse::<usize>()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| usage(format!("-j takes a positive number, not {n:?}"))),
    }
}

fn languages(list: &str) -> Result<Vec<u16>, Error> {
    list.split(',')
        .map(|l| language_by_name(l).ok_or_else(|| usage(format!("unknown language {l:?}"))))
        .collect()
}

/// `--btf_features=LIST` (pahole 1.26): the listed features are on, the
/// others off.
fn btf_features(list: &str, opts: &mut EncodeOptions) -> Result<(), Error> {
    opts.skip_vars = true;
    opts.skip_decl_tags = true;
    opts.skip_type_tags = true;
    opts.skip_enum64 = true;
    opts.gen_floats = false;
    for feature in list.split(',').filter(|f| !f.is_empty()) {
        match feature {
            "var" => opts.skip_vars = false,
            "float" => opts.gen_floats = true,
            "decl_tag" => opts.skip_decl_tags = false,
            "type_tag" => opts.skip_type_tags = false,
            "enum64" => opts.skip_enum64 = false,
            "encode_force" | "reproducible_build" => {}
            "default" => {
                opts.skip_vars = false;
                opts.skip_decl_tags = false;
                opts.skip_type_tags = false;
                opts.skip_enum64 = false;
            }
            "all" => {
                *opts = EncodeOptions { gen_floats: true, languages: std::mem::take(&mut opts.languages), ..EncodeOptions::default() };
            }
            other => {
                return Err(usage(format!(
                    "BTF feature {other:?} comes from a pahole newer than {PAHOLE_VERSION} and is not implemented"
                )))
            }
        }
    }
    Ok(())
}

/// Runs pahole's command line (without argv[0]).
pub fn run(args: impl IntoIterator<Item = OsString>) -> Result<(), Error> {
    let args = parse(args)?;
    if args.version {
        println!("{PAHOLE_VERSION}");
        return Ok(());
    }
    if !args.encode {
        return Err(usage(
            "kbtf only encodes BTF: pass -J (or --btf_encode_detached=FILE)",
        ));
    }
    let elf = args.file.as_deref().ok_or_else(|| usage("no input file"))?;
    crate::encode::Job {
        elf,
        base: args.base.as_deref(),
        output: args.detached.as_deref(),
        jobs: args.jobs,
        opts: &args.opts,
    }
    .run()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(args: &str) -> Result<Args, Error> {
        parse(args.split_whitespace().map(OsString::from))
    }

    #[test]
    fn kbuild_command_lines_parse() {
        let a = parse_str("-J -j --btf_gen_floats --lang_exclude=rust --btf_base vmlinux x.ko")
            .unwrap();
        assert!(a.encode && a.opts.gen_floats && a.jobs.is_some());
        assert_eq!(a.base.as_deref(), Some(std::path::Path::new("vmlinux")));
        assert_eq!(a.file.as_deref(), Some(std::path::Path::new("x.ko")));
        assert!(matches!(a.opts.languages, LanguageFilter::Exclude(ref l) if l.len() == 1));

        let a =
            parse_str("-J -j4 --btf_base=vmlinux --btf_encode_detached=out.btf vmlinux").unwrap();
        assert_eq!(a.jobs, Some(4));
        assert_eq!(a.detached.as_deref(), Some(std::path::Path::new("out.btf")));
    }

    #[test]
    fn features_and_refusals() {
        let a = parse_str("-J --btf_features=var,float x").unwrap();
        assert!(!a.opts.skip_vars && a.opts.gen_floats && a.opts.skip_decl_tags);
        assert!(parse_str("-J --btf_features=optimized_func x").is_err());
        assert!(parse_str("-J --btf_gen_optimized x").is_err());
        assert!(parse_str("-J --no_such_option x").is_err());
        assert!(parse_str("-J -j0 x").is_err());
        assert!(parse_str("-J a b").is_err());
        assert!(parse_str("--version").unwrap().version);
    }
}
