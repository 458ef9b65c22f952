//! glibc's `qsort` and `bsearch`, step for step, for comparators that are
//! not a total order.
//!
//! pahole 1.30 sorts its ELF function table and its saved functions with a
//! comparator that treats `foo` and `foo.cold` as equal when their prefix
//! lengths match but not otherwise: not transitive. What such a sort leaves
//! and what a lookup then finds depend on the exact algorithm, and the
//! kernel's BTF holds the result of glibc's (trixie: 2.41, where `qsort` is
//! the stable top-down merge sort again). These functions make the same
//! comparisons in the same order.

use std::cmp::Ordering;

/// glibc's `msort_with_tmp` over `v`: halves sorted recursively (the first
/// half has `n / 2` elements), then merged, taking from the first half
/// while `cmp(first, second) <= 0`.
pub fn qsort<T: Clone>(v: &mut [T], cmp: &mut impl FnMut(&T, &T) -> Ordering) {
    let mut tmp = Vec::with_capacity(v.len());
    msort(v, &mut tmp, cmp);
}

fn msort<T: Clone>(v: &mut [T], tmp: &mut Vec<T>, cmp: &mut impl FnMut(&T, &T) -> Ordering) {
    let n = v.len();
    if n <= 1 {
        return;
    }
    let n1 = n / 2;
    {
        let (a, b) = v.split_at_mut(n1);
        msort(a, tmp, cmp);
        msort(b, tmp, cmp);
    }
    tmp.clear();
    let (mut i, mut j) = (0, n1);
    while i < n1 && j < n {
        if cmp(&v[i], &v[j]) != Ordering::Greater {
            tmp.push(v[i].clone());
            i += 1;
        } else {
            tmp.push(v[j].clone());
            j += 1;
        }
    }
    // What is left of the second half is already in place.
    tmp.extend_from_slice(&v[i..n1]);
    let done = tmp.len();
    v[..done].clone_from_slice(tmp);
}

/// glibc's `bsearch`: `cmp(key, element)`; the middle is `(l + u) / 2`.
pub fn bsearch<T>(v: &[T], mut cmp: impl FnMut(&T) -> Ordering) -> Option<usize> {
    let (mut l, mut u) = (0, v.len());
    while l < u {
        let idx = (l + u) / 2;
        match cmp(&v[idx]) {
            Ordering::Less => u = idx,
            Ordering::Greater => l = idx + 1,
            Ordering::Equal => return Some(idx),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_stably_and_finds() {
        let mut v = vec![(3, 'a'), (1, 'b'), (3, 'c'), (2, 'd'), (1, 'e')];
        qsort(&mut v, &mut |a, b| a.0.cmp(&b.0));
        assert_eq!(v, [(1, 'b'), (1, 'e'), (2, 'd'), (3, 'a'), (3, 'c')]);
        assert_eq!(bsearch(&v, |e| 2.cmp(&e.0)), Some(2));
        assert_eq!(bsearch(&v, |e| 4.cmp(&e.0)), None);
    }

    #[test]
    fn non_transitive_order_follows_the_merges() {
        // "b" equals everything, the others compare by value: the result is
        // what the merges make of it, not a sorted sequence.
        let cmp = &mut |a: &&str, b: &&str| {
            if *a == "b" || *b == "b" {
                Ordering::Equal
            } else {
                a.cmp(b)
            }
        };
        let mut v = vec!["c", "b", "a"];
        qsort(&mut v, cmp);
        // [c] | [b, a]: "b" <= "a" keeps [b, a]; then "c" <= "b" puts c
        // first, and the list stays unsorted.
        assert_eq!(v, ["c", "b", "a"]);
    }
}
