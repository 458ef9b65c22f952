//! Arbitrary bytes as a base index of the fixed base: rejected cleanly, or
//! serving lookups and dedup without a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kbtf_fuzz::base_index::check(data);
});
