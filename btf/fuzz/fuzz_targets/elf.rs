//! Arbitrary ELF files: find the `.BTF` section (`input::btf_blob`) and parse it.
#![no_main]

use kbtf_btf::input;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Other input is a raw blob, which parse_base covers.
    if !input::is_elf(data) {
        return;
    }
    match input::btf_blob(data) {
        Ok(blob) => {
            kbtf_fuzz::parse(&blob, None);
        }
        Err(e) => {
            std::hint::black_box(e.to_string());
        }
    }
});
