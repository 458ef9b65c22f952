//! Writes vmlinux.h for the running kernel (or for the BTF file given), as
//! `bpftool btf dump file F format c` does.
//!
//!     cargo run -p kbtf-btf --example vmlinux_h [BTF_OR_ELF] > vmlinux.h

use kbtf_btf::dump::{write_c, COptions};
use kbtf_btf::Btf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or("/sys/kernel/btf/vmlinux".into());
    let btf = Btf::from_file(&path)?;
    write_c(&btf, &COptions::default(), std::io::stdout().lock())?;
    Ok(())
}
