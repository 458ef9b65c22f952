//! Typed builders, raw records and record_mut edits from the input, then
//! every reader and a write and re-read of the result (`kbtf_fuzz::builder`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    kbtf_fuzz::builder::run(data);
});
