//! Reads BTF in place, copying nothing: the file (raw BTF, or an ELF
//! file's `.BTF`) is mapped, read with `BtfView`, and the types of a name
//! looked up. `Btf::from_view` would make the owned copy, were one needed
//! (to change, deduplicate or write the BTF).
//!
//!     cargo run -p kbtf-btf --example view_mapped [BTF_OR_ELF [NAME]]

use kbtf_btf::input::{btf_blob, FileBytes};
use kbtf_btf::{BtfView, Kind};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or("/sys/kernel/btf/vmlinux".into());
    let name = args.next().unwrap_or("task_struct".into());
    let bytes = FileBytes::open(path.as_ref())?;
    let blob = btf_blob(&bytes)?;
    let view = BtfView::parse(&blob)?;
    let structs = view
        .all_types()
        .filter(|t| t.kind() == Kind::Struct)
        .count();
    println!("{path}: {} types, {structs} structs", view.type_count() - 1);
    for id in view.find_all_by_name(&name) {
        let t = view.get(id)?;
        println!("[{id}] {} {name}: {} words", t.kind(), t.word_count());
    }
    Ok(())
}
