//! The `encode` target's checks: the DWARF encoder on arbitrary ELF bytes.

use std::hint::black_box;

use kbtf_btf::dedup::{dedup, DedupOptions};
use kbtf_btf::encode::{encode_elf, EncodeOptions};

use crate::{check_parsed, check_roundtrip, fixed_base};

/// Encodes `data` as pahole -J would for a kernel (as base BTF), and with
/// `--btf_encode_force` as split BTF over the fixed base, then dedups each
/// as `encode_deduped` does. Errors are fine; BTF the encoder returns must
/// keep the parser's promises and write back the same.
pub fn check(data: &[u8]) {
    let forced = EncodeOptions {
        force: true,
        ..EncodeOptions::kernel()
    };
    for (base, opts) in [
        (None, EncodeOptions::kernel()),
        (Some(fixed_base()), forced),
    ] {
        let mut btf = match encode_elf(data, base, &opts) {
            Ok(btf) => btf,
            Err(e) => {
                black_box(e.to_string());
                continue;
            }
        };
        check_parsed(&btf);
        check_roundtrip(&btf);
        let keep_strings = DedupOptions {
            rebuild_strings: false,
            libbpf_1_7: false,
        };
        match dedup(&mut btf, &keep_strings) {
            Ok(_) => {
                check_parsed(&btf);
                check_roundtrip(&btf);
            }
            Err(e) => {
                black_box(e.to_string());
            }
        }
    }
}
