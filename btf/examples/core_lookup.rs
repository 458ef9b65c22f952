//! CO-RE-style lookup: where `task_struct.pid` is in the running kernel
//! (or in the BTF file given as the first argument).
//!
//!     cargo run -p kbtf-btf --example core_lookup [BTF_OR_ELF]

use kbtf_btf::{Btf, Kind};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or("/sys/kernel/btf/vmlinux".into());
    let btf = Btf::from_file(&path)?;
    let task = btf
        .find_by_name_kind(b"task_struct", Kind::Struct)
        .ok_or("no struct task_struct")?;
    let pid = btf
        .find_member(task, "pid")?
        .ok_or("task_struct has no pid")?;
    println!(
        "{path}: task_struct is {} bytes; pid: type [{}] ({} bytes) at byte {}",
        btf.resolve_size(task)?,
        pid.ty,
        btf.resolve_size(pid.ty)?,
        pid.bit_offset / 8
    );
    Ok(())
}
