//! `BtfView` reads every BTF of the corpus as `Btf::parse` does: every
//! type's kind, name and words, in both byte orders for the vmlinux, and
//! `Btf::from_view` writes each blob back byte for byte.

use std::sync::Arc;

use kbtf_btf::input::{btf_blob, FileBytes};
use kbtf_btf::{Btf, BtfView};
use kbtf_testsupport::corpus::Corpus;

/// Every type of `view` is the same type of `btf`; returns how many were compared.
fn assert_agrees(view: &BtfView<'_>, btf: &Btf, what: &str) -> usize {
    assert_eq!(view.type_count(), btf.type_count(), "{what}");
    assert_eq!(view.str_end(), btf.str_end(), "{what}");
    let mut compared = 0;
    for t in view.own_types() {
        let owned = btf.get(t.id()).unwrap();
        let same = t.kind() == owned.kind()
            && t.name() == btf.str_at(owned.name_off())
            && t.words().eq(owned.words().iter().copied());
        assert!(same, "{what}: type [{}] differs", t.id());
        compared += 1;
    }
    assert_eq!(compared, view.own_ids().len(), "{what}");
    compared
}

#[test]
fn views_read_the_corpus_as_btf_parse_does() {
    let Some(corpus) = Corpus::find() else { return };
    let bytes = FileBytes::open(&corpus.vmlinux()).unwrap();
    let blob = btf_blob(&bytes).unwrap();
    let base_view = BtfView::parse(&blob).unwrap();
    let base = Arc::new(Btf::parse(&blob).unwrap());
    let mut types = assert_agrees(&base_view, &base, "vmlinux");
    assert!(Btf::from_view(&base_view, None).unwrap().to_bytes() == *blob);

    let swapped = base.to_bytes_endian(base.endian().other());
    let swapped_view = BtfView::parse(&swapped).unwrap();
    assert_eq!(swapped_view.endian(), base.endian().other());
    types += assert_agrees(&swapped_view, &base, "vmlinux swapped");

    let modules = corpus.modules();
    for path in &modules {
        let what = path.display().to_string();
        let bytes = FileBytes::open(path).unwrap();
        let blob = btf_blob(&bytes).unwrap();
        let view = BtfView::parse_split(&blob, Some(&base_view)).unwrap();
        let btf = Btf::parse_split(&blob, Some(base.clone())).unwrap();
        types += assert_agrees(&view, &btf, &what);
        let owned = Btf::from_view(&view, Some(base.clone())).unwrap();
        assert!(
            owned.to_bytes() == *blob,
            "{what}: from_view writes another blob"
        );
    }
    println!(
        "BtfView agrees with Btf::parse: vmlinux (both byte orders) + {} modules, {types} types",
        modules.len()
    );
    assert_eq!(modules.len(), 1138);
}
