//! A split BTF can be the base of another: ids and string offsets continue
//! across all levels (libbpf's rule: a split's strings start at its base's
//! start plus the base's own string length).

use std::sync::Arc;

use kbtf_btf::{Btf, Info, Kind, StrOff, TypeId};

#[test]
fn three_levels_round_trip_and_resolve_through_every_base() {
    let mut base = Btf::new();
    let int_name = base.add_str(b"int").unwrap();
    let int = base
        .add_type(int_name, Info::new(Kind::Int, false, 0), 4, &[0x0100_0020])
        .unwrap();
    let base = Arc::new(Btf::parse(&base.to_bytes()).unwrap());

    let mut mid = Btf::new_split(base.clone());
    assert_eq!(mid.start_id(), TypeId(2));
    assert_eq!(mid.start_str_off(), StrOff(5));
    let ptr = mid
        .add_type(StrOff(0), Info::new(Kind::Ptr, false, 0), int.0, &[])
        .unwrap();
    let name = mid.add_str(b"int_ptr").unwrap();
    let td = mid
        .add_type(name, Info::new(Kind::Typedef, false, 0), ptr.0, &[])
        .unwrap();
    assert_eq!(
        mid.add_str(b"int").unwrap(),
        int_name,
        "strings of the base are found, not copied"
    );
    let mid_blob = mid.to_bytes();
    let mid = Arc::new(Btf::parse_split(&mid_blob, Some(base.clone())).unwrap());
    assert_eq!(mid.to_bytes(), mid_blob);

    let mut top = Btf::new_split(mid.clone());
    assert_eq!(top.start_id(), TypeId(4));
    assert_eq!(top.start_str_off(), StrOff(5 + 8));
    let c = top
        .add_type(StrOff(0), Info::new(Kind::Const, false, 0), td.0, &[])
        .unwrap();
    let field = top.add_str(b"p").unwrap();
    let s_name = top.add_str(b"holder").unwrap();
    let s = top
        .add_type(
            s_name,
            Info::new(Kind::Struct, false, 1),
            8,
            &[field.0, c.0, 0],
        )
        .unwrap();
    let top_blob = top.to_bytes();
    let top = Btf::parse_split(&top_blob, Some(mid.clone())).unwrap();
    assert_eq!(top.to_bytes(), top_blob);
    assert_eq!(top.type_count(), 6);

    // Walk holder.p -> const -> typedef int_ptr -> ptr -> int across the three levels.
    let member = top.get(s).unwrap().members().next().unwrap();
    assert_eq!(&*top.name(member.name_off), "p");
    let konst = top.get(member.type_id).unwrap();
    let typedef = top.get(konst.type_id()).unwrap();
    assert_eq!(
        (typedef.kind(), &*top.name(typedef.name_off())),
        (Kind::Typedef, "int_ptr")
    );
    let pointee = top
        .get(top.get(typedef.type_id()).unwrap().type_id())
        .unwrap();
    assert_eq!(
        (pointee.kind(), &*top.name(pointee.name_off())),
        (Kind::Int, "int")
    );

    // The top level refuses ids and strings past its end, like any split.
    let mut bad = top_blob.clone();
    // The member's type id: the second-to-last word of the type section.
    let struct_type_word = bad.len() - (top.own_strings().len() as usize) - 8;
    bad[struct_type_word..struct_type_word + 4].copy_from_slice(&99u32.to_ne_bytes());
    let err = Btf::parse_split(&bad, Some(mid)).unwrap_err().to_string();
    assert!(
        err.contains("refers to type id 99, but the last type id is"),
        "{err}"
    );
}
