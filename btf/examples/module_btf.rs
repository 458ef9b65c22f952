//! Reads a kernel module's split BTF over vmlinux's: the first module in
//! /sys/kernel/btf, or the module (raw BTF or `.ko`) and base given, and
//! shows the module's own types.
//!
//!     cargo run -p kbtf-btf --example module_btf [MODULE [BASE]]

use std::sync::Arc;

use kbtf_btf::Btf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let module = match args.next() {
        Some(path) => path,
        None => first_sysfs_module().ok_or("no module BTF in /sys/kernel/btf; give MODULE")?,
    };
    let base = args.next().unwrap_or("/sys/kernel/btf/vmlinux".into());
    let vmlinux = Arc::new(Btf::from_file(&base)?);
    let btf = Btf::from_file_split(&module, Some(vmlinux))?;
    let own = btf.own_ids();
    println!("{module}: {} types of its own over {base}", own.len());
    for t in btf.own_types().take(5) {
        println!("{}", t.display(&btf));
    }
    Ok(())
}

fn first_sysfs_module() -> Option<String> {
    let mut names: Vec<_> = std::fs::read_dir("/sys/kernel/btf")
        .ok()?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name != "vmlinux")
        .collect();
    names.sort();
    Some(format!("/sys/kernel/btf/{}", names.first()?))
}
