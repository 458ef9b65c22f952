//! The shape of type records: how many words each takes, and which words
//! hold type ids or string offsets. Dedup, remapping and `.BTF_ids`
//! resolution all walk records through these slots.

use crate::{Info, Kind, KindLayout};

/// Words in the common part of every record: `name_off`, `info`, `size|type`.
pub const COMMON_WORDS: usize = 3;

/// The number of 32-bit words a record with this `info` occupies, or `None`
/// for an unknown kind that `layout` does not describe (or describes with
/// sizes that are not whole words).
#[inline]
pub fn record_words(info: Info, layout: Option<&[KindLayout]>) -> Option<usize> {
    let vlen = info.vlen() as usize;
    let extra = match info.kind() {
        Kind::Int | Kind::Var | Kind::DeclTag => 1,
        Kind::Array => 3,
        Kind::Struct | Kind::Union | Kind::Datasec | Kind::Enum64 => 3 * vlen,
        Kind::Enum | Kind::FuncProto => 2 * vlen,
        Kind::Ptr
        | Kind::Fwd
        | Kind::Typedef
        | Kind::Volatile
        | Kind::Const
        | Kind::Restrict
        | Kind::Func
        | Kind::Float
        | Kind::TypeTag => 0,
        Kind::Unknown(raw) => {
            let l = layout?.get(raw as usize)?;
            if l.info_sz % 4 != 0 || l.elem_sz % 4 != 0 {
                return None;
            }
            l.info_sz as usize / 4 + vlen * (l.elem_sz as usize / 4)
        }
    };
    Some(COMMON_WORDS + extra)
}

/// Word positions inside one record: a few fixed ones, then one per trailing
/// element at `first + stride * i`.
#[derive(Clone, Debug)]
pub struct Slots {
    fixed: &'static [usize],
    first: usize,
    stride: usize,
    count: usize,
    next_fixed: usize,
    next_elem: usize,
}

impl Slots {
    fn new(fixed: &'static [usize], first: usize, stride: usize, count: usize) -> Slots {
        Slots {
            fixed,
            first,
            stride,
            count,
            next_fixed: 0,
            next_elem: 0,
        }
    }

    fn fixed(fixed: &'static [usize]) -> Slots {
        Slots::new(fixed, 0, 0, 0)
    }
}

impl Iterator for Slots {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if let Some(&slot) = self.fixed.get(self.next_fixed) {
            self.next_fixed += 1;
            return Some(slot);
        }
        if self.next_elem < self.count {
            let slot = self.first + self.stride * self.next_elem;
            self.next_elem += 1;
            return Some(slot);
        }
        None
    }
}

/// The words of a record that hold type ids, in record order.
pub fn type_id_slots(info: Info) -> Slots {
    let vlen = info.vlen() as usize;
    match info.kind() {
        Kind::Ptr
        | Kind::Typedef
        | Kind::Volatile
        | Kind::Const
        | Kind::Restrict
        | Kind::Func
        | Kind::Var
        | Kind::DeclTag
        | Kind::TypeTag => Slots::fixed(&[2]),
        Kind::Array => Slots::fixed(&[3, 4]),
        Kind::Struct | Kind::Union => Slots::new(&[], 4, 3, vlen),
        Kind::FuncProto => Slots::new(&[2], 4, 2, vlen),
        Kind::Datasec => Slots::new(&[], 3, 3, vlen),
        Kind::Int | Kind::Enum | Kind::Fwd | Kind::Float | Kind::Enum64 | Kind::Unknown(_) => {
            Slots::fixed(&[])
        }
    }
}

/// The words of a record that hold string offsets, in record order.
pub fn str_off_slots(info: Info) -> Slots {
    let vlen = info.vlen() as usize;
    match info.kind() {
        Kind::Struct | Kind::Union | Kind::Enum64 => Slots::new(&[0], 3, 3, vlen),
        Kind::Enum | Kind::FuncProto => Slots::new(&[0], 3, 2, vlen),
        _ => Slots::fixed(&[0]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn struct_slots_walk_members() {
        let info = Info::new(Kind::Struct, false, 2);
        assert_eq!(record_words(info, None), Some(9));
        assert_eq!(type_id_slots(info).collect::<Vec<_>>(), [4, 7]);
        assert_eq!(str_off_slots(info).collect::<Vec<_>>(), [0, 3, 6]);
    }

    #[test]
    fn proto_slots_include_return_type() {
        let info = Info::new(Kind::FuncProto, false, 2);
        assert_eq!(record_words(info, None), Some(7));
        assert_eq!(type_id_slots(info).collect::<Vec<_>>(), [2, 4, 6]);
        assert_eq!(str_off_slots(info).collect::<Vec<_>>(), [0, 3, 5]);
    }

    #[test]
    fn unknown_kinds_need_a_layout() {
        let info = Info::new(Kind::Unknown(20), false, 3);
        assert_eq!(record_words(info, None), None);
        let mut layout = vec![
            KindLayout {
                info_sz: 0,
                elem_sz: 0,
                flags: 0
            };
            21
        ];
        layout[20] = KindLayout {
            info_sz: 4,
            elem_sz: 8,
            flags: 0,
        };
        assert_eq!(record_words(info, Some(&layout)), Some(3 + 1 + 6));
        layout[20].elem_sz = 6;
        assert_eq!(record_words(info, Some(&layout)), None);
    }
}
