//! The `view` target's checks: arbitrary bytes read in place by
//! `BtfView`, as base BTF and as split BTF over the fixed base's view. The
//! view must accept what `Btf::parse` accepts (the owned parse checks
//! more), read every type of it alike, and give the same `Btf` back
//! through `Btf::from_view`; whatever it accepts, reading it must not panic.

use std::hint::black_box;
use std::sync::OnceLock;

use kbtf_btf::{Btf, BtfView, Kind};

use crate::fixed_base;

/// The fixed base's view, over its blob, made once per process.
fn fixed_base_view() -> &'static BtfView<'static> {
    static BLOB: OnceLock<Vec<u8>> = OnceLock::new();
    static VIEW: OnceLock<BtfView<'static>> = OnceLock::new();
    VIEW.get_or_init(|| {
        let blob = BLOB.get_or_init(|| fixed_base().to_bytes());
        BtfView::parse(blob).expect("the fixed base is BTF")
    })
}

/// Views `data` as base BTF, then as split BTF over the fixed base.
pub fn check(data: &[u8]) {
    for split in [false, true] {
        let base_view = split.then(fixed_base_view);
        let base = split.then(fixed_base);
        let owned = crate::parse(data, base.clone());
        let view = match BtfView::parse_split(data, base_view) {
            Ok(view) => view,
            Err(e) => {
                black_box(e.to_string());
                assert!(
                    owned.is_none(),
                    "Btf::parse accepts a blob BtfView refuses: {e}"
                );
                continue;
            }
        };
        read_all(&view);
        let Some(owned) = owned else { continue };
        for t in view.own_types() {
            let o = owned.get(t.id()).expect("the same ids");
            assert!(
                t.words().eq(o.words().iter().copied()),
                "[{}] differs",
                t.id()
            );
        }
        let again = Btf::from_view(&view, base).expect("from_view accepts what parse does");
        assert!(
            again.to_bytes() == owned.to_bytes(),
            "from_view gives another Btf"
        );
    }
}

/// Every accessor on every type, and the lookups.
fn read_all(view: &BtfView<'_>) {
    for t in view.all_types() {
        black_box((t.name(), t.kind(), t.vlen(), t.kind_flag(), t.type_id()));
        black_box((t.words().count(), t.word(t.word_count()), t.bytes().len()));
        black_box(view.str_first_byte(t.name_off()));
    }
    black_box(view.find_by_name_kind(b"int", Kind::Int));
    black_box(view.find_all_by_name("int").count());
    black_box(view.type_name(view.start_id()));
}
