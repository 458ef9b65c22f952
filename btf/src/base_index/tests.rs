use super::*;
use crate::{Info, Kind, StrOff};

/// A small base: ints, pointers, a struct, duplicate names.
fn base() -> (Btf, BaseKey) {
    let mut btf = Btf::new();
    let int = btf.add_str(b"int").unwrap();
    let long = btf.add_str(b"long").unwrap();
    let s = btf.add_str(b"s").unwrap();
    let i = btf
        .add_type(int, Info::new(Kind::Int, false, 0), 4, &[0x0100_0020])
        .unwrap();
    btf.add_type(long, Info::new(Kind::Int, false, 0), 8, &[0x0100_0040])
        .unwrap();
    for _ in 0..5 {
        btf.add_type(StrOff(0), Info::new(Kind::Ptr, false, 0), i.0, &[])
            .unwrap();
    }
    btf.add_type(s, Info::new(Kind::Struct, false, 1), 4, &[int.0, i.0, 0])
        .unwrap();
    let blob = btf.to_bytes();
    let btf = Btf::parse(&blob).unwrap();
    (btf, BaseKey::of(&blob))
}

fn open(bytes: Vec<u8>) -> Result<BaseIndex, Rejected> {
    let (btf, key) = base();
    BaseIndex::open(FileBytes::Read(bytes), btf, &key).map_err(|e| e.why)
}

#[test]
fn a_built_index_opens_and_answers_as_the_base() {
    let (btf, key) = base();
    let plain = btf.clone();
    let index = BaseIndex::open(FileBytes::Read(BaseIndex::build(&btf, &key)), btf, &key)
        .map_err(|e| e.why)
        .unwrap();
    assert!(index.base_checked());
    for s in [&b"int"[..], b"long", b"s", b"", b"nope", b"in"] {
        assert_eq!(index.btf().find_str(s), plain.find_str(s), "{s:?}");
    }
}

#[test]
fn damaged_or_foreign_indexes_are_rejected() {
    let (btf, key) = base();
    let good = BaseIndex::build(&btf, &key);
    assert!(open(good.clone()).is_ok());
    for len in [
        0,
        7,
        HEADER_LEN - 1,
        HEADER_LEN,
        HEADER_LEN + 3,
        good.len() - 1,
    ] {
        assert!(open(good[..len].to_vec()).is_err(), "truncated to {len}");
    }
    let mut longer = good.clone();
    longer.push(0);
    assert!(open(longer).is_err());
    // Every single flipped bit, header or body, is noticed.
    for at in 0..good.len() {
        let mut bad = good.clone();
        bad[at] ^= 0x10;
        assert!(open(bad).is_err(), "flipped byte {at}");
    }
    // Whole and well made, but for another base.
    let other = BaseKey {
        hash: key.hash ^ 1,
        ..key
    };
    let stale = BaseIndex::build(&btf, &other);
    assert_eq!(open(stale).err(), Some(Rejected("made for another base")));
}

/// A body whose checksum is right but whose contents are not: the checks
/// past the checksum must hold on their own.
#[test]
fn a_checksummed_body_is_still_checked() {
    let (btf, key) = base();
    let good = BaseIndex::build(&btf, &key);
    let reseal = |mut bytes: Vec<u8>| {
        let sum = XxHash3_128::oneshot(&bytes[HEADER_LEN..]);
        bytes[64..80].copy_from_slice(&sum.to_le_bytes());
        bytes
    };
    assert!(open(reseal(good.clone())).is_ok());
    for at in HEADER_LEN..good.len() {
        for flip in [0x01, 0x80] {
            let mut bad = good.clone();
            bad[at] ^= flip;
            // Accepted or not, no panic; when accepted, lookups stay in bounds.
            if let Ok(index) = open(reseal(bad)) {
                let _ = index.btf().find_str(b"int");
                let base = BaseCandidatesProbe::new(&index);
                base.touch();
            }
        }
    }
}

/// Runs a dedup over an index's candidates (which thaws chains).
struct BaseCandidatesProbe(crate::dedup::BaseCandidates);

impl BaseCandidatesProbe {
    fn new(index: &BaseIndex) -> Self {
        BaseCandidatesProbe(crate::dedup::BaseCandidates::from_index(index))
    }

    fn touch(&self) {
        let mut module = Btf::new_split(self.0.btf().clone());
        let int = module.add_str(b"int").unwrap();
        let i = module
            .add_type(int, Info::new(Kind::Int, false, 0), 4, &[0x0100_0020])
            .unwrap();
        module
            .add_type(StrOff(0), Info::new(Kind::Ptr, false, 0), i.0, &[])
            .unwrap();
        let opts = crate::dedup::DedupOptions::default();
        let _ = crate::dedup::dedup_owned(module, &opts, Some(&self.0));
    }
}

#[test]
fn arbitrary_bytes_are_rejected_cleanly() {
    let (btf, key) = base();
    let good = BaseIndex::build(&btf, &key);
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for round in 0..2000 {
        let len = (next() % (good.len() as u64 + 64)) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        // Half the time, a real header in front, so the body checks run.
        if round % 2 == 0 && len >= HEADER_LEN {
            bytes[..HEADER_LEN].copy_from_slice(&good[..HEADER_LEN]);
        }
        assert!(open(bytes).is_err(), "round {round}");
    }
}

#[test]
fn opening_from_the_blob_parses_it_as_parse_does() {
    let mut btf = Btf::new();
    let int = btf.add_str(b"int").unwrap();
    btf.add_type(int, Info::new(Kind::Int, false, 0), 4, &[0x0100_0020])
        .unwrap();
    let blob = btf.to_bytes();
    let key = BaseKey::of(&blob);
    let index = BaseIndex::build(&Btf::parse(&blob).unwrap(), &key);
    let opened = BaseIndex::open_blob(FileBytes::Read(index.clone()), &blob, &key, None).unwrap();
    assert!(opened.btf().to_bytes() == blob);
    assert_eq!(opened.btf().find_str(b"int"), Some(int));
    // Another blob under the same key is not this index's.
    let other = BaseKey::of(b"x");
    assert!(BaseIndex::open_blob(FileBytes::Read(index), &blob, &other, None).is_err());

    // A base whose references do not resolve: its index never stands in
    // for parse's checks.
    let mut dangling = Btf::new();
    dangling
        .add_type(StrOff(0), Info::new(Kind::Ptr, false, 0), 9, &[])
        .unwrap();
    let blob = dangling.to_bytes();
    let key = BaseKey::of(&blob);
    assert!(Btf::parse(&blob).is_err());
    let index = BaseIndex::build(&dangling, &key);
    let err = BaseIndex::open_blob(FileBytes::Read(index), &blob, &key, None).err();
    assert_eq!(err, Some(Rejected("made for a base that does not parse")));
}
