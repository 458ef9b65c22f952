//! The base's candidate chains, frozen: what [`CandidateTable`] holds after
//! hashing every type of a base, as flat arrays a base index can store and a
//! later process can read without hashing the base again.
//!
//! # What is frozen
//!
//! After the base is hashed, the table is fully described by
//! - its growth state (`len`, `buckets`, `grows`: a function of `len` alone,
//!   so a reader recomputes it and refuses arrays that disagree);
//! - for each hash, its chain *in the order iteration would give now*: the
//!   lazy reversals the table owes a chain are applied before freezing, so
//!   every frozen chain is in order as of the final growth count.
//!
//! The arrays are `hashes` (strictly increasing, so a lookup is a binary
//! search), `ends` (the end of each hash's run in `ids`, cumulative, each
//! run non-empty) and `ids` (base type ids, each below the base's type count).
//!
//! # Thawing
//!
//! A table over a frozen layer starts with the base's growth state and no
//! chains of its own. The first time a hash is touched (an append or a
//! lookup), its frozen run is copied into the table as a chain in that order,
//! marked as in order at the base's growth count; from then on the table
//! treats it as if it had hashed the base itself (a split's growths reverse
//! it lazily, exactly as before). A small module touches a few thousand of
//! a vmlinux's hundred thousand hashes, so most are never copied.

use std::ops::Range;
use std::sync::Arc;

use super::table::CandidateTable;
use crate::input::FileBytes;
use crate::Btf;

/// The frozen chains of one base, as plain arrays (what a base index
/// stores; see the module doc).
pub(crate) struct ChainArrays {
    pub(crate) hashes: Vec<u64>,
    pub(crate) ends: Vec<u32>,
    pub(crate) ids: Vec<u32>,
}

/// Hashes every type of `base` (as dedup's phase 0 does) and freezes the
/// resulting chains.
pub(crate) fn freeze(base: &Btf) -> ChainArrays {
    let mut table = CandidateTable::default();
    super::prep::hash_types(&mut table, base, base.type_count());
    let mut chains = table.export();
    chains.sort_unstable_by_key(|(hash, _)| *hash);
    let mut out = ChainArrays {
        hashes: Vec::with_capacity(chains.len()),
        ends: Vec::with_capacity(chains.len()),
        ids: Vec::new(),
    };
    for (hash, ids) in chains {
        out.ids.extend(ids);
        out.hashes.push(hash);
        out.ends.push(out.ids.len() as u32);
    }
    out
}

/// The table's growth state after `len` appends: `(buckets, grows)`. It
/// mirrors [`CandidateTable::append`]'s rule, so a reader need not trust
/// the stored values.
pub(crate) fn growth_after(len: usize) -> (usize, u32) {
    let (mut buckets, mut grows) = (0usize, 0u32);
    for n in 0..len {
        if buckets == 0 || (n + 1) * 4 / 3 > buckets {
            buckets = (buckets * 2).max(4);
            grows += 1;
        }
    }
    (buckets, grows)
}

/// Frozen chains read from a base index: the arrays are byte ranges of the
/// index file (little-endian), validated once by [`FrozenChains::new`].
pub(crate) struct FrozenChains {
    data: Arc<FileBytes>,
    hashes: Range<usize>,
    ends: Range<usize>,
    ids: Range<usize>,
    /// The table's state after the base: appends, buckets, growth count.
    pub(super) len: usize,
    pub(super) buckets: usize,
    pub(super) grows: u32,
}

impl FrozenChains {
    /// Checks the arrays at these byte ranges of `data` against the module
    /// doc's invariants for a base of `type_count` types; `None` when any
    /// fails. `count` hashes, `id_count` ids.
    pub(crate) fn new(
        data: Arc<FileBytes>,
        start: usize,
        count: usize,
        id_count: usize,
        type_count: u32,
    ) -> Option<FrozenChains> {
        let hashes = start..start.checked_add(count.checked_mul(8)?)?;
        let ends = hashes.end..hashes.end.checked_add(count.checked_mul(4)?)?;
        let ids = ends.end..ends.end.checked_add(id_count.checked_mul(4)?)?;
        data.get(ids.clone())?;
        let (buckets, grows) = growth_after(id_count);
        let chains = FrozenChains {
            data,
            hashes,
            ends,
            ids,
            len: id_count,
            buckets,
            grows,
        };
        let mut prev_end = 0u32;
        for i in 0..count {
            let end = chains.end(i);
            if end <= prev_end || (i > 0 && chains.hash(i) <= chains.hash(i - 1)) {
                return None;
            }
            prev_end = end;
        }
        if prev_end as usize != id_count {
            return None;
        }
        // Id 0 is void, never a candidate; VAR and DATASEC ids are not
        // told apart here: the base index's checksum vouches for the rest.
        (0..id_count)
            .all(|j| (1..type_count).contains(&chains.id(j)))
            .then_some(chains)
    }

    fn word(&self, range: &Range<usize>, i: usize) -> u32 {
        let at = range.start + i * 4;
        let b = &self.data[at..at + 4];
        u32::from_le_bytes([b[0], b[1], b[2], b[3]])
    }

    fn hash(&self, i: usize) -> u64 {
        let at = self.hashes.start + i * 8;
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.data[at..at + 8]);
        u64::from_le_bytes(b)
    }

    fn end(&self, i: usize) -> u32 {
        self.word(&self.ends, i)
    }

    fn id(&self, j: usize) -> u32 {
        self.word(&self.ids, j)
    }

    fn count(&self) -> usize {
        self.hashes.len() / 8
    }

    /// The ids frozen under `hash`, in iteration order (empty when none).
    pub(super) fn chain(&self, hash: u64) -> impl ExactSizeIterator<Item = u32> + '_ {
        let (mut lo, mut hi) = (0, self.count());
        let mut run = 0..0;
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.hash(mid).cmp(&hash) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => {
                    let start = if mid == 0 { 0 } else { self.end(mid - 1) };
                    run = start as usize..self.end(mid) as usize;
                    break;
                }
            }
        }
        run.map(|j| self.id(j))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(t: &mut CandidateTable, hash: u64) -> Vec<u32> {
        let mut out = Vec::new();
        let mut c = t.candidates(hash);
        while let Some((id, next)) = t.next(c) {
            out.push(id);
            c = next;
        }
        out
    }

    fn to_bytes(a: &ChainArrays) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend(a.hashes.iter().flat_map(|h| h.to_le_bytes()));
        out.extend(a.ends.iter().flat_map(|e| e.to_le_bytes()));
        out.extend(a.ids.iter().flat_map(|i| i.to_le_bytes()));
        out
    }

    /// Appends pseudo-random (hash, id) pairs: few hashes, so chains are
    /// long and growths reverse them many times.
    fn fill(t: &mut CandidateTable, ids: std::ops::Range<u32>, seed: u64) {
        let mut x = seed;
        for id in ids {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            t.append(x >> 59, id);
        }
    }

    #[test]
    fn a_thawed_table_iterates_as_the_hashed_one() {
        for base_len in [0u32, 1, 3, 4, 6, 7, 12, 13, 100, 1000] {
            let mut hashed = CandidateTable::default();
            fill(&mut hashed, 1..base_len + 1, 1);
            let mut export = hashed.clone().export();
            export.sort_unstable_by_key(|(h, _)| *h);
            let mut arrays = ChainArrays {
                hashes: Vec::new(),
                ends: Vec::new(),
                ids: Vec::new(),
            };
            for (h, ids) in export {
                arrays.ids.extend(ids);
                arrays.hashes.push(h);
                arrays.ends.push(arrays.ids.len() as u32);
            }
            let bytes = Arc::new(FileBytes::Read(to_bytes(&arrays)));
            let frozen = FrozenChains::new(
                bytes,
                0,
                arrays.hashes.len(),
                arrays.ids.len(),
                base_len + 1,
            )
            .expect("valid arrays");
            let mut thawed = CandidateTable::over(Arc::new(frozen));
            // Look some chains up before the split grows the table, some after.
            for h in 0..4 {
                assert_eq!(order(&mut thawed, h), order(&mut hashed, h), "{base_len}");
            }
            fill(&mut hashed, 5000..5000 + base_len * 3 + 20, 2);
            fill(&mut thawed, 5000..5000 + base_len * 3 + 20, 2);
            for h in 0..40 {
                assert_eq!(
                    order(&mut thawed, h),
                    order(&mut hashed, h),
                    "{base_len} {h}"
                );
            }
        }
    }

    #[test]
    fn arrays_that_break_an_invariant_are_refused() {
        let ok = ChainArrays {
            hashes: vec![1, 5],
            ends: vec![2, 3],
            ids: vec![1, 2, 3],
        };
        let check = |a: &ChainArrays, types: u32| {
            let bytes = Arc::new(FileBytes::Read(to_bytes(a)));
            FrozenChains::new(bytes, 0, a.hashes.len(), a.ids.len(), types).is_some()
        };
        assert!(check(&ok, 4));
        assert!(!check(&ok, 3), "id 3 past the base");
        let unsorted = ChainArrays {
            hashes: vec![5, 1],
            ..ok
        };
        assert!(!check(&unsorted, 4));
        let empty_run = ChainArrays {
            hashes: vec![1, 5],
            ends: vec![3, 3],
            ids: vec![1, 2, 3],
        };
        assert!(!check(&empty_run, 4));
        let void = ChainArrays {
            hashes: vec![1],
            ends: vec![1],
            ids: vec![0],
        };
        assert!(!check(&void, 4));
        // Ranges past the data.
        let bytes = Arc::new(FileBytes::Read(vec![0; 10]));
        assert!(FrozenChains::new(bytes.clone(), 0, 1, 1, 4).is_none());
        assert!(FrozenChains::new(bytes, usize::MAX - 3, 1, 1, 4).is_none());
    }
}
