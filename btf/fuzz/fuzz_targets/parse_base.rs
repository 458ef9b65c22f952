//! Arbitrary bytes parsed as base BTF; accepted BTF must keep the parser's promises.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kbtf_fuzz::parse(data, None);
});
