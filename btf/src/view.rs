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
    /// A signed integer.
    pub const SIGNED: u8 = 1;
    /// A character type.
    pub const CHAR: u8 = 2;
    /// A boolean.
    pub const BOOL: u8 = 4;
}

/// The trailing word of an INT.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct IntData {
    /// `BTF_INT_*` bits (see [`int_encoding`]).
    pub encoding: u8,
    /// `BTF_INT_OFFSET`: bits to skip (0 in any BTF a compiler made).
    pub offset: u8,
    /// `BTF_INT_BITS`: the bits of the value.
    pub bits: u8,
}

impl IntData {
    /// Decodes an INT's trailing word.
    pub fn from_word(w: u32) -> IntData {
        IntData {
            encoding: ((w >> 24) & 0x0f) as u8,
            offset: ((w >> 16) & 0xff) as u8,
            bits: (w & 0xff) as u8,
        }
    }

    /// The INT's trailing word.
    pub fn to_word(self) -> u32 {
        ((self.encoding as u32 & 0x0f) << 24) | ((self.offset as u32) << 16) | self.bits as u32
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
/// The trailing words of an ARRAY.
pub struct ArrayData {
    /// The element type.
    pub elem_type: TypeId,
    /// The index type.
    pub index_type: TypeId,
    /// The number of elements.
    pub nelems: u32,
}

/// A STRUCT or UNION member; the bit offset and bitfield size are decoded
/// according to the parent's kind_flag.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The name's string offset.
    pub name_off: StrOff,
    /// The type.
    pub type_id: TypeId,
    /// The member's offset from the start of its struct or union, in bits.
    pub bit_offset: u32,
    /// The bits of a bitfield member, 0 for others.
    pub bitfield_size: u32,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
/// One ENUM enumerator.
pub struct EnumValue {
    /// The name's string offset.
    pub name_off: StrOff,
    /// The raw 32 bits; signed or unsigned per the ENUM's kind_flag.
    pub val: u32,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
/// One ENUM64 enumerator.
pub struct Enum64Value {
    /// The name's string offset.
    pub name_off: StrOff,
    /// The value.
    pub val: u64,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq)]
/// One FUNC_PROTO parameter.
pub struct Param {
    /// The name's string offset.
    pub name_off: StrOff,
    /// The type.
    pub type_id: TypeId,
}

/// One DATASEC entry (`btf_var_secinfo`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct VarSecInfo {
    /// The type.
    pub type_id: TypeId,
    /// Offset of the variable in the section.
    pub offset: u32,
    /// The variable's size.
    pub size: u32,
}

/// `FUNC` linkage (the FUNC's vlen) and `VAR` linkage values.
pub mod linkage {
    /// Visible in its unit only.
    pub const STATIC: u32 = 0;
    /// Defined here, visible everywhere.
    pub const GLOBAL: u32 = 1;
    /// Defined elsewhere.
    pub const EXTERN: u32 = 2;
}

impl<'a> TypeRef<'a> {
    /// Wraps the words of a record whose length matches its `info`.
    pub(crate) fn new(id: TypeId, words: &'a [u32]) -> TypeRef<'a> {
        debug_assert!(words.len() >= 3);
        TypeRef { id, words }
    }

    /// The type's id.
    pub fn id(&self) -> TypeId {
        self.id
    }

    /// The record's words, in native byte order.
    pub fn words(&self) -> &'a [u32] {
        self.words
    }

    /// The name's string offset.
    pub fn name_off(&self) -> StrOff {
        StrOff(self.words[0])
    }

    /// The record's info word.
    pub fn info(&self) -> Info {
        Info(self.words[1])
    }

    /// The record's kind.
    pub fn kind(&self) -> Kind {
        self.info().kind()
    }

    /// The record's vlen: its number of members, enumerators, parameters or variables (FUNC: linkage).
    pub fn vlen(&self) -> u32 {
        self.info().vlen()
    }

    /// The record's kind_flag.
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

    /// An INT's trailing word; `None` for other kinds.
    pub fn int(&self) -> Option<IntData> {
        match self.kind() {
            Kind::Int => Some(IntData::from_word(self.words[3])),
            _ => None,
        }
    }

    /// An ARRAY's trailing words; `None` for other kinds.
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
