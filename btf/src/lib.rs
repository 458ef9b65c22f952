//! The BTF model of kbtf: read, build and write kernel BTF, base and split,
//! in either byte order.
//!
//! The five everyday tasks, in a dozen lines (each is also an example in
//! `examples/`, run without arguments on the running kernel):
//!
//! ```no_run
//! use kbtf_btf::dedup::{dedup, DedupOptions};
//! use kbtf_btf::{dump, int_encoding, Btf, Kind};
//!
//! let vmlinux = kbtf_btf::sysfs::vmlinux()?; // /sys/kernel/btf/vmlinux
//! let module = kbtf_btf::sysfs::module("nf_conntrack", &vmlinux)?;
//! let task = vmlinux.find_by_name_kind(b"task_struct", Kind::Struct).ok_or("no task_struct")?;
//! let pid = vmlinux.find_member(task, "pid")?.ok_or("no pid")?;
//! println!("{}: pid at byte {}", vmlinux.get(task)?.display(&vmlinux), pid.bit_offset / 8);
//! let mut btf = Btf::new();
//! let int = btf.add_int("int", 4, int_encoding::SIGNED)?;
//! btf.add_int("int", 4, int_encoding::SIGNED)?;
//! let stats = dedup(&mut btf, &DedupOptions::default())?;
//! assert_eq!(stats.id_map, [int, int]);
//! dump::write_c(&module, &dump::COptions::default(), std::io::stdout())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Underneath, records are words, readable and writable as they are:
//!
//! ```
//! use kbtf_btf::{Btf, Info, Kind};
//!
//! let mut btf = Btf::new();
//! let name = btf.add_str(b"int").unwrap();
//! let int = btf.add_type(name, Info::new(Kind::Int, false, 0), 4, &[0x0100_0020]).unwrap();
//! let blob = btf.to_bytes();
//! let again = Btf::parse(&blob).unwrap();
//! assert_eq!(again.get(int).unwrap().int().unwrap().bits, 32);
//! assert_eq!(again.to_bytes(), blob);
//! ```
//!
//! The cargo feature `dwarf` (on by default) is the DWARF encoder
//! (`encode`), which brings gimli and rayon; BPF tooling that only reads,
//! builds, deduplicates or dumps BTF can turn it off.

#![deny(missing_docs)]

mod add_btf;
pub mod atomic;
pub mod base_index;
mod btf;
mod btf_view;
mod build;
pub mod check;
pub mod dedup;
pub mod distill;
pub mod dump;
pub mod embed;
#[cfg(feature = "dwarf")]
pub mod encode;
mod endian;
mod error;
mod flatten;
pub mod header;
mod ids;
pub mod input;
#[cfg(target_os = "linux")]
pub mod kernel;
mod kind;
pub mod lookup;
pub mod permute;
mod read;
mod record;
pub mod relocate;
mod sections;
pub mod signals;
mod strings;
pub mod sysfs;
mod view;
mod write;

pub use btf::{Btf, RecordMut};
pub use btf_view::{BtfView, TypeView};
pub use endian::Endian;
pub use error::{Error, Result};
pub use header::KindLayout;
pub use ids::{StrOff, TypeId};
pub use kind::{Info, Kind, MAX_KNOWN_KIND};
pub use lookup::{FoundMember, NameIndex};
pub use read::{MAX_NR_TYPES, MAX_TYPE_ID};
pub use strings::StringTable;
pub use view::{
    int_encoding, linkage, ArrayData, Enum64Value, EnumValue, IntData, Member, Param, TypeRef,
    VarSecInfo,
};
