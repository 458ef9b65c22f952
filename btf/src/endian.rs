//! Byte order of a BTF blob. Every field of the type section is a 32-bit
//! word, so converting a blob is swapping words.

/// The byte order a blob was read in, or is to be written in.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Endian {
    /// Little-endian.
    Little,
    /// Big-endian.
    Big,
}

impl Endian {
    /// The byte order of the machine kbtf runs on.
    pub const NATIVE: Endian = if cfg!(target_endian = "little") {
        Endian::Little
    } else {
        Endian::Big
    };

    /// The opposite byte order.
    pub fn other(self) -> Endian {
        match self {
            Endian::Little => Endian::Big,
            Endian::Big => Endian::Little,
        }
    }

    /// Reads a `u16` in this order.
    pub fn read_u16(self, b: [u8; 2]) -> u16 {
        match self {
            Endian::Little => u16::from_le_bytes(b),
            Endian::Big => u16::from_be_bytes(b),
        }
    }

    /// Reads a `u32` in this order.
    pub fn read_u32(self, b: [u8; 4]) -> u32 {
        match self {
            Endian::Little => u32::from_le_bytes(b),
            Endian::Big => u32::from_be_bytes(b),
        }
    }

    /// `v` as bytes in this order.
    pub fn u16_bytes(self, v: u16) -> [u8; 2] {
        match self {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }

    /// `v` as bytes in this order.
    pub fn u32_bytes(self, v: u32) -> [u8; 4] {
        match self {
            Endian::Little => v.to_le_bytes(),
            Endian::Big => v.to_be_bytes(),
        }
    }

    /// Reads `bytes` (a multiple of 4 long) as words, appending them to `out`.
    pub fn read_words(self, bytes: &[u8], out: &mut Vec<u32>) {
        out.reserve(bytes.len() / 4);
        out.extend(
            bytes
                .chunks_exact(4)
                .map(|c| self.read_u32([c[0], c[1], c[2], c[3]])),
        );
    }

    /// Writes `words` in this byte order.
    pub fn write_words(self, words: &[u32], out: &mut Vec<u8>) {
        out.reserve(words.len() * 4);
        for &w in words {
            out.extend_from_slice(&self.u32_bytes(w));
        }
    }
}
