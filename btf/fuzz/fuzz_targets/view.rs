//! Arbitrary bytes read in place by `BtfView`, as base and as split over the fixed base.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kbtf_fuzz::view::check(data);
});
