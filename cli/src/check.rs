//! `kbtf check FILE [--base B] [--kernel]`: the findings of
//! `kbtf_btf::check`, and with `--kernel` the running kernel's own verdict.

use std::path::PathBuf;
use std::sync::Arc;

use kbtf_btf::check::check_blob;
use kbtf_btf::input::{btf_blob, FileBytes};
use kbtf_btf::Btf;

use crate::Error;

/// The most lines of a verifier log printed; its end says what failed.
const LOG_LINES: usize = 40;

#[derive(clap::Args)]
pub struct Args {
    /// A raw BTF blob or an ELF file with a .BTF section.
    file: PathBuf,
    /// Check FILE as split BTF over this base (e.g. vmlinux for a module).
    #[arg(long, value_name = "BASE")]
    base: Option<PathBuf>,
    /// Also load the BTF into the running kernel (BPF_BTF_LOAD; needs root
    /// or CAP_BPF) and report its verdict. Split BTF is merged with its base.
    #[arg(long)]
    kernel: bool,
}

pub fn run(args: Args) -> Result<(), Error> {
    let base = match &args.base {
        Some(path) => Some(Arc::new(Btf::from_file(path)?)),
        None => None,
    };
    let bytes =
        FileBytes::open(&args.file).map_err(|e| kbtf_btf::Error::from(e).in_file(&args.file))?;
    let blob = btf_blob(&bytes).map_err(|e| e.in_file(&args.file))?;
    let name = args.file.display();
    // A wrong base is no kernel rule (the kernel would read the split BTF
    // over it and report whatever broke first): say it as dump and gen do.
    if let Some(base) = &base {
        if let Err(e @ kbtf_btf::Error::BaseMismatch { .. }) =
            Btf::parse_split(&blob, Some(base.clone()))
        {
            return Err(e.in_file(&args.file).into());
        }
    }

    let findings = check_blob(&blob, base.as_ref());
    for f in &findings {
        println!("{name}: {f}");
    }
    if findings.is_empty() {
        println!("{name}: no findings");
    }
    let kernel_ok = if args.kernel {
        ask_kernel(&blob, base, &name.to_string())?
    } else {
        true
    };
    match (findings.len(), kernel_ok) {
        (0, true) => Ok(()),
        (0, false) => Err(Error::Rejected(format!("{name}: the kernel refuses it"))),
        // The first finding on stderr too, so the one error line says what is wrong.
        (n, _) => Err(Error::Rejected(format!(
            "{name}: {n} finding(s), the first: {}",
            findings[0]
        ))),
    }
}

/// Prints the kernel's verdict; returns whether it accepted the BTF.
#[cfg(target_os = "linux")]
fn ask_kernel(blob: &[u8], base: Option<Arc<Btf>>, name: &str) -> Result<bool, Error> {
    use kbtf_btf::kernel;

    // A base blob goes to the kernel as it is, so that the kernel judges the
    // bytes the checker did (rewritten, a big-endian or odd-headered blob
    // would pass). Split BTF must be parsed and merged with its base.
    let verdict = match base {
        None => kernel::load_btf(blob),
        Some(base) => match Btf::parse_split(blob, Some(base)) {
            Ok(btf) => kernel::load(&btf),
            Err(e) => {
                return Err(Error::Other(format!(
                    "{name}: cannot merge with the base for the kernel: {e}"
                )))
            }
        },
    };
    match verdict {
        Ok(_fd) => {
            println!("{name}: kernel: accepted");
            Ok(true)
        }
        Err(r) if r.is_unavailable() => Err(Error::Other(format!(
            "cannot ask the kernel: {}",
            std::io::Error::from_raw_os_error(r.errno)
        ))),
        Err(r) => {
            println!("{name}: kernel: {r}");
            let lines: Vec<&str> = r.log.lines().collect();
            if lines.len() > LOG_LINES {
                println!("verifier log (last {LOG_LINES} of {} lines):", lines.len());
            } else if !lines.is_empty() {
                println!("verifier log:");
            }
            for line in &lines[lines.len().saturating_sub(LOG_LINES)..] {
                println!("  {line}");
            }
            Ok(false)
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn ask_kernel(_: &[u8], _: Option<Arc<Btf>>, _: &str) -> Result<bool, Error> {
    Err(Error::Other("--kernel needs Linux".into()))
}
