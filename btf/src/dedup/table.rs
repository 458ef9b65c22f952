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
//!
//! A table may start over a frozen base (`frozen`): the chains of a base
//! hashed by an earlier process, copied in hash by hash as they are touched.

use std::sync::Arc;

use hashbrown::HashMap;
use rustc_hash::FxBuildHasher;

use super::frozen::FrozenChains;

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
    /// The base's chains not copied into `chains` yet; a hash `chains`
    /// lacks is looked up here before it counts as new.
    frozen: Option<Arc<FrozenChains>>,
}

/// A position in one hash's chain; see [`CandidateTable::candidates`].
#[derive(Clone, Copy)]
pub(super) struct Cursor(u32);

impl CandidateTable {
    /// A table holding the frozen base's chains, in the state hashing that
    /// base would have left it in.
    pub(super) fn over(frozen: Arc<FrozenChains>) -> CandidateTable {
        CandidateTable {
            len: frozen.len,
            buckets: frozen.buckets,
            grows: frozen.grows,
            frozen: Some(frozen),
            ..CandidateTable::default()
        }
    }

    /// Adds `id` under `hash` (`hashmap__append`).
    pub(super) fn append(&mut self, hash: u64, id: u32) {
        if self.buckets == 0 || (self.len + 1) * 4 / 3 > self.buckets {
            self.buckets = (self.buckets * 2).max(4);
            self.grows += 1;
        }
        let grows = self.grows;
        let chain = Self::chain(&mut self.chains, &mut self.links, &self.frozen, hash, grows);
        let head = Self::in_order(&mut self.links, chain, grows);
        chain.head = self.links.len() as u32;
        self.links.push(Link { id, next: head });
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
        if self.frozen.is_some() {
            // Thawed (or empty) from now on, so the frozen layer is searched once per hash.
            let grows = self.grows;
            let chain = Self::chain(&mut self.chains, &mut self.links, &self.frozen, hash, grows);
            return Cursor(Self::in_order(&mut self.links, chain, grows));
        }
        match self.chains.get_mut(&hash) {
            Some(chain) => Cursor(Self::in_order(&mut self.links, chain, self.grows)),
            None => Cursor(NIL),
        }
    }

    /// The chain of `hash`, made when missing: from the frozen base's run
    /// for that hash (in order as of the base's growth count), else empty
    /// and in order now.
    fn chain<'a>(
        chains: &'a mut HashMap<u64, Chain, FxBuildHasher>,
        links: &mut Vec<Link>,
        frozen: &Option<Arc<FrozenChains>>,
        hash: u64,
        grows: u32,
    ) -> &'a mut Chain {
        chains.entry(hash).or_insert_with(|| {
            let Some(frozen) = frozen else {
                return Chain { head: NIL, grows };
            };
            let ids = frozen.chain(hash);
            let (first, n) = (links.len() as u32, ids.len() as u32);
            links.extend(ids.enumerate().map(|(i, id)| Link {
                id,
                next: if i as u32 + 1 == n {
                    NIL
                } else {
                    first + i as u32 + 1
                },
            }));
            Chain {
                head: if n == 0 { NIL } else { first },
                grows: frozen.grows,
            }
        })
    }

    /// Every chain, in iteration order (see [`super::frozen`]).
    pub(super) fn export(&mut self) -> Vec<(u64, Vec<u32>)> {
        let grows = self.grows;
        let mut out = Vec::with_capacity(self.chains.len());
        for (&hash, chain) in self.chains.iter_mut() {
            let mut ids = Vec::new();
            let mut cur = Self::in_order(&mut self.links, chain, grows);
            while let Some(link) = self.links.get(cur as usize) {
                ids.push(link.id);
                cur = link.next;
            }
            out.push((hash, ids));
        }
        out
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
