//! `.BTF` in `SHF_COMPRESSED` sections: inflated as binutils' readelf
//! inflates them, and a compression header claiming more than the stream
//! holds is an error that costs no more memory than the stream does. The ELF
//! files are written by `data/make-compressed-elf.py` (zlib from Python,
//! zstd from the zstd tool) around the every-kind fuzz seed.

use std::path::{Path, PathBuf};

use kbtf_btf::{input, Btf};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn seed() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/blob/kinds-le.btf");
    std::fs::read(path).unwrap()
}

#[test]
fn compressed_btf_inflates_to_the_blob() {
    let want = seed();
    for name in ["zlib.o", "zstd.o"] {
        let elf = std::fs::read(data(name)).unwrap();
        assert_eq!(input::btf_blob(&elf).unwrap().as_ref(), want, "{name}");
        let btf = Btf::from_file(data(name)).unwrap();
        assert_eq!(btf.to_bytes(), want, "{name}");
    }
}

/// The peak resident memory of this process (`VmHWM`), in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A 600-byte file whose compression header claims a 3 GiB `.BTF` once
/// made kbtf commit 3 GiB (object's decompressors zero-fill the claimed
/// size first). The other test in this file takes a few KiB.
#[test]
fn a_false_size_claim_is_an_error_not_an_allocation() {
    let before = peak_rss_kib();
    let names = ["zlib-claims-3g.o", "zstd-claims-3g.o"];
    let results = names.map(|name| Btf::from_file(data(name)));
    let grown = peak_rss_kib().saturating_sub(before);
    assert!(grown < 64 * 1024, "peak memory grew by {grown} KiB");
    for (name, result) in names.iter().zip(results) {
        let err = result.unwrap_err().to_string();
        assert!(err.contains(name), "{err}");
        assert!(err.contains("3221225472"), "{err}");
    }
}
