//! `kbtf ids ELF [--base B]`: every BTF_ID symbol of a file, its set, the id
//! in its slot, the id its name resolves to in the file's `.BTF`, and its
//! kfunc flags by name.

use std::path::PathBuf;
use std::sync::Arc;

use kbtf_btf::input::{btf_blob, FileBytes};
use kbtf_btf::Btf;
use kbtf_btfids::kfunc::flag_names;
use kbtf_btfids::list::entries;
use kbtf_btfids::resolve::resolve_names;
use kbtf_btfids::{Error as IdsError, IdsElf};

use crate::Error;

#[derive(clap::Args)]
pub struct Args {
    /// vmlinux, a .ko or an object file with .BTF_ids
    elf: PathBuf,
    /// Base BTF for a module's split .BTF (vmlinux)
    #[arg(short, long)]
    base: Option<PathBuf>,
}

pub fn run(args: Args) -> Result<(), Error> {
    let data = FileBytes::open(&args.elf).map_err(|e| IdsError::from(e).in_file(&args.elf))?;
    let elf = IdsElf::parse(&data).map_err(|e| e.in_file(&args.elf))?;
    let list = entries(&elf).map_err(|e| e.in_file(&args.elf))?;
    let base = match &args.base {
        Some(b) => Some(Arc::new(Btf::from_file(b)?)),
        None => None,
    };
    let resolved = match btf_blob(&data).and_then(|b| Btf::parse_split(&b, base)) {
        Ok(btf) => Some(resolve_names(&elf.symbols, &btf)?.ids),
        Err(e) => {
            eprintln!(
                "kbtf: {}: no resolved ids: {e}{}",
                args.elf.display(),
                if args.base.is_none() {
                    " (a module needs --base vmlinux)"
                } else {
                    ""
                }
            );
            None
        }
    };
    println!(
        "{:>8}  {:<7}  {:>8}  {:>8}  {:<28}  {:<40}  FLAGS",
        "OFFSET", "KIND", "ID", "RESOLVED", "SET", "NAME"
    );
    for e in list {
        let res = match (&resolved, e.kind.is_set()) {
            (Some(ids), false) => {
                let r = ids[e.symbol];
                format!("{r}{}", if r == e.id { "" } else { "!" })
            }
            _ => "-".into(),
        };
        let flags = match e.flags {
            Some(f) if e.kind.is_set() => format!("{f:#x}"),
            Some(f) => flag_names(f),
            None => String::new(),
        };
        println!(
            "{:>#8x}  {:<7}  {:>8}  {:>8}  {:<28}  {:<40}  {}",
            e.offset,
            e.kind.as_str(),
            e.id,
            res,
            e.set.as_deref().unwrap_or("-"),
            e.name,
            flags
        );
    }
    Ok(())
}
