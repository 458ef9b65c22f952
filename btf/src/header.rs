//! The BTF header: 24 bytes, or 32 with the kind-layout section.

use crate::{Endian, Error, Result};

/// The magic number a BTF blob starts with.
pub const MAGIC: u16 = 0xeb9f;
/// The BTF version kbtf reads and writes.
pub const VERSION: u8 = 1;
/// Header length without the kind-layout fields.
pub const HDR_LEN_BASIC: u32 = 24;
/// Header length with `layout_off` and `layout_len`.
pub const HDR_LEN_LAYOUT: u32 = 32;

/// A parsed header. Section offsets count from the end of the header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The byte order.
    pub endian: Endian,
    /// The header's length (`hdr_len`).
    pub hdr_len: u32,
    /// Offset of the type section.
    pub type_off: u32,
    /// Length of the type section.
    pub type_len: u32,
    /// Offset of the string section.
    pub str_off: u32,
    /// Length of the string section.
    pub str_len: u32,
    /// `(layout_off, layout_len)`, present when `hdr_len >= 32`.
    pub layout: Option<(u32, u32)>,
    /// Header bytes past the fields this crate knows, kept verbatim.
    pub extra: Vec<u8>,
}

impl Header {
    /// Parses the header at the start of `blob`; the magic decides the byte order.
    pub fn parse(blob: &[u8]) -> Result<Header> {
        let truncated = |need| Error::Truncated {
            what: "BTF header",
            offset: 0,
            need,
            len: blob.len(),
        };
        if blob.len() < HDR_LEN_BASIC as usize {
            return Err(truncated(HDR_LEN_BASIC as usize));
        }
        let magic = u16::from_le_bytes([blob[0], blob[1]]);
        let endian = if magic == MAGIC {
            Endian::Little
        } else if magic == MAGIC.swap_bytes() {
            Endian::Big
        } else {
            return Err(Error::BadMagic(magic));
        };
        if blob[2] != VERSION {
            return Err(Error::BadVersion(blob[2]));
        }
        if blob[3] != 0 {
            return Err(Error::BadFlags(blob[3]));
        }
        let word =
            |at: usize| endian.read_u32([blob[at], blob[at + 1], blob[at + 2], blob[at + 3]]);
        let hdr_len = word(4);
        if hdr_len < HDR_LEN_BASIC || hdr_len % 4 != 0 {
            return Err(Error::BadHeader(format!(
                "hdr_len {hdr_len} is not a multiple of 4 of at least 24"
            )));
        }
        if blob.len() < hdr_len as usize {
            return Err(truncated(hdr_len as usize));
        }
        let (layout, known) = if hdr_len >= HDR_LEN_LAYOUT {
            (Some((word(24), word(28))), HDR_LEN_LAYOUT)
        } else {
            (None, HDR_LEN_BASIC)
        };
        Ok(Header {
            endian,
            hdr_len,
            type_off: word(8),
            type_len: word(12),
            str_off: word(16),
            str_len: word(20),
            layout,
            extra: blob[known as usize..hdr_len as usize].to_vec(),
        })
    }

    /// Appends the header's bytes in its byte order.
    pub fn write(&self, out: &mut Vec<u8>) {
        let e = self.endian;
        out.extend_from_slice(&e.u16_bytes(MAGIC));
        out.push(VERSION);
        out.push(0);
        for w in [
            self.hdr_len,
            self.type_off,
            self.type_len,
            self.str_off,
            self.str_len,
        ] {
            out.extend_from_slice(&e.u32_bytes(w));
        }
        if let Some((off, len)) = self.layout {
            out.extend_from_slice(&e.u32_bytes(off));
            out.extend_from_slice(&e.u32_bytes(len));
        }
        out.extend_from_slice(&self.extra);
    }
}

/// One entry of the kind-layout section: how to size a record of that kind
/// when its number is unknown to the reader.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct KindLayout {
    /// Bytes after the 12-byte common part.
    pub info_sz: u8,
    /// Bytes of each of the vlen trailing elements.
    pub elem_sz: u8,
    /// Flags (none defined yet).
    pub flags: u16,
}

impl KindLayout {
    pub(crate) fn parse_section(bytes: &[u8], endian: Endian) -> Vec<KindLayout> {
        bytes
            .chunks_exact(4)
            .map(|c| KindLayout {
                info_sz: c[0],
                elem_sz: c[1],
                flags: endian.read_u16([c[2], c[3]]),
            })
            .collect()
    }

    pub(crate) fn write_section(layout: &[KindLayout], endian: Endian, out: &mut Vec<u8>) {
        for l in layout {
            out.push(l.info_sz);
            out.push(l.elem_sz);
            out.extend_from_slice(&endian.u16_bytes(l.flags));
        }
    }
}
