//! The kfunc flags (`KF_*` of `include/linux/btf.h`) stored beside each id of a set8.

/// `BTF_SET8_KFUNCS`: the set8 header flag of a kfunc set.
pub const BTF_SET8_KFUNCS: u32 = 1 << 0;

/// `KF_IMPLICIT_ARGS`: the kfunc's trailing arguments are supplied by the
/// verifier; resolve_btfids 7.x drops them from its BTF prototype
/// ([`crate::implicit_args`]).
pub const KF_IMPLICIT_ARGS: u32 = 1 << 16;

/// `KF_*` flag names and bits. Bit 3 (the former `KF_KPTR_GET`) is unused.
pub const KF_FLAGS: [(&str, u32); 16] = [
    ("KF_ACQUIRE", 1 << 0),
    ("KF_RELEASE", 1 << 1),
    ("KF_RET_NULL", 1 << 2),
    ("KF_TRUSTED_ARGS", 1 << 4),
    ("KF_SLEEPABLE", 1 << 5),
    ("KF_DESTRUCTIVE", 1 << 6),
    ("KF_RCU", 1 << 7),
    ("KF_ITER_NEW", 1 << 8),
    ("KF_ITER_NEXT", 1 << 9),
    ("KF_ITER_DESTROY", 1 << 10),
    ("KF_RCU_PROTECTED", 1 << 11),
    ("KF_FASTCALL", 1 << 12),
    ("KF_ARENA_RET", 1 << 13),
    ("KF_ARENA_ARG1", 1 << 14),
    ("KF_ARENA_ARG2", 1 << 15),
    ("KF_IMPLICIT_ARGS", 1 << 16),
];

/// The flags as `KF_A|KF_B`, unknown bits in hex, `0` for none.
///
/// ```
/// assert_eq!(kbtf_btfids::kfunc::flag_names(5), "KF_ACQUIRE|KF_RET_NULL");
/// assert_eq!(kbtf_btfids::kfunc::flag_names(8), "0x8");
/// ```
pub fn flag_names(flags: u32) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut rest = flags;
    for (name, bit) in KF_FLAGS {
        if flags & bit != 0 {
            parts.push(name.into());
            rest &= !bit;
        }
    }
    if rest != 0 {
        parts.push(format!("{rest:#x}"));
    }
    if parts.is_empty() {
        "0".into()
    } else {
        parts.join("|")
    }
}
