//! The names of `.BTF_ids` symbols, as `include/linux/btf_ids.h` spells them:
//! `__BTF_ID__<kind>__<name>__<N>` for one id, `__BTF_ID__set__<name>` and
//! `__BTF_ID__set8__<name>` for sets.

use std::fmt;

use kbtf_btf::Kind;

use crate::{Error, Result};

/// The prefix of every symbol resolve_btfids looks at.
pub const BTF_ID_PREFIX: &str = "__BTF_ID__";

/// What a `__BTF_ID__` symbol stands for.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IdKind {
    /// A struct.
    Struct,
    /// A union.
    Union,
    /// A typedef.
    Typedef,
    /// A function.
    Func,
    /// `struct btf_id_set { u32 cnt; u32 ids[]; }`
    Set,
    /// `struct btf_id_set8 { u32 cnt; u32 flags; struct { u32 id; u32 flags; } pairs[]; }`
    Set8,
}

impl IdKind {
    /// The BTF kind a name of this kind resolves to; `None` for sets.
    pub fn btf_kind(self) -> Option<Kind> {
        match self {
            IdKind::Struct => Some(Kind::Struct),
            IdKind::Union => Some(Kind::Union),
            IdKind::Typedef => Some(Kind::Typedef),
            IdKind::Func => Some(Kind::Func),
            IdKind::Set | IdKind::Set8 => None,
        }
    }

    /// Whether the symbol is a set or set8 rather than one id.
    pub fn is_set(self) -> bool {
        matches!(self, IdKind::Set | IdKind::Set8)
    }

    /// The kind as it appears in symbol names (`struct`, `func`, `set8`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            IdKind::Struct => "struct",
            IdKind::Union => "union",
            IdKind::Typedef => "typedef",
            IdKind::Func => "func",
            IdKind::Set => "set",
            IdKind::Set8 => "set8",
        }
    }
}

impl fmt::Display for IdKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses a symbol name. `Ok(None)` for names without the `__BTF_ID__`
/// prefix; an error for prefixed names resolve_btfids would reject.
///
/// ```
/// use kbtf_btfids::symbol::{parse_symbol_name, IdKind};
/// assert_eq!(
///     parse_symbol_name(b"__BTF_ID__func__vfs_truncate__0").unwrap(),
///     Some((IdKind::Func, &b"vfs_truncate"[..]))
/// );
/// assert_eq!(
///     parse_symbol_name(b"__BTF_ID__set8__nf_ct_kfunc_set").unwrap(),
///     Some((IdKind::Set8, &b"nf_ct_kfunc_set"[..]))
/// );
/// ```
pub fn parse_symbol_name(sym: &[u8]) -> Result<Option<(IdKind, &[u8])>> {
    let Some(rest) = sym.strip_prefix(BTF_ID_PREFIX.as_bytes()) else {
        return Ok(None);
    };
    // The order matters: "set8" must be tried before its prefix "set".
    const KINDS: [(&[u8], IdKind); 6] = [
        (b"struct", IdKind::Struct),
        (b"union", IdKind::Union),
        (b"typedef", IdKind::Typedef),
        (b"func", IdKind::Func),
        (b"set8", IdKind::Set8),
        (b"set", IdKind::Set),
    ];
    let fail = |what: &str| Error::Symbol {
        symbol: String::from_utf8_lossy(sym).into_owned(),
        what: what.into(),
    };
    let (kind, after) = KINDS
        .iter()
        .find_map(|&(p, k)| rest.strip_prefix(p).map(|a| (k, a)))
        .ok_or_else(|| fail("unsupported prefix"))?;
    // Like upstream, skip the two characters after the kind unchecked.
    let name = after
        .get(2..)
        .ok_or_else(|| fail("failed to parse symbol name"))?;
    if kind.is_set() {
        return Ok(Some((kind, name)));
    }
    // `<name>__<N>`: cut at the last '_', which must follow another '_'.
    let cut = name
        .iter()
        .rposition(|&c| c == b'_')
        .filter(|&i| i > 0 && name[i - 1] == b'_')
        .ok_or_else(|| fail("failed to parse symbol name"))?;
    Ok(Some((kind, &name[..cut - 1])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let p = |s: &str| parse_symbol_name(s.as_bytes()).map(|o| o.map(|(k, n)| (k, n.to_vec())));
        assert_eq!(p("printk").unwrap(), None);
        assert_eq!(
            p("__BTF_ID__struct__nf_conn___init__1052266").unwrap(),
            Some((IdKind::Struct, b"nf_conn___init".to_vec()))
        );
        assert_eq!(
            p("__BTF_ID__typedef__u32__3").unwrap(),
            Some((IdKind::Typedef, b"u32".to_vec()))
        );
        assert_eq!(
            p("__BTF_ID__set__btf_id_deny").unwrap(),
            Some((IdKind::Set, b"btf_id_deny".to_vec()))
        );
        assert!(p("__BTF_ID__enum__x__1")
            .unwrap_err()
            .to_string()
            .contains("unsupported prefix"));
        assert!(p("__BTF_ID__func__nounderscore")
            .unwrap_err()
            .to_string()
            .contains("parse"));
        assert!(p("__BTF_ID__func__a_1").is_err());
    }
}
