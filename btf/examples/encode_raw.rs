//! Encodes an ELF file's DWARF as raw pre-dedup BTF, with the kernel's
//! options: `encode_raw [--base VMLINUX] IN OUT`.

use std::sync::Arc;

use kbtf_btf::encode::{encode_file, EncodeOptions};
use kbtf_btf::Btf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut base = None;
    if args.first().map(String::as_str) == Some("--base") {
        base = Some(Arc::new(Btf::from_file(&args[1])?));
        args.drain(..2);
    }
    let [input, output] = args.as_slice() else {
        return Err("usage: encode_raw [--base VMLINUX] IN OUT".into());
    };
    let btf = encode_file(input, base, &EncodeOptions::kernel())?;
    kbtf_btf::atomic::write_file_atomic(output.as_ref(), &btf.to_bytes())?;
    Ok(())
}
