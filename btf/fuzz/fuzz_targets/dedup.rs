//! Dedup of well-formed BTF generated from the input (`kbtf_fuzz::gen`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(g) = kbtf_fuzz::gen::generate(data) {
        kbtf_fuzz::dedup::check(&g);
    }
});
