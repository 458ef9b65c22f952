//! `.BTF_ids` resolution and patching (the job of the kernel's resolve_btfids),
//! made idempotent.
//!
//! The kernel marks the BTF ids it needs with symbols in the `.BTF_ids`
//! section (`include/linux/btf_ids.h`); resolving writes the BTF id of each
//! symbol's name into its slot and sorts the sets. Upstream's tool leaves
//! the symbols of a sorted set pointing at their old slots, so running it
//! again pairs ids with other functions' kfunc flags. kbtf moves each member
//! symbol with its entry ([`resolve()`]) and repairs files upstream left stale
//! ([`recover`](crate#recovery)).
//!
//! ```no_run
//! use kbtf_btf::Btf;
//! use kbtf_btfids::{resolve, IdsElf};
//!
//! let bytes = std::fs::read("nf_conntrack.ko")?;
//! let elf = IdsElf::parse(&bytes)?;
//! let base = std::sync::Arc::new(Btf::from_file("vmlinux")?);
//! let btf = Btf::from_file_split("nf_conntrack.ko", Some(base))?;
//! let outcome = resolve(&elf, &btf, &[])?;
//! let patched = outcome.apply(&elf);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The resolve_btfids tool's modes (in place, `--btf`, `--patch_btfids`)
//! on files' bytes, and which BTF produced the ids already in a file:
//! [`workflow`].
//!
//! # Recovery
//! See the `recover` module: a set that holds ids already has its owners
//! recovered through a BTF that produced those ids, or kept where they
//! cannot be wrong, or the run stops with [`Error::Unrecoverable`].

#![deny(missing_docs)]

pub mod btf2btf;
pub mod elf;
mod error;
#[cfg(feature = "gen")]
pub mod gen;
pub mod implicit_args;
pub mod kfunc;
pub mod layout;
pub mod list;
pub mod moves;
pub mod names;
mod patch;
mod recover;
pub mod resolve;
pub mod symbol;
pub mod workflow;

pub use elf::{IdSymbol, IdsElf};
pub use error::{Error, Result};
pub use layout::{Layout, Set};
pub use names::{NameFilter, TypeNames};
pub use patch::{move_symbols, patch_section, resolve, Outcome, SymbolMove};
