//! [`TypeRef`]: a typed, borrowed view of one type record.

use crate::{Info, Kind, StrOff, TypeId};

/// One type record, read in place.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct TypeRef<'a> {
    id: TypeId,
    words: &'a [u32],
}

/// `BTF_INT_*` encoding bits.
pub mod int_encoding {
    pub const SIGNED: u8 = 1;
    pub const CHAR: u8 = 2;
    pub const BOOL: u8 = 4;
}

/// The trailing word of an INT.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct IntData {
    /// `BTF_INT_*` bits (see [`int_encoding`]).
    pub encoding: u8,
    pub offset: u8,
    pub bits: u8,
}

impl IntData {
    pub fn from_word(w: u32) -> IntData {
        IntData {
            encoding: ((w >> 24) & 0x0f) as u8,
            offset: ((w >> 16) & 0xff) as u8,
            bits: (w & 0xff) as u8,
        }
    }

    pub fn to_word(self) -> u32 {
        ((self.encoding as u32 & 0x0f) << 24) | ((self.offset as u32) << 16) | self.bits as u32
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ArrayData {
    pub elem_type: TypeId,
    pub index_type: TypeId,
    pub nelems: u32,
}

/// A STRUCT or UNION member; the bit offset and bitfield size are decoded
/// according to the parent's kind_flag.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub name_off: StrOff,
    pub type_id: TypeId,
    pub bit_offset: u32,
    pub bitfield_size: u32,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct EnumValue {
    pub name_off: StrOff,
    /// The raw 32 bits; signed or unsigned per the ENUM's kind_flag.
    pub val: u32,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Enum64Value {
    pub name_off: StrOff,
    pub val: u64,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Param {
    pub name_off: StrOff,
    pub type_id: TypeId,
}

/// One DATASEC entry (`btf_var_secinfo`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct VarSecInfo {
    pub type_id: TypeId,
    pub offset: u32,
    pub size: u32,
}

/// `FUNC` linkage (the FUNC's vlen) and `VAR` linkage values.
pub mod linkage {
    pub const STATIC: u32 = 0;
    pub const GLOBAL: u32 = 1;
    pub const EXTERN: u32 = 2;
}

impl<'a> TypeRef<'a> {
    /// Wraps the words of a record whose length matches its `info`.
    pub(crate) fn new(id: TypeId, words: &'a [u32]) -> TypeRef<'a> {
        debug_assert!(words.len() >= 3);
        TypeRef { id, words }
    }

    pub fn id(&self) -> TypeId {
        self.id
    }

    /// The record's words, in native byte order.
    pub fn words(&self) -> &'a [u32] {
        self.words
    }

    pub fn name_off(&self) -> StrOff {
        StrOff(self.words[0])
    }

    pub fn info(&self) -> Info {
        Info(self.words[1])
    }

    pub fn kind(&self) -> Kind {
        self.info().kind()
    }

    pub fn vlen(&self) -> u32 {
        self.info().vlen()
    }

    pub fn kind_flag(&self) -> bool {
        self.info().kind_flag()
    }

    /// The third word read as a size (INT, STRUCT, UNION, ENUM, ENUM64, DATASEC, FLOAT).
    pub fn size(&self) -> u32 {
        self.words[2]
    }

    /// The third word read as a type id (PTR, modifiers, TYPEDEF, FUNC, FUNC_PROTO's return, VAR, tags).
    pub fn type_id(&self) -> TypeId {
        TypeId(self.words[2])
    }

    fn trailing(&self) -> &'a [u32] {
        &self.words[3..]
    }

    pub fn int(&self) -> Option<IntData> {
        match self.kind() {
            Kind::Int => Some(IntData::from_word(self.words[3])),
            _ => None,
        }
    }

    pub fn array(&self) -> Option<ArrayData> {
        match self.kind() {
            Kind::Array => Some(ArrayData {
                elem_type: TypeId(self.words[3]),
                index_type: TypeId(self.words[4]),
                nelems: self.words[5],
            }),
            _ => None,
        }
    }

    /// Members of a STRUCT or UNION (empty for other kinds).
    pub fn members(&self) -> impl ExactSizeIterator<Item = Member> + 'a {
        let kflag = self.kind_flag();
        let words = match self.kind() {
            Kind::Struct | Kind::Union => self.trailing(),
            _ => &[],
        };
        words.chunks_exact(3).map(move |m| {
            let (bit_offset, bitfield_size) = if kflag {
                (m[2] & 0xff_ffff, m[2] >> 24)
            } else {
                (m[2], 0)
            };
            Member {
                name_off: StrOff(m[0]),
                type_id: TypeId(m[1]),
                bit_offset,
                bitfield_size,
            }
        })
    }

    /// Values of an ENUM (empty for other kinds).
    pub fn enum_values(&self) -> impl ExactSizeIterator<Item = EnumValue> + 'a {
        let words = match self.kind() {
            Kind::Enum => self.trailing(),
            _ => &[],
        };
        words.chunks_exact(2).map(|v| EnumValue {
            name_off: StrOff(v[0]),
            val: v[1],
        })
    }

    /// Values of an ENUM64 (empty for other kinds).
    pub fn enum64_values(&self) -> impl ExactSizeIterator<Item = Enum64Value> + 'a {
        let words = match self.kind() {
            Kind::Enum64 => self.trailing(),
            _ => &[],
        };
        words.chunks_exact(3).map(|v| Enum64Value {
            name_off: StrOff(v[0]),
            val: (v[2] as u64) << 32 | v[1] as u64,
        })
    }

    /// Parameters of a FUNC_PROTO (empty for other kinds); a trailing
    /// `{0, 0}` marks varargs.
    pub fn params(&self) -> impl ExactSizeIterator<Item = Param> + 'a {
        let words = match self.kind() {
            Kind::FuncProto => self.trailing(),
            _ => &[],
        };
        words.chunks_exact(2).map(|p| Param {
            name_off: StrOff(p[0]),
            type_id: TypeId(p[1]),
        })
    }

    /// Entries of a DATASEC (empty for other kinds).
    pub fn datasec_vars(&self) -> impl ExactSizeIterator<Item = VarSecInfo> + 'a {
        let words = match self.kind() {
            Kind::Datasec => self.trailing(),
            _ => &[],
        };
        words.chunks_exact(3).map(|v| VarSecInfo {
            type_id: TypeId(v[0]),
            offset: v[1],
            size: v[2],
        })
    }

    /// A VAR's linkage (see [`linkage`]).
    pub fn var_linkage(&self) -> Option<u32> {
        match self.kind() {
            Kind::Var => Some(self.words[3]),
            _ => None,
        }
    }

    /// A DECL_TAG's component index: -1 for the whole declaration.
    pub fn decl_tag_component_idx(&self) -> Option<i32> {
        match self.kind() {
            Kind::DeclTag => Some(self.words[3] as i32),
            _ => None,
        }
    }
}
