//! Arbitrary ELF files through `.BTF_ids` resolution; kbtf's output must be a fixed point.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if kbtf_btf::input::is_elf(data) {
        kbtf_fuzz::btfids::check(data);
    }
});
