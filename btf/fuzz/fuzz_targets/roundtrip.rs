//! parse -> write -> parse gives the same BTF, as base and as split over the fixed base.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kbtf_fuzz::for_base_and_split(data, |btf| {
        let written = kbtf_fuzz::check_roundtrip(btf);
        kbtf_fuzz::check_canonical_rewrite(data, &written);
    });
});
