//! `kbtf encode ELF -o OUT [--base B] [-j N]`: DWARF to deduplicated BTF,
//! the same engine as the `pahole` front end, in kbtf's own words.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kbtf_btf::encode::{encode_deduped, language_by_name, EncodeOptions, LanguageFilter};
use kbtf_btf::{atomic, embed, Btf};

use crate::Error;

#[derive(clap::Args)]
pub struct Args {
    /// ELF file with DWARF: a vmlinux or a module
    elf: PathBuf,
    /// Write the raw BTF here; without it, the ELF's .BTF section is replaced in place
    #[arg(short, long, value_name = "OUT")]
    output: Option<PathBuf>,
    /// Encode as split BTF over this base (the vmlinux, for a module)
    #[arg(short, long, value_name = "BASE")]
    base: Option<PathBuf>,
    /// Threads decoding DWARF (the output is the same for any number)
    #[arg(short, long, value_name = "N")]
    jobs: Option<usize>,
    /// Leave out units in these languages (DW_LANG names, e.g. rust)
    #[arg(long, value_delimiter = ',', default_value = "rust")]
    lang_exclude: Vec<String>,
    /// No FLOAT types: encode floating-point base types as pahole does without --btf_gen_floats
    #[arg(long)]
    no_floats: bool,
    /// Encode no per-CPU variables (VAR and DATASEC)
    #[arg(long)]
    skip_vars: bool,
    /// Reproduce this pahole version with the flags Linux passes it (1.24
    /// and 1.30: 6.x; 1.32: 7.2) [default: $KBTF_PAHOLE_VERSION, else 1.32]
    #[arg(long, value_name = "VERSION")]
    pahole: Option<String>,
}

pub fn run(args: Args) -> Result<(), Error> {
    let version = match &args.pahole {
        Some(v) => crate::pahole::parse_version(v)?,
        None => crate::pahole::version_from_env()?,
    };
    let mut opts = EncodeOptions::kernel_for(version);
    opts.gen_floats = !args.no_floats;
    opts.skip_vars = args.skip_vars;
    opts.languages = LanguageFilter::Exclude(
        args.lang_exclude
            .iter()
            .filter(|l| !l.is_empty())
            .map(|l| {
                language_by_name(l).ok_or_else(|| Error::Usage(format!("unknown language {l:?}")))
            })
            .collect::<Result<_, _>>()?,
    );
    let job = Job {
        elf: &args.elf,
        base: args.base.as_deref(),
        output: args.output.as_deref(),
        jobs: args.jobs,
        opts: &opts,
    };
    job.run()
}

/// One encoding, whichever front end asked for it.
pub struct Job<'a> {
    pub elf: &'a Path,
    pub base: Option<&'a Path>,
    /// A raw BTF file to write, or `None` to replace the ELF's `.BTF`.
    pub output: Option<&'a Path>,
    pub jobs: Option<usize>,
    pub opts: &'a EncodeOptions,
}

impl Job<'_> {
    pub fn run(&self) -> Result<(), Error> {
        let base = match self.base {
            Some(path) => {
                crate::allocator::no_huge_pages();
                Some(Arc::new(Btf::from_file(path)?))
            }
            None => None,
        };
        let btf = crate::threads::with_threads(self.jobs, || {
            Ok(encode_deduped(self.elf, base, self.opts)?)
        })?;
        // No types of its own (no DWARF, e.g. a stripped module): pahole
        // 1.24 writes no file and leaves the ELF alone; so does kbtf.
        if btf.own_ids().len() == 0 {
            return Ok(());
        }
        if self.opts.distilled_base && btf.base().is_some() {
            // pahole's distilled_base: the split over only what it needs of
            // the base, that base beside it (libbpf 1.5's 24-byte headers).
            let distilled = btf.distill_base()?;
            let (split, base) = (distilled.split.to_bytes(), distilled.base.to_bytes());
            return match self.output {
                Some(_) => Err(Error::Usage(
                    "pahole: distilled_base writes .BTF and .BTF.base into the ELF file; kbtf does not write it detached".into(),
                )),
                None => {
                    embed::replace_sections_in_file(
                        self.elf,
                        &[(".BTF", &split), (".BTF.base", &base)],
                    )?;
                    Ok(())
                }
            };
        }
        let bytes = btf.to_bytes();
        match self.output {
            Some(out) => atomic::write_file_atomic(out, &bytes)?,
            None => {
                embed::replace_sections_in_file(self.elf, &[(".BTF", &bytes)])?;
            }
        }
        Ok(())
    }
}
