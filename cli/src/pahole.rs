//! The `pahole` front end: pahole's command line for BTF encoding, as
//! kbuild spells it (`pahole -J -j --btf_gen_floats --lang_exclude=rust
//! [--btf_base vmlinux] FILE`), run by kbtf's encoder and dedup.
//!
//! Which pahole is emulated comes from `KBTF_PAHOLE_VERSION` (1.24, 1.30
//! or 1.32, the default): `--version`
//! answers that version and kbuild picks its flags, and the command line is
//! parsed as that version parses it. As 1.24, options of later versions
//! that change the encoding are refused by name rather than ignored; as
//! 1.30, `--btf_features` behaves as there (repeated options add up, `+X`
//! is the default set plus X, unknown names are ignored).

use std::ffi::OsString;
use std::path::PathBuf;

use kbtf_btf::encode::{language_by_name, EncodeOptions, LanguageFilter, PaholeVersion};

use crate::Error;

/// The environment variable naming the pahole version to emulate.
pub const VERSION_ENV: &str = "KBTF_PAHOLE_VERSION";

/// The pahole version to emulate when nothing says otherwise.
pub const DEFAULT_VERSION: PaholeVersion = PaholeVersion::V1_32;

/// A version name as `KBTF_PAHOLE_VERSION` or `kbtf encode --pahole` give it.
pub fn parse_version(s: &str) -> Result<PaholeVersion, Error> {
    if let Some(v) = PaholeVersion::parse(s) {
        return Ok(v);
    }
    Err(Error::Usage(format!(
        "unknown pahole version {s:?} (kbtf emulates 1.24, 1.30 and 1.32)"
    )))
}

/// The version `KBTF_PAHOLE_VERSION` asks for, else the default.
pub fn version_from_env() -> Result<PaholeVersion, Error> {
    match std::env::var(VERSION_ENV) {
        Ok(v) if !v.trim().is_empty() => {
            parse_version(&v).map_err(|e| Error::Usage(format!("{VERSION_ENV}: {e}")))
        }
        _ => Ok(DEFAULT_VERSION),
    }
}

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

/// Parses pahole's arguments (without `argv[0]`) as the version of
/// `KBTF_PAHOLE_VERSION` does.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Args, Error> {
    parse_as(version_from_env()?, args)
}

/// Parses pahole's arguments (without `argv[0]`) as `version` does. Long
/// options take their value as `--opt=V` or `--opt V`; `-j`/`--jobs` take
/// an optional attached number, as with argp.
pub fn parse_as(
    version: PaholeVersion,
    args: impl IntoIterator<Item = OsString>,
) -> Result<Args, Error> {
    let mut out = Args {
        opts: EncodeOptions {
            version,
            ..EncodeOptions::default()
        },
        ..Args::default()
    };
    let modern = version >= PaholeVersion::V1_30;
    let mut features_seen = false;
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
                "btf_features" | "btf_features_strict" if modern => btf_features_130(
                    &value(name)?,
                    name == "btf_features_strict",
                    &mut features_seen,
                    &mut out.opts,
                )?,
                "btf_features" | "btf_features_strict" => btf_features(&value(name)?, &mut out.opts)?,
                "btf_encode_force" if modern => out.opts.force = true,
                "btf_gen_optimized" if modern => out.opts.optimized_func = true,
                "skip_encoding_btf_inconsistent_proto" if modern => {
                    out.opts.consistent_func = true
                }
                // kbtf never drops a type for an encoding error it could force past,
                // and its output is always reproducible.
                "btf_encode_force" | "reproducible_build" | "verbose" | "quiet" => {}
                _ if NOT_IMPLEMENTED.contains(&format!("--{name}").as_str()) => {
                    return Err(usage(format!(
                        "--{name} comes from a pahole newer than {version}, whose encoding kbtf does not reproduce (KBTF_PAHOLE_VERSION=1.30 emulates a newer one)"
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

/// `--btf_features=LIST` as pahole 1.30 reads it: the first such option
/// turns every feature off, each names more features to turn on
/// (`default`, or a leading `+`, adds the default set), names it does not
/// know are ignored (refused with `--btf_features_strict`).
fn btf_features_130(
    list: &str,
    strict: bool,
    seen: &mut bool,
    opts: &mut EncodeOptions,
) -> Result<(), Error> {
    if !std::mem::replace(seen, true) {
        opts.force = false;
        opts.skip_vars = true;
        opts.gen_floats = false;
        opts.skip_decl_tags = true;
        opts.skip_type_tags = true;
        opts.skip_enum64 = true;
        opts.optimized_func = false;
        opts.consistent_func = false;
        opts.decl_tag_kfuncs = false;
        opts.attributes = false;
    }
    let defaults = |opts: &mut EncodeOptions| {
        opts.force = true;
        opts.skip_vars = false;
        opts.gen_floats = true;
        opts.skip_decl_tags = false;
        opts.skip_type_tags = false;
        opts.skip_enum64 = false;
        opts.optimized_func = true;
        opts.consistent_func = true;
        opts.decl_tag_kfuncs = true;
    };
    if list == "default" {
        defaults(opts);
        return Ok(());
    }
    let list = match list.strip_prefix('+') {
        Some(rest) => {
            defaults(opts);
            rest
        }
        None => list,
    };
    for feature in list.split(',').filter(|f| !f.is_empty()) {
        match feature {
            "encode_force" => opts.force = true,
            "var" => opts.skip_vars = false,
            "float" => opts.gen_floats = true,
            "decl_tag" => opts.skip_decl_tags = false,
            "type_tag" => opts.skip_type_tags = false,
            "enum64" => opts.skip_enum64 = false,
            "optimized_func" => opts.optimized_func = true,
            "consistent_func" => opts.consistent_func = true,
            "decl_tag_kfuncs" => opts.decl_tag_kfuncs = true,
            "default" => defaults(opts),
            // `attributes` needs a libbpf function 1.5.0 (trixie's) lacks,
            // so 1.30 leaves it off; sid's 1.32 (libbpf 1.7.0) has it.
            "attributes" => opts.attributes = opts.version >= PaholeVersion::V1_32,
            // Parsed and without effect; `layout` (1.32) needs a libbpf
            // function 1.7.0 lacks, so Debian's 1.32 leaves it off.
            "reproducible_build" | "layout" => {}
            "true_signature" if opts.version >= PaholeVersion::V1_32 => {
                return Err(usage(format!(
                    "BTF feature {feature:?} is not implemented by kbtf yet"
                )))
            }
            "distilled_base" => opts.distilled_base = true,
            "global_var" => {
                return Err(usage(format!(
                    "BTF feature {feature:?} is not implemented by kbtf yet"
                )))
            }
            other if strict => {
                return Err(usage(format!("BTF feature {other:?} is not supported")))
            }
            _ => {}
        }
    }
    Ok(())
}

/// `--btf_features=LIST` (pahole 1.26) when emulating 1.24: the listed
/// features are on, the others off; later features are refused.
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
                    "BTF feature {other:?} comes from a pahole newer than v1.24 and is not implemented (KBTF_PAHOLE_VERSION=1.30 emulates a newer one)"
                )))
            }
        }
    }
    Ok(())
}

/// Runs pahole's command line (without `argv[0]`).
pub fn run(args: impl IntoIterator<Item = OsString>) -> Result<(), Error> {
    let args = parse(args)?;
    if args.version {
        println!("{}", args.opts.version);
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
        parse_as(
            PaholeVersion::V1_24,
            args.split_whitespace().map(OsString::from),
        )
    }

    fn parse_130(args: &str) -> Result<Args, Error> {
        parse_as(
            PaholeVersion::V1_30,
            args.split_whitespace().map(OsString::from),
        )
    }

    #[test]
    fn trixie_kbuild_flags_parse_as_130() {
        let a = parse_130("-J -j --btf_features=encode_force,var,float,enum64,decl_tag,type_tag,optimized_func,consistent_func,decl_tag_kfuncs -j --btf_features=+reproducible_build --lang_exclude=rust vmlinux").unwrap();
        let o = &a.opts;
        assert_eq!(o.version, PaholeVersion::V1_30);
        assert!(
            o.force && o.gen_floats && o.optimized_func && o.consistent_func && o.decl_tag_kfuncs
        );
        assert!(!o.skip_vars && !o.skip_decl_tags && !o.skip_type_tags && !o.skip_enum64);
        let k = EncodeOptions::kernel_for(PaholeVersion::V1_30);
        assert_eq!(format!("{o:?}"), format!("{k:?}"));
    }

    #[test]
    fn sid_kbuild_flags_parse_as_132() {
        let a = parse_as(
            PaholeVersion::V1_32,
            "-J -j2 --btf_features=encode_force,var,float,enum64,decl_tag,type_tag,optimized_func,consistent_func,decl_tag_kfuncs --btf_features=attributes --btf_features=layout -j2 --btf_features=+reproducible_build --lang_exclude=rust --btf_encode_detached=v.BTF.1 vmlinux"
                .split_whitespace()
                .map(OsString::from),
        )
        .unwrap();
        let k = EncodeOptions::kernel_for(PaholeVersion::V1_32);
        assert!(a.opts.attributes);
        assert_eq!(format!("{:?}", a.opts), format!("{k:?}"));
        // 1.30 parses `attributes` and leaves it off.
        let a = parse_130("-J --btf_features=+attributes x").unwrap();
        assert!(!a.opts.attributes);
    }

    #[test]
    fn features_130_add_up_and_ignore_unknown_names() {
        let a = parse_130("-J --btf_features=var --btf_features=float,no_such_thing x").unwrap();
        assert!(!a.opts.skip_vars && a.opts.gen_floats && a.opts.skip_decl_tags);
        assert!(!a.opts.optimized_func);
        let a = parse_130("-J --btf_features=+reproducible_build x").unwrap();
        assert!(a.opts.optimized_func && a.opts.decl_tag_kfuncs && !a.opts.skip_vars);
        // The first --btf_features turns off what earlier options turned on.
        let a = parse_130("-J --btf_gen_floats --btf_features=var x").unwrap();
        assert!(!a.opts.gen_floats);
        let refused = |cmd: &str| parse_130(cmd).unwrap_err().to_string();
        assert!(refused("-J --btf_features_strict=no_such_thing x")
            .contains("BTF feature \"no_such_thing\" is not supported"));
        assert!(refused("-J --btf_features=global_var x")
            .contains("BTF feature \"global_var\" is not implemented by kbtf yet"));
        assert!(
            parse_130("-J --btf_features=distilled_base x")
                .unwrap()
                .opts
                .distilled_base
        );
        assert!(
            parse_130("-J --btf_gen_optimized x")
                .unwrap()
                .opts
                .optimized_func
        );
    }

    #[test]
    fn versions_parse() {
        assert_eq!(parse_version("1.30").unwrap(), PaholeVersion::V1_30);
        assert_eq!(parse_version("v1.24").unwrap(), PaholeVersion::V1_24);
        assert_eq!(parse_version("1.32").unwrap(), PaholeVersion::V1_32);
        let err = parse_version("2.0").unwrap_err().to_string();
        assert!(err.contains("unknown pahole version \"2.0\""), "{err}");
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
        let refused = |cmd: &str| parse_str(cmd).unwrap_err().to_string();
        assert!(refused("-J --btf_features=optimized_func x")
            .contains("\"optimized_func\" comes from a pahole newer than v1.24"));
        assert!(refused("-J --btf_gen_optimized x")
            .contains("--btf_gen_optimized comes from a pahole newer than"));
        assert!(refused("-J --no_such_option x").contains("unknown option --no_such_option"));
        assert!(refused("-J -j0 x").contains("-j takes a positive number, not \"0\""));
        assert!(refused("-J a b").contains("one file at a time (also got b)"));
        assert!(parse_str("--version").unwrap().version);
    }
}
