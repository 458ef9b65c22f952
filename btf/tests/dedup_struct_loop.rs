//! Regression test for a crash the `dedup` fuzz target found (see
//! testdata/FUZZING.md): structs holding each other by value, two copies of
//! `struct s { struct s x; }`, made the "identical structs" check of the
//! struct phase recurse until the stack overflowed. libbpf 1.1.2's
//! `btf__dedup` overflows its stack on this input as well
//! (`testdata/oracle/btf_dedup` segfaults), so there is no oracle: kbtf now
//! treats the copies as identical, which they are.
//!
//! data/dedup-struct-loop.btf: [1] struct s { [1] x; }, [2] struct s { [3] x; },
//! [3] struct s { [2] x; }.

use std::path::Path;

use kbtf_btf::dedup::{dedup, DedupOptions};
use kbtf_btf::{Btf, Kind, TypeId};

#[test]
fn copies_of_a_struct_holding_itself_merge() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/dedup-struct-loop.btf");
    let mut btf = Btf::from_file(&file).unwrap();
    assert_eq!(btf.own_ids().len(), 3);
    let stats = dedup(&mut btf, &DedupOptions::default()).unwrap();
    assert_eq!((stats.types_before, stats.types_after), (3, 1));
    let s = btf.get(TypeId(1)).unwrap();
    assert_eq!(s.kind(), Kind::Struct);
    assert_eq!(
        s.members().map(|m| m.type_id).collect::<Vec<_>>(),
        [TypeId(1)]
    );
    Btf::parse(&btf.to_bytes()).unwrap();
}
