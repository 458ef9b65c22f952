//! `kbtf dump [--base FILE] [--format raw|json|c] [--root ID]...
//! [--bpftool 7.1|7.8] [--sorted|--unsorted] FILE`: the output of
//! `bpftool [-B BASE] [-j] btf dump file FILE [format c [unsorted]]`, as
//! Debian bookworm's bpftool 7.1 or bpftool 7.8 prints it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kbtf_btf::{dump, Btf, TypeId};

use crate::Error;

/// The running kernel's BTF, the base bpftool picks for its modules' BTF.
const SYSFS_VMLINUX: &str = "/sys/kernel/btf/vmlinux";

#[derive(clap::Args)]
pub struct Args {
    /// Read FILE as split BTF over this base (a raw BTF blob or an ELF file)
    #[arg(short = 'B', long, value_name = "BASE")]
    base: Option<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Raw)]
    format: Format,
    /// With --format c: dump only this type and what it needs (repeatable, in order)
    #[arg(long = "root", value_name = "ID")]
    roots: Vec<u32>,
    /// With --format c: the bpftool whose header to write (7.8: kfunc
    /// prototypes, sorted types)
    #[arg(long, value_enum, default_value_t = BpftoolVersion::V7_1, value_name = "VERSION")]
    bpftool: BpftoolVersion,
    /// With --format c --bpftool 7.8: types in id order (`format c unsorted`)
    #[arg(long, conflicts_with = "sorted")]
    unsorted: bool,
    /// With --format c --bpftool 7.8: types sorted by kind and name, the
    /// default (`format c`)
    #[arg(long)]
    sorted: bool,
    /// A raw BTF blob or an ELF file with a .BTF section
    file: PathBuf,
}

/// The bpftool versions `--bpftool` accepts.
#[derive(Copy, Clone, clap::ValueEnum)]
enum BpftoolVersion {
    /// Debian bookworm's bpftool 7.1 (libbpf 1.1)
    #[value(name = "7.1")]
    V7_1,
    /// bpftool 7.8 (libbpf 1.8)
    #[value(name = "7.8")]
    V7_8,
}

#[derive(Copy, Clone, clap::ValueEnum)]
enum Format {
    /// bpftool's plain text
    Raw,
    /// bpftool's -j output
    Json,
    /// bpftool's `format c`: a C header (vmlinux.h)
    C,
}

pub fn run(args: Args) -> Result<(), Error> {
    let base = match base_path(&args) {
        Some(path) => Some(Arc::new(Btf::from_file(path)?)),
        None => None,
    };
    let btf = Btf::from_file_split(&args.file, base)?;
    let out = std::io::stdout().lock();
    let format = match args.format {
        Format::Raw => dump::Format::Raw,
        Format::Json => dump::Format::Json,
        Format::C => {
            if (args.sorted || args.unsorted) && matches!(args.bpftool, BpftoolVersion::V7_1) {
                return Err(Error::Usage(
                    "--sorted and --unsorted need --bpftool 7.8 (7.1 does not sort)".into(),
                ));
            }
            let opts = dump::COptions {
                roots: args.roots.iter().map(|&id| TypeId(id)).collect(),
                bpftool: match args.bpftool {
                    BpftoolVersion::V7_1 => dump::BpftoolVersion::V7_1,
                    BpftoolVersion::V7_8 => dump::BpftoolVersion::V7_8,
                },
                unsorted: args.unsorted,
            };
            return dump::write_c(&btf, &opts, out).map_err(|e| c_error(&args.file, e));
        }
    };
    if !args.roots.is_empty() {
        return Err(Error::Usage("--root needs --format c".into()));
    }
    if args.sorted || args.unsorted || matches!(args.bpftool, BpftoolVersion::V7_8) {
        return Err(Error::Usage(
            "--bpftool, --sorted and --unsorted need --format c".into(),
        ));
    }
    dump::write(&btf, format, out).map_err(Error::stdout)
}

/// `--base`, or for a module's BTF under /sys/kernel/btf the running
/// kernel's, as bpftool does.
fn base_path(args: &Args) -> Option<&Path> {
    if let Some(base) = &args.base {
        return Some(base);
    }
    let sysfs = Path::new(SYSFS_VMLINUX);
    let in_sysfs = sysfs.parent().is_some_and(|dir| args.file.starts_with(dir));
    (in_sysfs && args.file != sysfs).then_some(sysfs)
}

/// A C dump stops on BTF it cannot write (named after the file) or on a
/// failed write (named after stdout).
fn c_error(file: &Path, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::InvalidData {
        Error::Other(format!("{}: {e}", file.display()))
    } else {
        Error::stdout(e)
    }
}
