//! The candidate table: type signature hash to the representatives that have it.
//!
//! libbpf keeps these in its chained hash map with `APPEND`: a new entry goes
//! to the front of its bucket's chain, and when the map grows (before an
//! insert that would pass 75% load, starting at 4 buckets) each old chain is
//! walked front to back and its entries pushed to the front of their new
//! chains. Entries with the same hash always share a bucket, so for them the
//! net effect is simple: an insert puts the newest first, and every growth
//! reverses their order. Iteration is in chain order, and dedup takes the
//! first match, so this module reproduces exactly that order: one chain per
//! hash, reversed lazily when the map has grown since the chain was last
//! touched. Entries of other hashes in the same bucket are never visited, so
//! bucket positions themselves do not matter.

use hashbrown::HashMap;
use rustc_hash::FxBuildHasher;

const NIL: u32 = u32::MAX;

#[derive(Clone, Copy)]
struct Link {
    id: u32,
    next: u32,
}

#[derive(Clone, Copy)]
struct Chain {
    head: u32,
    /// The table's growth count when the chain was last put in order.
    grows: u32,
}

/// A multimap from hash to type ids, iterated in libbpf's order.
#[derive(Clone, Default)]
pub(super) struct CandidateTable {
    chains: HashMap<u64, Chain, FxBuildHasher>,
    links: Vec<Link>,
    /// Entries and buckets of the libbpf map being mirrored.
    len: usize,
    buckets: usize,
    grows: u32,
}

/// A position in one hash's chain; see [`CandidateTable::candidates`].
#[derive(Clone, Copy)]
pub(super) struct Cursor(u32);

impl CandidateTable {
    /// Adds `id` under `hash` (`hashmap__append`).
    pub(super) fn append(&mut self, hash: u64, id: u32) {
        if self.buckets == 0 || (self.len + 1) * 4 / 3 > self.buckets {
            self.buckets = (self.buckets * 2).max(4);
            self.grows += 1;
        }
        let link = self.links.len() as u32;
        let grows = self.grows;
        let chain = self
            .chains
            .entry(hash)
            .or_insert(Chain { head: NIL, grows });
        let head = Self::in_order(&mut self.links, chain, grows);
        self.links.push(Link { id, next: head });
        chain.head = link;
        self.len += 1;
    }

    /// Makes room for `entries` more appends: a split BTF's base is hashed
    /// whole before anything else, and growing the tables step by step
    /// through a vmlinux's worth of types cost a small module's dedup more
    /// than its own types did.
    pub(super) fn reserve(&mut self, entries: usize) {
        self.chains.reserve(entries);
        self.links.reserve(entries);
    }

    /// The first candidate position for `hash`; walk with [`CandidateTable::next`].
    pub(super) fn candidates(&mut self, hash: u64) -> Cursor {
        self.chain_head(hash)
    }

    /// The id at `cursor` and the position after it, or `None` at the end.
    pub(super) fn next(&self, cursor: Cursor) -> Option<(u32, Cursor)> {
        let link = self.links.get(cursor.0 as usize)?;
        Some((link.id, Cursor(link.next)))
    }

    fn chain_head(&mut self, hash: u64) -> Cursor {
        match self.chains.get_mut(&hash) {
            Some(chain) => Cursor(Self::in_order(&mut self.links, chain, self.grows)),
            None => Cursor(NIL),
        }
    }

    /// The chain's head, after reversing the chain if the map grew an odd
    /// number of times since it was last touched.
    fn in_order(links: &mut [Link], chain: &mut Chain, grows: u32) -> u32 {
        if (grows - chain.grows) % 2 == 1 {
            let (mut prev, mut cur) = (NIL, chain.head);
            while cur != NIL {
                let next = links[cur as usize].next;
                links[cur as usize].next = prev;
                prev = cur;
                cur = next;
            }
            chain.head = prev;
        }
        chain.grows = grows;
        chain.head
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

    #[test]
    fn newest_first_until_the_map_grows() {
        let mut t = CandidateTable::default();
        // The first insert grows to 4 buckets; the next three fit ((sz+1)*4/3 <= 4).
        t.append(7, 1);
        t.append(7, 2);
        t.append(7, 3);
        assert_eq!(order(&mut t, 7), [3, 2, 1]);
        // The fourth grows to 8 buckets, reversing [3, 2, 1], then goes first.
        t.append(7, 4);
        assert_eq!(order(&mut t, 7), [4, 1, 2, 3]);
        assert_eq!(order(&mut t, 8), [] as [u32; 0]);
    }

    #[test]
    fn growth_reverses_chains_it_did_not_touch() {
        let mut t = CandidateTable::default();
        t.append(1, 10);
        t.append(1, 11);
        // Growth happens at inserts 1, 4, 7, 13, 25...: two more by insert 12,
        // an even number, then a third at insert 13.
        for i in 0..10 {
            t.append(100 + i, i as u32);
        }
        assert_eq!(order(&mut t, 1), [11, 10]);
        t.append(2, 0);
        assert_eq!(order(&mut t, 1), [10, 11]);
    }
}
