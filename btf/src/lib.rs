//! The BTF model of kbtf: read, build and write kernel BTF, base and split,
//! in either byte order.
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

#![deny(missing_docs)]

mod add_btf;
pub mod atomic;
mod btf;
mod build;
pub mod check;
pub mod dedup;
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
mod read;
mod record;
pub mod signals;
mod strings;
mod view;
mod write;

pub use btf::{Btf, RecordMut};
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
