//! The type graph equivalence check of the struct phase.
//!
//! Two graphs are walked in lock step from a candidate type (the new struct)
//! and a canonical one (an earlier representative). Each visited canonical id
//! is recorded in the hypothetical map with the candidate id it met; meeting
//! it again with the same candidate id closes a cycle, meeting it with a
//! different one is a contradiction: the graphs differ. Types must agree on
//! everything but the ids they reference, which the walk follows.
//!
//! Forward declarations: the canonical side is read through FWD -> struct
//! links already established, the candidate side never is. A FWD and a
//! struct or union of the same name are equivalent when the FWD's kind flag
//! says that kind; if the FWD is a base type (immutable), the result is
//! flagged `adjust_canon` and the caller treats it as not equivalent.
//!
//! Compilers sometimes emit identical copies of an array or struct type
//! inside one unit; a contradiction between two such copies (equal down to
//! the referenced ids) is forgiven ([`identical_arrays`], [`identical_structs`]).
//!
//! The walk is depth first and stops at the first difference, like libbpf's
//! recursion, but keeps its pending pairs on an explicit stack: pairs are
//! visited in the same order (children pushed in reverse), and since the
//! result is just the conjunction, nothing happens on the way back up.
//! Kernel type graphs are deep enough that recursion would risk small
//! thread stacks.

use super::signature::{compat_array, compat_enum, compat_fnproto, equal, shallow_equal_struct};
use super::{ty, Dedup, MAX_NR_TYPES};
use crate::record::COMMON_WORDS;
use crate::{Btf, Error, Info, Kind, Result, TypeId};
use rustc_hash::FxHashSet;

impl Dedup {
    /// Whether the graph of `cand_id` is equivalent to that of `canon_id`,
    /// filling the hypothetical map (which the caller has cleared).
    pub(super) fn is_equiv(
        &mut self,
        btf: &Btf,
        stack: &mut Vec<(u32, u32)>,
        cand_id: u32,
        canon_id: u32,
    ) -> Result<bool> {
        stack.clear();
        stack.push((cand_id, canon_id));
        while let Some((cand, canon)) = stack.pop() {
            if !self.equiv_step(btf, stack, cand, canon)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Checks one pair; pushes the pairs its referenced ids form.
    fn equiv_step(
        &mut self,
        btf: &Btf,
        stack: &mut Vec<(u32, u32)>,
        cand_id: u32,
        canon_id: u32,
    ) -> Result<bool> {
        if self.resolve(cand_id) == self.resolve(canon_id) {
            return Ok(true);
        }
        let canon_id = self.resolve_fwd(btf, canon_id);
        let hypot = self.hypot[canon_id as usize];
        if hypot <= MAX_NR_TYPES {
            if self.libbpf_1_7 {
                return Ok(hypot == cand_id || identical_types(btf, hypot, cand_id, 16));
            }
            return Ok(hypot == cand_id
                || identical_arrays(btf, hypot, cand_id)
                || identical_structs(btf, hypot, cand_id));
        }
        self.hypot[canon_id as usize] = cand_id;
        self.hypot_list.push(canon_id);

        let cand = ty(btf, cand_id);
        let canon = ty(btf, canon_id);
        if cand.name_off() != canon.name_off() {
            return Ok(false);
        }
        let (cand_kind, canon_kind) = (cand.kind(), canon.kind());
        if (cand_kind == Kind::Fwd || canon_kind == Kind::Fwd) && cand_kind != canon_kind {
            let (real_kind, fwd_kind) = if cand_kind == Kind::Fwd {
                (canon_kind, fwd_kind(cand.info()))
            } else {
                let fwd_kind = fwd_kind(canon.info());
                if fwd_kind == cand_kind && canon_id < self.start_id {
                    self.adjust_canon = true;
                }
                (cand_kind, fwd_kind)
            };
            return Ok(fwd_kind == real_kind);
        }
        if cand_kind != canon_kind {
            return Ok(false);
        }
        let (a, b) = (cand.words(), canon.words());
        match cand_kind {
            Kind::Int | Kind::Fwd | Kind::Float => Ok(equal(a, b)),
            Kind::Enum | Kind::Enum64 => Ok(compat_enum(a, b)),
            Kind::Const
            | Kind::Volatile
            | Kind::Restrict
            | Kind::Ptr
            | Kind::Typedef
            | Kind::Func
            | Kind::TypeTag => {
                if a[1] != b[1] {
                    return Ok(false);
                }
                stack.push((a[2], b[2]));
                Ok(true)
            }
            Kind::Array => {
                if !compat_array(a, b) {
                    return Ok(false);
                }
                // Index type first, then element type: pushed in reverse.
                stack.push((a[3], b[3]));
                stack.push((a[4], b[4]));
                Ok(true)
            }
            Kind::Struct | Kind::Union => {
                if !shallow_equal_struct(a, b) {
                    return Ok(false);
                }
                let n = (a.len() - COMMON_WORDS) / 3;
                for i in (0..n).rev() {
                    let slot = COMMON_WORDS + 3 * i + 1;
                    stack.push((a[slot], b[slot]));
                }
                Ok(true)
            }
            Kind::FuncProto => {
                if !compat_fnproto(a, b) {
                    return Ok(false);
                }
                let n = (a.len() - COMMON_WORDS) / 2;
                for i in (0..n).rev() {
                    let slot = COMMON_WORDS + 2 * i + 1;
                    stack.push((a[slot], b[slot]));
                }
                stack.push((a[2], b[2]));
                Ok(true)
            }
            // VAR, DATASEC and DECL_TAG have no place in a struct's graph;
            // libbpf fails the whole dedup when it meets two of them.
            kind => Err(Error::Invalid {
                id: TypeId(cand_id),
                what: format!(
                    "a {} is referenced where dedup expects a member, pointee or parameter type",
                    kind.name()
                ),
            }),
        }
    }

    /// A FWD already resolved to a struct or union stands for it; anything
    /// else stands for itself.
    fn resolve_fwd(&self, btf: &Btf, id: u32) -> u32 {
        if ty(btf, id).kind() != Kind::Fwd {
            return id;
        }
        let resolved = self.resolve(id);
        if ty(btf, resolved).kind() != Kind::Fwd {
            resolved
        } else {
            id
        }
    }
}

/// The kind a FWD declares: its kind flag picks union over struct.
fn fwd_kind(info: Info) -> Kind {
    if info.kind_flag() {
        Kind::Union
    } else {
        Kind::Struct
    }
}

/// Two ARRAY types equal down to their element and index ids.
fn identical_arrays(btf: &Btf, id1: u32, id2: u32) -> bool {
    let (a, b) = (ty(btf, id1), ty(btf, id2));
    a.kind() == Kind::Array && b.kind() == Kind::Array && equal(a.words(), b.words())
}

/// Two structs (or two unions) of the same shape whose member types are the
/// same ids, or identical arrays, or (recursively) identical structs.
///
/// libbpf 1.1.2 recurses here without bound, so it overflows its stack on
/// structs that contain each other by value (impossible in C, but valid
/// BTF): `struct s { struct t x; }` and `struct t { struct s x; }` as two
/// copies of one `struct s { struct s x; }`. The answer is a conjunction
/// over the pairs reachable through members, so each pair is checked once
/// and a pair met again adds nothing: that gives libbpf's answer wherever
/// libbpf gives one, and treats copies of such a loop as identical.
fn identical_structs(btf: &Btf, id1: u32, id2: u32) -> bool {
    let mut seen: FxHashSet<(u32, u32)> = FxHashSet::default();
    let mut pending = vec![(id1, id2)];
    while let Some((id1, id2)) = pending.pop() {
        if !seen.insert((id1, id2)) {
            continue;
        }
        let (a, b) = (ty(btf, id1), ty(btf, id2));
        if !matches!(a.kind(), Kind::Struct | Kind::Union) || a.kind() != b.kind() {
            return false;
        }
        if !shallow_equal_struct(a.words(), b.words()) {
            return false;
        }
        for (m1, m2) in a.members().zip(b.members()) {
            let (t1, t2) = (m1.type_id.0, m2.type_id.0);
            if t1 != t2 && !identical_arrays(btf, t1, t2) {
                pending.push((t1, t2));
            }
        }
    }
    true
}

/// libbpf 1.7's `btf_dedup_identical_types`: two types equal down to
/// `depth` levels of referenced ids. Modifiers, pointers, typedefs, funcs
/// and type tags are followed without using up depth; arrays compare only
/// their shape (libbpf reads both arrays' ids from the first one);
/// structs, unions and prototypes compare their member, return and
/// parameter types where the ids differ.
fn identical_types(btf: &Btf, id1: u32, id2: u32, depth: i32) -> bool {
    let (mut id1, mut id2) = (id1, id2);
    // libbpf loops through modifier chains without a bound; valid BTF has
    // no modifier-only cycles, and this bound keeps bad input from hanging.
    for _ in 0..=btf.type_count() {
        if depth <= 0 {
            return false;
        }
        // Void is kind 0 in libbpf: equal only to void.
        if id1 == 0 || id2 == 0 || id1 == id2 {
            return id1 == id2;
        }
        let (t1, t2) = (ty(btf, id1), ty(btf, id2));
        if t1.kind() != t2.kind() {
            return false;
        }
        let (a, b) = (t1.words(), t2.words());
        return match t1.kind() {
            Kind::Int | Kind::Fwd | Kind::Float => equal(a, b),
            Kind::Enum | Kind::Enum64 => compat_enum(a, b),
            Kind::Const
            | Kind::Volatile
            | Kind::Restrict
            | Kind::Ptr
            | Kind::Typedef
            | Kind::Func
            | Kind::TypeTag => {
                if a[0] != b[0] || a[1] != b[1] {
                    return false;
                }
                id1 = a[2];
                id2 = b[2];
                continue;
            }
            Kind::Array => compat_array(a, b),
            Kind::Struct | Kind::Union => {
                shallow_equal_struct(a, b)
                    && t1.members().zip(t2.members()).all(|(m1, m2)| {
                        m1.type_id == m2.type_id
                            || identical_types(btf, m1.type_id.0, m2.type_id.0, depth - 1)
                    })
            }
            Kind::FuncProto => {
                compat_fnproto(a, b)
                    && (a[2] == b[2] || identical_types(btf, a[2], b[2], depth - 1))
                    && a[COMMON_WORDS..]
                        .chunks_exact(2)
                        .zip(b[COMMON_WORDS..].chunks_exact(2))
                        .all(|(p, q)| p[1] == q[1] || identical_types(btf, p[1], q[1], depth - 1))
            }
            _ => false,
        };
    }
    false
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::dedup::prep::hash_base;
    use crate::{Info, StrOff};

    const PTR: Info = Info(2 << 24);

    fn strukt(vlen: u32) -> Info {
        Info::new(Kind::Struct, false, vlen)
    }

    /// Two copies of `struct list { struct list *next; int v; }`, the second
    /// one's pointer optionally aimed at a FWD instead.
    fn lists(second_via_fwd: bool) -> Btf {
        let mut b = Btf::new();
        let (int, list, next, v) = (
            b.add_str(b"int").unwrap(),
            b.add_str(b"list").unwrap(),
            b.add_str(b"next").unwrap(),
            b.add_str(b"v").unwrap(),
        );
        let int_info = Info::new(Kind::Int, false, 0);
        for copy in 0..2 {
            let at = b.type_count();
            b.add_type(int, int_info, 4, &[32]).unwrap(); // at
            b.add_type(list, strukt(2), 16, &[next.0, at + 2, 0, v.0, at, 64])
                .unwrap(); // at + 1
            if copy == 1 && second_via_fwd {
                b.add_type(StrOff(0), PTR, at + 3, &[]).unwrap(); // at + 2
                b.add_type(list, Info::new(Kind::Fwd, false, 0), 0, &[])
                    .unwrap(); // at + 3
            } else {
                b.add_type(StrOff(0), PTR, at + 1, &[]).unwrap(); // at + 2
            }
        }
        b
    }

    fn check(d: &mut Dedup, btf: &Btf, cand: u32, canon: u32) -> bool {
        let mut stack = Vec::new();
        for &id in &d.hypot_list {
            d.hypot[id as usize] = super::super::UNPROCESSED;
        }
        d.hypot_list.clear();
        d.adjust_canon = false;
        d.is_equiv(btf, &mut stack, cand, canon).unwrap()
    }

    #[test]
    fn cycles_close_on_the_hypothetical_map() {
        let btf = lists(false);
        let mut d = Dedup::new(&btf);
        // [1] int, [2] list, [3] ptr; [4] int, [5] list, [6] ptr.
        assert!(check(&mut d, &btf, 5, 2));
        // Canonical ids in visiting order: list, ptr (then list again: the cycle), int.
        assert_eq!(d.hypot_list, [2, 3, 1]);
        assert_eq!(d.hypot[2], 5);
        assert!(!d.adjust_canon);
    }

    #[test]
    fn a_contradiction_fails() {
        let btf = lists(false);
        let mut d = Dedup::new(&btf);
        // Pretend canonical `int` [1] already met candidate [5] (the list):
        // meeting it again with [4] contradicts.
        d.hypot[1] = 5;
        d.hypot_list.push(1);
        let mut stack = Vec::new();
        assert!(!d.is_equiv(&btf, &mut stack, 5, 2).unwrap());
    }

    #[test]
    fn a_fwd_matches_a_struct_of_its_name_and_kind() {
        let btf = lists(true);
        let mut d = Dedup::new(&btf);
        // [2] full list; [5] list whose next points at [7] FWD list.
        // Canonical FWD, candidate struct: the FWD stands for the struct.
        assert!(check(&mut d, &btf, 2, 5));
        assert_eq!(d.hypot[7], 2, "canonical FWD met the candidate struct");
        assert!(!d.adjust_canon, "no base FWD involved");
        // The other way round the candidate graph has two types (struct and
        // FWD) for one canonical struct: a contradiction, as in libbpf.
        assert!(!check(&mut d, &btf, 5, 2));
        assert_eq!(d.hypot[2], 5);
    }

    #[test]
    fn a_base_fwd_would_need_changing() {
        // Base: the FWD copy; split: the full one. Equivalent, but only by
        // resolving the base's FWD, which dedup may not change.
        let base = Arc::new(lists(true));
        let mut split = Btf::new_split(base.clone());
        split.add_btf(&lists(false)).unwrap();
        let mut d = Dedup::new(&split);
        hash_base(&mut d, &split);
        // Split [8] int, [9] list, [10] ptr, ...; base [5] list -> [6] ptr -> [7] FWD.
        assert!(check(&mut d, &split, 9, 5));
        assert!(d.adjust_canon);
    }

    #[test]
    fn identical_copies_are_forgiven() {
        let mut b = Btf::new();
        let int = b.add_str(b"int").unwrap();
        b.add_type(int, Info::new(Kind::Int, false, 0), 4, &[32])
            .unwrap(); // 1
        let arr = Info::new(Kind::Array, false, 0);
        b.add_type(StrOff(0), arr, 0, &[1, 1, 4]).unwrap(); // 2
        b.add_type(StrOff(0), arr, 0, &[1, 1, 4]).unwrap(); // 3
        b.add_type(StrOff(0), arr, 0, &[1, 1, 5]).unwrap(); // 4
        let s = b.add_str(b"s").unwrap();
        b.add_type(s, strukt(1), 16, &[s.0, 2, 0]).unwrap(); // 5
        b.add_type(s, strukt(1), 16, &[s.0, 3, 0]).unwrap(); // 6
        assert!(identical_arrays(&b, 2, 3));
        assert!(!identical_arrays(&b, 2, 4));
        assert!(identical_structs(&b, 5, 6));
        assert!(!identical_structs(&b, 5, 2));
    }

    /// Copies of a struct that holds itself by value, one of them split
    /// into two structs holding each other: libbpf 1.1.2 recurses forever.
    #[test]
    fn identical_copies_of_a_loop_end() {
        let mut b = Btf::new();
        let (s, x) = (b.add_str(b"s").unwrap(), b.add_str(b"x").unwrap());
        b.add_type(s, strukt(1), 4, &[x.0, 1, 0]).unwrap(); // 1
        b.add_type(s, strukt(1), 4, &[x.0, 3, 0]).unwrap(); // 2
        b.add_type(s, strukt(1), 4, &[x.0, 2, 0]).unwrap(); // 3
        assert!(identical_structs(&b, 2, 3));
        assert!(identical_structs(&b, 1, 2));
        let mut d = Dedup::new(&b);
        assert!(check(&mut d, &b, 2, 1));
    }
}
