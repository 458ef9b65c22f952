//! A base index: what a process needs of a vmlinux base beyond its parsed
//! types, worked out once and stored, so that each `kbtf gen` of one
//! module (kbuild runs one process per module) maps it instead of
//! rebuilding it. On a small module that preparation was more than half
//! the work: hashing every base type as a dedup candidate, and indexing the
//! base's strings for the encoder's name lookups.
//!
//! # The file
//!
//! All integers little-endian. A 96-byte header:
//!
//! | offset | size | field |
//! |---|---|---|
//! | 0 | 8 | magic `KBTFBIX\0` |
//! | 8 | 4 | format version ([`FORMAT_VERSION`]) |
//! | 12 | 4 | header length (96) |
//! | 16 | 16 | the kbtf version that wrote it, NUL-padded |
//! | 32 | 8 | byte length of the base's `.BTF` blob |
//! | 40 | 16 | xxh3-128 of that blob |
//! | 56 | 8 | byte length of the body |
//! | 64 | 16 | xxh3-128 of the body |
//! | 80 | 16 | zero |
//!
//! The body: eight `u32`s (the base's type count, its string section's
//! length, flags — bit 0: the base passes dedup's input check; bit 1: its
//! references resolve, as [`Btf::parse`] checks —, the
//! number of candidate hashes, of candidate ids, of string slots, and two
//! zeros), then the frozen candidate chains (`dedup/frozen.rs`: hashes as
//! `u64`s, run ends, ids) and the string slots (`base_index/strings.rs`).
//!
//! # Invariants a reader checks
//!
//! Before any part is used: the magic, versions and lengths; the blob key
//! against the base in hand (the index is of *this* base); the body's
//! checksum; the counts against the base's; every array inside the file;
//! chain hashes strictly increasing, runs non-empty, ids naming base types.
//! String slots are checked as a lookup reads them (a slot is believed only
//! when it holds a whole base string equal to the one looked up). A file
//! failing any of these is [`Rejected`], never used: [`cache::load`] makes
//! the index again from the base. The kbtf version is part of the check
//! because the candidate hashes are kbtf's own arithmetic.
//!
//! [`BaseIndex::open_blob`] parses the base itself and, when bit 1 is set,
//! skips the parser's reference checks: the key (length and xxh3-128 of the
//! blob) makes the blob the one that passed them when the index was made.
//! xxh3 is not a cryptographic hash, and the checksum guards against
//! damage, not malice: the index is a cache of one's own builds, and
//! whoever can write the cache directory could as well replace kbtf.
//! Readers map the file; kbtf only ever replaces an index by renaming a
//! whole new one over it, so a mapped file never changes under a reader.
//!
//! Outputs do not depend on whether an index was used: the frozen chains
//! thaw into exactly the table hashing the base gives, and the string index
//! answers as the in-memory one does.

pub mod cache;
pub(crate) mod strings;

use std::sync::Arc;

use twox_hash::XxHash3_128;

use crate::dedup::frozen::{self, FrozenChains};
use crate::input::FileBytes;
use crate::Btf;
use strings::FrozenStrings;

/// The layout version this kbtf writes and reads.
pub const FORMAT_VERSION: u32 = 1;
const MAGIC: [u8; 8] = *b"KBTFBIX\0";
const HEADER_LEN: usize = 96;
const BODY_FIXED: usize = 32;
const FLAG_CHECKED: u32 = 1;
/// The blob passed every check of [`Btf::parse`] (its references resolve).
const FLAG_PARSED: u32 = 2;

/// The kbtf version field: the crate version, NUL-padded to 16 bytes.
fn kbtf_version() -> [u8; 16] {
    let mut out = [0u8; 16];
    let v = env!("CARGO_PKG_VERSION").as_bytes();
    let n = v.len().min(16);
    out[..n].copy_from_slice(&v[..n]);
    out
}

/// What identifies a base: its `.BTF` blob's length and xxh3-128.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BaseKey {
    /// Bytes in the blob.
    pub len: u64,
    /// xxh3-128 of the blob.
    pub hash: u128,
}

impl BaseKey {
    /// The key of a `.BTF` blob.
    pub fn of(blob: &[u8]) -> BaseKey {
        BaseKey {
            len: blob.len() as u64,
            hash: XxHash3_128::oneshot(blob),
        }
    }

    /// The index's file name in a cache directory: the key, the kbtf
    /// version and the format, so that two kbtf versions sharing a cache
    /// keep one file each rather than replacing each other's.
    pub fn file_name(&self) -> String {
        format!(
            "{:032x}-{}.kbtf{}-f{FORMAT_VERSION}.base-index",
            self.hash,
            self.len,
            env!("CARGO_PKG_VERSION")
        )
    }
}

/// Why an index file was not used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected(pub &'static str);

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// An index [`BaseIndex::open`] refused, with the base it was given back.
#[derive(Debug)]
pub struct Unopened {
    /// The base, as it was.
    pub base: Box<Btf>,
    /// Why.
    pub why: Rejected,
}

/// A validated base index, ready to serve one base.
pub struct BaseIndex {
    base: Arc<Btf>,
    checked: bool,
    chains: Arc<FrozenChains>,
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

impl BaseIndex {
    /// The index file of `base`, a base BTF (not split), whose blob has `key`.
    pub fn build(base: &Btf, key: &BaseKey) -> Vec<u8> {
        let chains = frozen::freeze(base);
        let slots = strings::build(&base.strings);
        let checked = crate::dedup::check_input(base).is_ok();
        let parsed = base.check_references().is_ok();
        let mut body = Vec::new();
        for v in [
            base.type_count(),
            base.strings.len(),
            if checked { FLAG_CHECKED } else { 0 } | if parsed { FLAG_PARSED } else { 0 },
            chains.hashes.len() as u32,
            chains.ids.len() as u32,
            slots.len() as u32,
            0,
            0,
        ] {
            put_u32(&mut body, v);
        }
        body.extend(chains.hashes.iter().flat_map(|h| h.to_le_bytes()));
        chains.ends.iter().for_each(|&v| put_u32(&mut body, v));
        chains.ids.iter().for_each(|&v| put_u32(&mut body, v));
        slots.iter().for_each(|&v| put_u32(&mut body, v));
        let mut out = Vec::with_capacity(HEADER_LEN + body.len());
        out.extend_from_slice(&MAGIC);
        put_u32(&mut out, FORMAT_VERSION);
        put_u32(&mut out, HEADER_LEN as u32);
        out.extend_from_slice(&kbtf_version());
        out.extend_from_slice(&key.len.to_le_bytes());
        out.extend_from_slice(&key.hash.to_le_bytes());
        out.extend_from_slice(&(body.len() as u64).to_le_bytes());
        out.extend_from_slice(&XxHash3_128::oneshot(&body).to_le_bytes());
        out.extend_from_slice(&[0; 16]);
        out.extend_from_slice(&body);
        out
    }

    /// Reads an index file's bytes for `base`, parsed from a blob with
    /// `key`, checking everything the module doc lists. On success the
    /// index holds the base, its string lookups ([`Btf::find_str`]) served
    /// by the index; a rejected index gives the base back untouched.
    pub fn open(data: FileBytes, base: Btf, key: &BaseKey) -> Result<BaseIndex, Unopened> {
        match Self::check_file(&data, key) {
            Ok(()) => BaseIndex::open_checked(data, base),
            Err(why) => Err(Unopened {
                base: Box::new(base),
                why,
            }),
        }
    }

    /// [`BaseIndex::open`] for a base not parsed yet: `blob` (whose key is
    /// `key`) is parsed here. An index that says its blob passed every
    /// check of [`Btf::parse`] when it was made spares this parse the
    /// reference checks, a sixth of a small module's `kbtf gen`: the key
    /// makes it the same blob. `source` names the base's file in errors
    /// about split BTF over it. A blob that does not parse is rejected too
    /// (parsing it again without the index reports why).
    pub fn open_blob(
        data: FileBytes,
        blob: &[u8],
        key: &BaseKey,
        source: Option<&std::path::Path>,
    ) -> Result<BaseIndex, Rejected> {
        Self::check_file(&data, key)?;
        let parsed = Self::flags(&data) & FLAG_PARSED != 0;
        if !parsed {
            return Err(Rejected("made for a base that does not parse"));
        }
        let mut base = Btf::parse_split_unresolved(blob, None)
            .map_err(|_| Rejected("the base does not parse"))?;
        base.source = source.map(Into::into);
        BaseIndex::open_checked(data, base).map_err(|e| e.why)
    }

    fn open_checked(data: FileBytes, mut base: Btf) -> Result<BaseIndex, Unopened> {
        match Self::check_body(data, &base) {
            Ok((checked, chains, strings)) => {
                base.strings.use_frozen_index(strings);
                Ok(BaseIndex {
                    base: Arc::new(base),
                    checked,
                    chains: Arc::new(chains),
                })
            }
            Err(why) => Err(Unopened {
                base: Box::new(base),
                why,
            }),
        }
    }

    /// The body's flags word; only after [`BaseIndex::check_file`].
    fn flags(data: &[u8]) -> u32 {
        let at = HEADER_LEN + 8;
        u32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]])
    }

    /// The header, the key and the body's checksum; the body holds at
    /// least its fixed fields.
    fn check_file(data: &[u8], key: &BaseKey) -> Result<(), Rejected> {
        let header = data.get(..HEADER_LEN).ok_or(Rejected("truncated header"))?;
        let u32_at =
            |b: &[u8], at: usize| u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
        let u64_at = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&header[at..at + 8]);
            u64::from_le_bytes(b)
        };
        let u128_at = |at: usize| {
            let mut b = [0u8; 16];
            b.copy_from_slice(&header[at..at + 16]);
            u128::from_le_bytes(b)
        };
        if header[..8] != MAGIC {
            return Err(Rejected("not a kbtf base index"));
        }
        if u32_at(header, 8) != FORMAT_VERSION || u32_at(header, 12) != HEADER_LEN as u32 {
            return Err(Rejected("another format version"));
        }
        if header[80..].iter().any(|&b| b != 0) {
            return Err(Rejected("unknown header fields"));
        }
        if header[16..32] != kbtf_version() {
            return Err(Rejected("written by another kbtf version"));
        }
        let made_for = BaseKey {
            len: u64_at(32),
            hash: u128_at(40),
        };
        if made_for != *key {
            return Err(Rejected("made for another base"));
        }
        let body = &data[HEADER_LEN..];
        if u64_at(56) != body.len() as u64 {
            return Err(Rejected("truncated or extended body"));
        }
        if u128_at(64) != XxHash3_128::oneshot(body) {
            return Err(Rejected("body checksum mismatch"));
        }
        if body.len() < BODY_FIXED {
            return Err(Rejected("truncated body"));
        }
        Ok(())
    }

    /// Everything past [`BaseIndex::check_file`], against `base`.
    fn check_body(
        data: FileBytes,
        base: &Btf,
    ) -> Result<(bool, FrozenChains, FrozenStrings), Rejected> {
        if base.base.is_some() {
            return Err(Rejected("the base is itself split"));
        }
        let fixed = &data[HEADER_LEN..HEADER_LEN + BODY_FIXED];
        let field = |i: usize| {
            u32::from_le_bytes([
                fixed[i * 4],
                fixed[i * 4 + 1],
                fixed[i * 4 + 2],
                fixed[i * 4 + 3],
            ])
        };
        let (type_count, str_len, flags) = (field(0), field(1), field(2));
        let (chain_count, id_count, slot_count) =
            (field(3) as usize, field(4) as usize, field(5) as usize);
        if type_count != base.type_count() || str_len != base.strings.len() {
            return Err(Rejected("counts differ from the base's"));
        }
        if flags & !(FLAG_CHECKED | FLAG_PARSED) != 0 || field(6) != 0 || field(7) != 0 {
            return Err(Rejected("unknown flags"));
        }
        let data = Arc::new(data);
        let chains_at = HEADER_LEN + BODY_FIXED;
        let chains = FrozenChains::new(data.clone(), chains_at, chain_count, id_count, type_count)
            .ok_or(Rejected("bad candidate chains"))?;
        // Hashes, ends and ids; FrozenChains::new checked they fit.
        let slots_at = chains_at + chain_count * 12 + id_count * 4;
        let strings = FrozenStrings::new(data.clone(), slots_at, slot_count)
            .ok_or(Rejected("bad string index"))?;
        if slots_at + slot_count * 4 != data.len() {
            return Err(Rejected("bytes past the string index"));
        }
        Ok((flags & FLAG_CHECKED != 0, chains, strings))
    }

    /// The base this index serves.
    pub fn btf(&self) -> &Arc<Btf> {
        &self.base
    }

    /// Whether the base passes dedup's input check.
    pub(crate) fn base_checked(&self) -> bool {
        self.checked
    }

    /// The frozen candidate chains.
    pub(crate) fn chains(&self) -> &Arc<FrozenChains> {
        &self.chains
    }
}

#[cfg(test)]
mod tests;
