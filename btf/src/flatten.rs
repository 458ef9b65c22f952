//! Folding a split BTF and its bases into one base BTF.
//!
//! A split BTF's ids and string offsets continue its base's, so writing the
//! base's records then the split's, and the base's strings then the split's,
//! gives a base BTF in which every id and offset means what it meant. The
//! kernel loads BTF from userspace only as base BTF: this is how a module's
//! BTF can be put to it.

use crate::Btf;

impl Btf {
    /// This BTF with its bases folded in, as one base BTF; a base BTF comes
    /// back as a copy.
    pub fn flatten(&self) -> Btf {
        let mut chain = vec![self];
        while let Some(base) = chain.last().and_then(|b| b.base.as_deref()) {
            chain.push(base);
        }
        chain.reverse();
        let bottom = chain[0];
        let mut flat = Btf {
            endian: self.endian,
            hdr_len: bottom.hdr_len,
            hdr_extra: bottom.hdr_extra.clone(),
            layout: self.layout().map(<[_]>::to_vec),
            ..Btf::new()
        };
        let mut strings = Vec::new();
        for btf in chain {
            let at = flat.words.len() as u32;
            flat.offsets.extend(btf.offsets.iter().map(|&o| o + at));
            flat.words.extend_from_slice(&btf.words);
            strings.extend_from_slice(btf.strings.as_bytes());
        }
        flat.strings = crate::StringTable::from_bytes(strings);
        flat
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::{Btf, Info, Kind, StrOff};

    #[test]
    fn split_ids_and_strings_keep_their_meaning() {
        let mut base = Btf::new();
        let int = base.add_str(b"int").unwrap();
        base.add_type(int, Info::new(Kind::Int, false, 0), 4, &[32])
            .unwrap();
        let base = Arc::new(base);
        let mut split = Btf::new_split(base.clone());
        let name = split.add_str(b"s").unwrap();
        let a = split.add_str(b"a").unwrap();
        let s = split
            .add_type(name, Info::new(Kind::Struct, false, 1), 4, &[a.0, 1, 0])
            .unwrap();
        let p = split
            .add_type(StrOff(0), Info::new(Kind::Ptr, false, 0), s.0, &[])
            .unwrap();

        let flat = split.flatten();
        assert!(flat.base().is_none());
        assert_eq!(flat.type_count(), split.type_count());
        for id in split.all_ids() {
            assert_eq!(
                flat.get(id).unwrap().words(),
                split.get(id).unwrap().words()
            );
        }
        assert_eq!(flat.str_at(name), Some(&b"s"[..]));
        assert_eq!(flat.str_at(int), Some(&b"int"[..]));
        assert_eq!(flat.get(p).unwrap().type_id(), s);
        let again = Btf::parse(&flat.to_bytes()).unwrap();
        assert_eq!(again.to_bytes(), flat.to_bytes());
    }
}
