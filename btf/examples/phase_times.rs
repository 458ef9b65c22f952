//! Where the time of `pahole -J` on one file goes in kbtf: reading the
//! base, encoding DWARF, dedup, writing. `phase_times [--base B] ELF`
//! (set RAYON_NUM_THREADS for the thread count).

use std::sync::Arc;
use std::time::Instant;

use kbtf_btf::dedup::{dedup, DedupOptions};
use kbtf_btf::encode::{encode_file, EncodeOptions};
use kbtf_btf::Btf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (base, elf) = match args.as_slice() {
        [flag, base, elf] if flag == "--base" => (Some(base), elf),
        [elf] => (None, elf),
        _ => return Err("usage: phase_times [--base B] ELF".into()),
    };
    let t = Instant::now();
    let base = base.map(Btf::from_file).transpose()?.map(Arc::new);
    let t_base = t.elapsed();
    let t = Instant::now();
    let mut btf = encode_file(elf, base, &EncodeOptions::kernel())?;
    let t_encode = t.elapsed();
    let types = btf.own_ids().len();
    let t = Instant::now();
    dedup(
        &mut btf,
        &DedupOptions {
            rebuild_strings: false,
            libbpf_1_7: false,
        },
    )?;
    let t_dedup = t.elapsed();
    let t = Instant::now();
    let bytes = btf.to_bytes();
    let t_write = t.elapsed();
    println!("base {t_base:.2?}  encode {t_encode:.2?} ({types} types)  dedup {t_dedup:.2?} ({} types)  write {t_write:.2?} ({} bytes)", btf.own_ids().len(), bytes.len());
    Ok(())
}
