//! The `base_index` target's checks: bytes as a base index of the fixed
//! base ([`crate::fixed_base`]) are rejected or, when accepted, serve
//! lookups and a dedup without panicking.
//!
//! The first byte picks how the rest is used: even, as the whole file;
//! odd, as the body behind a real header, with the body's length and
//! checksum set to match, so the checks past the checksum are reached.

use std::hint::black_box;

use kbtf_btf::base_index::{BaseIndex, BaseKey};
use kbtf_btf::dedup::{dedup_owned, BaseCandidates, DedupOptions};
use kbtf_btf::input::FileBytes;
use kbtf_btf::Btf;

/// The header's length and where it keeps the body's length and checksum
/// (see `btf/src/base_index/mod.rs`).
const HEADER_LEN: usize = 96;
const BODY_LEN_AT: usize = 56;
const BODY_SUM_AT: usize = 64;

pub fn check(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let base = crate::fixed_base();
    let key = BaseKey::of(&base.to_bytes());
    let bytes = if mode % 2 == 0 {
        rest.to_vec()
    } else {
        let mut file = BaseIndex::build(&base, &key)[..HEADER_LEN].to_vec();
        file[BODY_LEN_AT..BODY_LEN_AT + 8].copy_from_slice(&(rest.len() as u64).to_le_bytes());
        let sum = twox_hash::XxHash3_128::oneshot(rest);
        file[BODY_SUM_AT..BODY_SUM_AT + 16].copy_from_slice(&sum.to_le_bytes());
        file.extend_from_slice(rest);
        file
    };
    let index = match BaseIndex::open(FileBytes::Read(bytes), (*base).clone(), &key) {
        Ok(index) => index,
        Err(e) => {
            black_box(e.why.to_string());
            return;
        }
    };
    for s in [&b"int"[..], b"", b"missing"] {
        black_box(index.btf().find_str(s));
    }
    // A split copy of the base's own types goes through every phase, and
    // through the candidate chains of every hash the base has.
    let candidates = BaseCandidates::from_index(&index);
    let mut split = Btf::new_split(index.btf().clone());
    if split.add_btf(&base).is_ok() {
        let _ = black_box(dedup_owned(split, &DedupOptions::default(), Some(&candidates)));
    }
}
