//! Type signatures: the hashes that pick candidates, and the comparisons
//! that decide between them, kind by kind.
//!
//! The hashes are libbpf's, bit for bit (`h * 31 + field` over a wrapping
//! 64-bit `long`): candidates sharing a hash are visited in the order of
//! libbpf's hash map, so two types must share a hash here exactly when they
//! do there. Hashes leave out what is not settled when they are taken: a
//! struct's member types, and everything of an enum but its name (so that a
//! forward declaration meets its definition).
//!
//! All functions take record words (`name_off, info, size|type, ...`).

use crate::record::COMMON_WORDS;
use crate::{Info, Kind};

fn combine(h: u64, value: u32) -> u64 {
    h.wrapping_mul(31).wrapping_add(value as u64)
}

fn vlen(w: &[u32]) -> usize {
    Info(w[1]).vlen() as usize
}

/// Name, info and size/type.
pub(super) fn hash_common(w: &[u32]) -> u64 {
    combine(combine(combine(0, w[0]), w[1]), w[2])
}

/// INT and DECL_TAG: the common part and the one trailing word.
pub(super) fn hash_int_decl_tag(w: &[u32]) -> u64 {
    combine(hash_common(w), w[3])
}

/// ENUM and ENUM64: the name only, so forward declarations collide with definitions.
pub(super) fn hash_enum(w: &[u32]) -> u64 {
    combine(0, w[0])
}

/// STRUCT and UNION: common part, member names and offsets, not member types.
pub(super) fn hash_struct(w: &[u32]) -> u64 {
    w[COMMON_WORDS..]
        .chunks_exact(3)
        .fold(hash_common(w), |h, m| combine(combine(h, m[0]), m[2]))
}

/// TYPEDEF as libbpf 1.7's struct phase hashes it: name and info, not
/// the referenced type (base typedefs stay under [`hash_common`]).
pub(super) fn hash_typedef(w: &[u32]) -> u64 {
    combine(combine(0, w[0]), w[1])
}

/// libbpf 1.7's `btf_equal_typedef`: name and info.
pub(super) fn equal_typedef(a: &[u32], b: &[u32]) -> bool {
    a[0] == b[0] && a[1] == b[1]
}

/// ARRAY: everything, element and index types included (already canonical).
pub(super) fn hash_array(w: &[u32]) -> u64 {
    combine(combine(combine(hash_common(w), w[3]), w[4]), w[5])
}

/// FUNC_PROTO: everything, parameter types included (already canonical).
pub(super) fn hash_fnproto(w: &[u32]) -> u64 {
    w[COMMON_WORDS..]
        .chunks_exact(2)
        .fold(hash_common(w), |h, p| combine(combine(h, p[0]), p[1]))
}

/// Exact equality of two records: what libbpf's `btf_equal_*` checks for
/// INT, FLOAT, FWD, full enums, tags, modifiers, ARRAY and FUNC_PROTO, where
/// every field counts (equal `info` implies equal length).
pub(super) fn equal(a: &[u32], b: &[u32]) -> bool {
    a == b
}

fn equal_common(a: &[u32], b: &[u32]) -> bool {
    a[..COMMON_WORDS] == b[..COMMON_WORDS]
}

fn is_any_enum(w: &[u32]) -> bool {
    matches!(Info(w[1]).kind(), Kind::Enum | Kind::Enum64)
}

/// An ENUM or ENUM64 without values: a forward declaration.
pub(super) fn is_enum_fwd(w: &[u32]) -> bool {
    is_any_enum(w) && vlen(w) == 0
}

/// Equal enums, or an enum forward and any enum (either width) of that name.
pub(super) fn compat_enum(a: &[u32], b: &[u32]) -> bool {
    if !is_enum_fwd(a) && !is_enum_fwd(b) {
        return equal(a, b);
    }
    a[0] == b[0] && is_any_enum(a) && is_any_enum(b)
}

/// Same struct shape: common part, member names and offsets (types unchecked).
pub(super) fn shallow_equal_struct(a: &[u32], b: &[u32]) -> bool {
    equal_common(a, b)
        && a[COMMON_WORDS..]
            .chunks_exact(3)
            .zip(b[COMMON_WORDS..].chunks_exact(3))
            .all(|(x, y)| x[0] == y[0] && x[2] == y[2])
}

/// Same array shape: common part and element count (types unchecked).
pub(super) fn compat_array(a: &[u32], b: &[u32]) -> bool {
    equal_common(a, b) && a[5] == b[5]
}

/// Same prototype shape: name, info and parameter names (types unchecked).
pub(super) fn compat_fnproto(a: &[u32], b: &[u32]) -> bool {
    a[0] == b[0]
        && a[1] == b[1]
        && a[COMMON_WORDS..]
            .chunks_exact(2)
            .zip(b[COMMON_WORDS..].chunks_exact(2))
            .all(|(x, y)| x[0] == y[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(kind: Kind, vlen: u32) -> u32 {
        Info::new(kind, false, vlen).0
    }

    #[test]
    fn hashes_follow_libbpf_arithmetic() {
        // ((0*31 + 5)*31 + info)*31 + 4, in wrapping 64-bit arithmetic.
        let w = [5, info(Kind::Int, 0), 4, 32];
        let common = (5u64 * 31 + w[1] as u64) * 31 + 4;
        assert_eq!(hash_common(&w), common);
        assert_eq!(hash_int_decl_tag(&w), common * 31 + 32);
        let big = [u32::MAX; 3];
        let h = (u32::MAX as u64)
            .wrapping_mul(31)
            .wrapping_add(u32::MAX as u64)
            .wrapping_mul(31)
            .wrapping_add(u32::MAX as u64);
        assert_eq!(hash_common(&big), h);
    }

    #[test]
    fn struct_hash_ignores_member_types() {
        let a = [1, info(Kind::Struct, 2), 8, 2, 10, 0, 3, 11, 32];
        let mut b = a;
        b[4] = 20;
        b[7] = 21;
        assert_eq!(hash_struct(&a), hash_struct(&b));
        assert!(shallow_equal_struct(&a, &b));
        b[8] = 33;
        assert_ne!(hash_struct(&a), hash_struct(&b));
        assert!(!shallow_equal_struct(&a, &b));
    }

    #[test]
    fn enum_forwards_meet_either_width() {
        let fwd = [7, info(Kind::Enum, 0), 4];
        let full = [7, info(Kind::Enum64, 1), 8, 9, 1, 0];
        let other = [8, info(Kind::Enum, 0), 4];
        assert_eq!(hash_enum(&fwd), hash_enum(&full));
        assert!(compat_enum(&fwd, &full) && compat_enum(&full, &fwd));
        assert!(!compat_enum(&fwd, &other));
        let full32 = [7, info(Kind::Enum, 1), 4, 9, 1];
        assert!(!compat_enum(&full, &full32));
    }

    #[test]
    fn proto_shape_skips_return_and_param_types() {
        let a = [0, info(Kind::FuncProto, 1), 3, 4, 5];
        let b = [0, info(Kind::FuncProto, 1), 6, 4, 7];
        assert!(compat_fnproto(&a, &b));
        assert!(!equal(&a, &b));
        assert_ne!(hash_fnproto(&a), hash_fnproto(&b));
    }
}
