//! Reads a kernel module's split BTF over vmlinux's: the first module in
//! /sys/kernel/btf, or the module (raw BTF or `.ko`) and base given, and
//! shows the module's own types.
//!
//!     cargo run -p kbtf-btf --example module_btf [MODULE [BASE]]

use std::sync::Arc;

use kbtf_btf::{sysfs, Btf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let sysfs_vmlinux = format!("{}/vmlinux", sysfs::DIR);
    let (name, base, btf) = match (args.next(), args.next()) {
        (Some(module), base) => {
            let base = base.unwrap_or(sysfs_vmlinux);
            let vmlinux = Arc::new(Btf::from_file(&base)?);
            let btf = Btf::from_file_split(&module, Some(vmlinux))?;
            (module, base, btf)
        }
        (None, _) => {
            let names = sysfs::modules()?;
            let first = names
                .first()
                .ok_or("no module BTF in /sys/kernel/btf; give MODULE")?;
            let btf = sysfs::module(first, &sysfs::vmlinux()?)?;
            (first.clone(), sysfs_vmlinux, btf)
        }
    };
    println!(
        "{name}: {} types of its own over {base}",
        btf.own_ids().len()
    );
    for t in btf.own_types().take(5) {
        println!("{}", t.display(&btf));
    }
    Ok(())
}
