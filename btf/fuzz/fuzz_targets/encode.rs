//! Arbitrary ELF files through the DWARF encoder and its dedup.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Other input is no ELF file; the encoder's refusal of it is not worth the executions.
    if kbtf_btf::input::is_elf(data) {
        kbtf_fuzz::encode::check(data);
    }
});
