//! pahole 1.30's ELF function table (`struct elf_functions`): every
//! `STT_FUNC` symbol, duplicates included, sorted with glibc's `qsort` by a
//! comparator that looks only at the part before the first dot when both
//! prefixes have the same length, and searched with glibc's `bsearch`.
//!
//! The comparator is not an order: `foo.cold` compares equal to `foo` (same
//! prefix length) while whole names decide against `foo_bar`, so the sort
//! can leave `foo` where an exact lookup (whole names) does not look, and
//! the lookup misses it. The table reproduces those misses, since the
//! kernel's BTF was built with them: on the trixie vmlinux the exact lookup
//! misses 591 names that have a symbol of their own, 40 of them `__pfx_`.

use std::cmp::Ordering;

use super::glibc;

/// One function symbol.
#[derive(Clone, Debug)]
pub struct ElfFunction<'a> {
    pub name: &'a [u8],
    /// The length of the name before its first dot (all of it without one).
    pub prefixlen: usize,
    /// The `.BTF_ids` flags when the function is a kfunc (decl_tag_kfuncs).
    pub kfunc_flags: Option<u32>,
    /// pahole 1.32 (grouped table): every symbol of this name before the
    /// dot, `.cold` and `.part` pieces left out, with its `st_value`.
    pub syms: Vec<(&'a [u8], u64)>,
    /// pahole 1.32: those symbols are at more than one address.
    pub ambiguous: bool,
}

impl<'a> ElfFunction<'a> {
    pub fn new(name: &'a [u8]) -> Self {
        ElfFunction {
            name,
            prefixlen: name.iter().position(|&c| c == b'.').unwrap_or(name.len()),
            kfunc_flags: None,
            syms: Vec::new(),
            ambiguous: false,
        }
    }
}

/// C's `strncmp` on names without NUL bytes.
fn strncmp(a: &[u8], b: &[u8], n: usize) -> Ordering {
    a[..n.min(a.len())].cmp(&b[..n.min(b.len())])
}

/// pahole 1.30's `functions_cmp`: a lookup key or table entry `a` against
/// entry `b`. A zero `a_prefixlen` asks for the whole name.
pub fn functions_cmp(a: &[u8], a_prefixlen: usize, b: &[u8], b_prefixlen: usize) -> Ordering {
    if a_prefixlen != 0 && a_prefixlen == b_prefixlen {
        strncmp(a, b, b_prefixlen)
    } else {
        a.cmp(b)
    }
}

/// The sorted table of one ELF file.
#[derive(Debug, Default)]
pub struct ElfFunctions<'a> {
    pub entries: Vec<ElfFunction<'a>>,
    /// How many names have a dot (`.isra.0`, `.cold`, ...): without any,
    /// pahole does not try the prefix lookup.
    pub suffix_cnt: usize,
    /// pahole 1.32's table: one entry per name before the first dot,
    /// sorted by `strcmp` and unique, so lookups are exact.
    pub grouped: bool,
}

/// pahole 1.32's `str_contains_non_fn_suffix`: a `.cold` or `.part`
/// anywhere after the first dot (`.part.0.isra.0` too).
fn non_fn_suffix(name: &[u8]) -> bool {
    contains_after_dot(name, &[b".cold", b".part"])
}

/// pahole 1.32's `str_contains_optimized_fn_suffix`.
pub fn optimized_fn_suffix(name: &[u8]) -> bool {
    contains_after_dot(name, &[b".constprop", b".isra"])
}

fn contains_after_dot(name: &[u8], needles: &[&[u8]]) -> bool {
    let Some(dot) = name.iter().position(|&c| c == b'.') else {
        return false;
    };
    let suffix = &name[dot..];
    needles
        .iter()
        .any(|n| suffix.windows(n.len()).any(|w| w == *n))
}

impl<'a> ElfFunctions<'a> {
    /// The table of these function names, given in symbol table order.
    pub fn new(names: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut entries: Vec<ElfFunction<'a>> = names.into_iter().map(ElfFunction::new).collect();
        let suffix_cnt = entries.iter().filter(|f| f.name.contains(&b'.')).count();
        glibc::qsort(&mut entries, &mut |a, b| {
            functions_cmp(a.name, a.prefixlen, b.name, b.prefixlen)
        });
        ElfFunctions {
            entries,
            suffix_cnt,
            grouped: false,
        }
    }

    /// pahole 1.32's table of these function symbols (name, `st_value`),
    /// given in symbol table order: `.cold` and `.part` pieces are left
    /// out, the others grouped under their name before the first dot
    /// (symbols in table order within a group, as glibc's merge sort keeps
    /// them), and a group whose symbols are at more than one address is
    /// marked ambiguous, except the last (pahole's loop never checks it:
    /// fat.ko's two static `init_once` stay in its BTF).
    pub fn grouped(syms: impl IntoIterator<Item = (&'a [u8], u64)>) -> Self {
        let mut all: Vec<(&'a [u8], &'a [u8], u64)> = syms
            .into_iter()
            .filter(|(name, _)| !non_fn_suffix(name))
            .map(|(name, addr)| {
                let base = &name[..name.iter().position(|&c| c == b'.').unwrap_or(name.len())];
                (base, name, addr)
            })
            .collect();
        all.sort_by(|a, b| a.0.cmp(b.0));
        let mut entries: Vec<ElfFunction<'a>> = Vec::new();
        for (base, name, addr) in all {
            match entries.last_mut() {
                Some(e) if e.name == base => e.syms.push((name, addr)),
                _ => {
                    let mut e = ElfFunction::new(base);
                    e.syms.push((name, addr));
                    entries.push(e);
                }
            }
        }
        // pahole decides a group's ambiguity when the next name starts, so
        // the last name's never is.
        let last = entries.len().saturating_sub(1);
        for e in &mut entries[..last] {
            // pahole's `elf_function__has_ambiguous_address` (an address
            // of 0 does not count as a first address).
            let mut first = 0;
            e.ambiguous = e.syms.len() > 1
                && e.syms.iter().any(|&(_, a)| {
                    if first != 0 && first != a {
                        true
                    } else {
                        first = a;
                        false
                    }
                });
        }
        ElfFunctions {
            entries,
            suffix_cnt: 0,
            grouped: true,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// pahole's exact lookup (`prefixlen` 0: `strcmp` against every entry).
    pub fn find_exact(&self, name: &[u8]) -> Option<usize> {
        if self.grouped {
            return self.entries.binary_search_by(|e| e.name.cmp(name)).ok();
        }
        glibc::bsearch(&self.entries, |e| {
            functions_cmp(name, 0, e.name, e.prefixlen)
        })
    }

    /// pahole's prefix lookup (optimized_func): `name` against entries whose
    /// part before the dot has the same length.
    pub fn find_prefix(&self, name: &[u8]) -> Option<usize> {
        glibc::bsearch(&self.entries, |e| {
            functions_cmp(name, name.len(), e.name, e.prefixlen)
        })
    }

    /// pahole's `saved_functions_cmp`: two entries' order.
    pub fn cmp(&self, a: usize, b: usize) -> Ordering {
        if self.grouped {
            return self.entries[a].name.cmp(self.entries[b].name);
        }
        let (a, b) = (&self.entries[a], &self.entries[b]);
        functions_cmp(a.name, a.prefixlen, b.name, b.prefixlen)
    }

    /// pahole's `saved_functions_combine` test: the same function when the
    /// names agree up to the longer prefix.
    pub fn same_function(&self, a: usize, b: usize) -> bool {
        if self.grouped {
            return a == b;
        }
        let (a, b) = (&self.entries[a], &self.entries[b]);
        strncmp(a.name, b.name, a.prefixlen.max(b.prefixlen)) == Ordering::Equal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_lookup_finds_clones() {
        let t = ElfFunctions::new([&b"foo.isra.0"[..], b"bar", b"baz"]);
        assert_eq!(t.suffix_cnt, 1);
        assert!(t.find_exact(b"foo").is_none());
        let i = t.find_prefix(b"foo").unwrap();
        assert_eq!(t.entries[i].name, b"foo.isra.0");
        assert_eq!(t.entries[t.find_exact(b"bar").unwrap()].name, b"bar");
    }

    #[test]
    fn grouped_table_132() {
        let syms: [(&[u8], u64); 8] = [
            (b"b.isra.0", 0x10),
            (b"a", 0x20),
            (b"b.cold", 0x30),
            (b"c.part.0.isra.0", 0x40),
            (b"a.constprop.0", 0x50),
            (b"b", 0x10),
            (b"z", 0x60),
            (b"z", 0x70),
        ];
        let t = ElfFunctions::grouped(syms);
        let names: Vec<&[u8]> = t.entries.iter().map(|e| e.name).collect();
        assert_eq!(names, [&b"a"[..], b"b", b"z"]);
        assert!(t.entries[0].ambiguous && !t.entries[1].ambiguous);
        // The last name is never checked.
        assert!(!t.entries[2].ambiguous);
        assert_eq!(t.find_exact(b"b"), Some(1));
        assert_eq!(t.find_exact(b"c"), None);
        assert!(optimized_fn_suffix(b"x.part.0.isra.0") && !optimized_fn_suffix(b"x.cold"));
    }

    #[test]
    fn exact_lookup_can_miss_like_pahole() {
        // `a.cold` sorts equal to `a` but the exact key compares whole names:
        // with `a_b` between them in the table, bsearch goes the wrong way.
        let names: [&[u8]; 3] = [b"a.cold", b"a_b", b"a"];
        let t = ElfFunctions::new(names);
        let order: Vec<&[u8]> = t.entries.iter().map(|e| e.name).collect();
        // [a.cold] | [a_b, a] -> [a, a_b] (strcmp, prefix lengths differ);
        // then a.cold vs a: equal prefixes, a.cold stays first.
        assert_eq!(order, [&b"a.cold"[..], b"a", b"a_b"]);
        assert!(t.find_exact(b"a").is_some());
    }
}
