//! Parse -> write is byte-identical for every BTF of the corpus, in both byte orders.

use kbtf_testsupport::corpus;

use std::sync::Arc;

use kbtf_btf::input::{btf_blob, FileBytes};
use kbtf_btf::{Btf, Endian};

fn assert_round_trips(blob: &[u8], base: Option<Arc<Btf>>, what: &str) -> Btf {
    let btf = Btf::parse_split(blob, base.clone()).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(btf.to_bytes() == blob, "{what}: rewrite differs");
    let swapped = btf.to_bytes_endian(btf.endian().other());
    assert!(swapped != blob, "{what}: swapping changed nothing");
    // A swapped split BTF is read over the same (native) base: only the split blob changes order.
    let back = Btf::parse_split(&swapped, base).unwrap_or_else(|e| panic!("{what} swapped: {e}"));
    assert_eq!(back.endian(), btf.endian().other());
    assert!(
        back.to_bytes_endian(Endian::NATIVE) == blob,
        "{what}: swap and back differs"
    );
    btf
}

#[test]
fn corpus_round_trips() {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let bytes = FileBytes::open(&corpus.vmlinux()).unwrap();
    let blob = btf_blob(&bytes).unwrap();
    let base = Arc::new(assert_round_trips(&blob, None, "vmlinux"));
    let modules = corpus.modules();
    for path in &modules {
        let bytes = FileBytes::open(path).unwrap();
        let blob = btf_blob(&bytes).unwrap();
        assert_round_trips(&blob, Some(base.clone()), &path.display().to_string());
    }
    println!(
        "round trip identical (both byte orders): vmlinux + {} modules",
        modules.len()
    );
    assert_eq!(modules.len(), 1138);
}

/// Another kernel built by another pahole (trixie's 6.12, pahole 1.30).
#[test]
fn other_kernel_round_trips() {
    let Some(trixie) = corpus::Corpus::trixie() else {
        return;
    };
    let bytes = FileBytes::open(&trixie.vmlinux()).unwrap();
    let blob = btf_blob(&bytes).unwrap();
    let base = Arc::new(assert_round_trips(&blob, None, "trixie vmlinux"));
    for path in trixie.modules() {
        let bytes = FileBytes::open(&path).unwrap();
        let blob = btf_blob(&bytes).unwrap();
        assert_round_trips(&blob, Some(base.clone()), &path.display().to_string());
    }
}
