//! Deduplicates two copies of the running kernel's BTF (or of the BTF file
//! given) into one, as pahole does with the types of many compile units,
//! and follows `task_struct`'s second copy through the old-to-new id map.
//!
//!     cargo run -p kbtf-btf --example dedup_id_map [BTF_OR_ELF]

use kbtf_btf::dedup::{dedup, DedupOptions};
use kbtf_btf::{Btf, Kind};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or("/sys/kernel/btf/vmlinux".into());
    let one = Btf::from_file(&path)?;
    let task = one
        .find_by_name_kind(b"task_struct", Kind::Struct)
        .ok_or("no struct task_struct")?;
    let mut two = one.clone();
    let second = two.add_btf(&one)?;
    let stats = dedup(&mut two, &DedupOptions::default())?;
    println!(
        "{path}: {} types, {} after dedup",
        stats.types_before, stats.types_after
    );
    // id_map is indexed by old id minus the first own id (1 for base BTF).
    let copy = second.0 + task.0 - 1;
    let merged = stats.id_map[copy as usize - 1];
    println!("task_struct: [{task}] and its copy [{copy}] are now [{merged}]");
    println!("{}", two.get(merged)?.display(&two));
    Ok(())
}
