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
}

impl<'a> ElfFunction<'a> {
    pub fn new(name: &'a [u8]) -> Self {
        ElfFunction {
            name,
            prefixlen: name.iter().position(|&c| c == b'.').unwrap_or(name.len()),
            kfunc_flags: None,
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
        }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// pahole's exact lookup (`prefixlen` 0: `strcmp` against every entry).
    pub fn find_exact(&self, name: &[u8]) -> Option<usize> {
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
        let (a, b) = (&self.entries[a], &self.entries[b]);
        functions_cmp(a.name, a.prefixlen, b.name, b.prefixlen)
    }

    /// pahole's `saved_functions_combine` test: the same function when the
    /// names agree up to the longer prefix.
    pub fn same_function(&self, a: usize, b: usize) -> bool {
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
