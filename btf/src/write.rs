//! Writing a [`Btf`] as a blob: header | types | kind layout | strings, the
//! order libbpf and pahole use, in either byte order.

use crate::header::{Header, KindLayout, HDR_LEN_LAYOUT};
use crate::{Btf, Endian};

impl Btf {
    /// The blob in the byte order the BTF was read in (native for new BTF).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_bytes_endian(self.endian)
    }

    /// The blob in the given byte order. A split BTF writes only its own
    /// types and strings, as `btf__raw_data` does.
    pub fn to_bytes_endian(&self, endian: Endian) -> Vec<u8> {
        let type_len = self.words.len() as u32 * 4;
        let layout_len = self.layout.as_ref().map_or(0, |l| l.len() as u32 * 4);
        let str_len = self.strings.len();
        let has_layout_fields = self.hdr_len >= HDR_LEN_LAYOUT || self.layout.is_some();
        let hdr_len = if has_layout_fields {
            self.hdr_len.max(HDR_LEN_LAYOUT)
        } else {
            self.hdr_len
        };
        let header = Header {
            endian,
            hdr_len,
            type_off: 0,
            type_len,
            str_off: type_len + layout_len,
            str_len,
            layout: has_layout_fields
                .then_some((if layout_len > 0 { type_len } else { 0 }, layout_len)),
            extra: self.hdr_extra.clone(),
        };
        let mut out =
            Vec::with_capacity(hdr_len as usize + (type_len + layout_len + str_len) as usize);
        header.write(&mut out);
        endian.write_words(&self.words, &mut out);
        if let Some(layout) = &self.layout {
            KindLayout::write_section(layout, endian, &mut out);
        }
        out.extend_from_slice(self.strings.as_bytes());
        out
    }
}
