//! The text and JSON dumps of accepted BTF, as base and as split over the fixed base.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| kbtf_fuzz::for_base_and_split(data, kbtf_fuzz::check_dump));
