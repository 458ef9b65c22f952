//! Arbitrary bytes parsed as split BTF over the fixed every-kind base.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kbtf_fuzz::parse(data, Some(kbtf_fuzz::fixed_base()));
});
