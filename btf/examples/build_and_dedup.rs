//! Builds a small BTF with the typed builders, twice over, deduplicates it
//! and shows where each old id went.
//!
//!     cargo run -p kbtf-btf --example build_and_dedup

use kbtf_btf::dedup::{dedup, DedupOptions};
use kbtf_btf::{int_encoding, linkage, Btf};

fn main() -> Result<(), kbtf_btf::Error> {
    let mut btf = Btf::new();
    for _ in 0..2 {
        let int = btf.add_int("int", 4, int_encoding::SIGNED)?;
        let fwd = btf.add_fwd("node", false)?;
        let next = btf.add_ptr(fwd)?;
        let node = btf.add_struct("node", 16)?;
        btf.add_field("next", next, 0, 0)?;
        btf.add_field("value", int, 64, 0)?;
        let proto = btf.add_func_proto(int)?;
        btf.add_func_param("n", node)?;
        btf.add_func("count", proto, linkage::GLOBAL)?;
    }
    let stats = dedup(&mut btf, &DedupOptions::default())?;
    println!(
        "{} types, {} after dedup",
        stats.types_before, stats.types_after
    );
    for (i, new) in stats.id_map.iter().enumerate() {
        println!("  [{}] -> [{new}]", i + 1);
    }
    let blob = btf.to_bytes();
    println!("{} bytes of BTF", blob.len());
    Ok(())
}
