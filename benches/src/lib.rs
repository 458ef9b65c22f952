//! The side-by-side harness behind `cargo run -p kbtf-benches --release -- compare`:
//! it runs kbtf and the upstream tools (Debian's pahole and the kernel's
//! resolve_btfids; trixie's and sid's in their chroots, see [`modern`]) alternately on copies of the corpus, checks that both did
//! the same work, and reports wall time and peak RSS per scenario.
//!
//! The criterion benches in `benches/` measure kbtf's library functions; this
//! crate's library only serves the harness binary.

pub mod elf;
pub mod modern;
pub mod process;
pub mod report;
pub mod scenario;
pub mod stats;
pub mod tools;
