//! BTF kinds and the `info` word that carries them.

use crate::{record, KindLayout};

/// The kind of a BTF type record (`BTF_KIND_*`).
///
/// Kinds newer than this crate are kept as [`Kind::Unknown`]; their records
/// can still be skipped when the BTF carries a kind-layout section.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// An integer.
    Int,
    /// A pointer.
    Ptr,
    /// An array.
    Array,
    /// A struct.
    Struct,
    /// A union.
    Union,
    /// An enum.
    Enum,
    /// A forward declaration.
    Fwd,
    /// A typedef.
    Typedef,
    /// `volatile`.
    Volatile,
    /// `const`.
    Const,
    /// `restrict`.
    Restrict,
    /// A function.
    Func,
    /// A function prototype.
    FuncProto,
    /// A variable.
    Var,
    /// A data section.
    Datasec,
    /// A floating-point type.
    Float,
    /// A declaration attribute (`btf_decl_tag`).
    DeclTag,
    /// A type attribute (`btf_type_tag`).
    TypeTag,
    /// A 64-bit enum.
    Enum64,
    /// A kind kbtf does not know, with its number.
    Unknown(u8),
}

/// The highest kind number this crate knows the layout of.
pub const MAX_KNOWN_KIND: u8 = 19;

impl Kind {
    /// The kind for its 7-bit number.
    #[inline]
    pub fn from_raw(raw: u8) -> Kind {
        match raw {
            1 => Kind::Int,
            2 => Kind::Ptr,
            3 => Kind::Array,
            4 => Kind::Struct,
            5 => Kind::Union,
            6 => Kind::Enum,
            7 => Kind::Fwd,
            8 => Kind::Typedef,
            9 => Kind::Volatile,
            10 => Kind::Const,
            11 => Kind::Restrict,
            12 => Kind::Func,
            13 => Kind::FuncProto,
            14 => Kind::Var,
            15 => Kind::Datasec,
            16 => Kind::Float,
            17 => Kind::DeclTag,
            18 => Kind::TypeTag,
            19 => Kind::Enum64,
            other => Kind::Unknown(other),
        }
    }

    /// The kind's number as stored in `info`.
    pub fn raw(self) -> u8 {
        match self {
            Kind::Int => 1,
            Kind::Ptr => 2,
            Kind::Array => 3,
            Kind::Struct => 4,
            Kind::Union => 5,
            Kind::Enum => 6,
            Kind::Fwd => 7,
            Kind::Typedef => 8,
            Kind::Volatile => 9,
            Kind::Const => 10,
            Kind::Restrict => 11,
            Kind::Func => 12,
            Kind::FuncProto => 13,
            Kind::Var => 14,
            Kind::Datasec => 15,
            Kind::Float => 16,
            Kind::DeclTag => 17,
            Kind::TypeTag => 18,
            Kind::Enum64 => 19,
            Kind::Unknown(raw) => raw,
        }
    }

    /// The upper-case name libbpf and bpftool use (`"FUNC_PROTO"`).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Int => "INT",
            Kind::Ptr => "PTR",
            Kind::Array => "ARRAY",
            Kind::Struct => "STRUCT",
            Kind::Union => "UNION",
            Kind::Enum => "ENUM",
            Kind::Fwd => "FWD",
            Kind::Typedef => "TYPEDEF",
            Kind::Volatile => "VOLATILE",
            Kind::Const => "CONST",
            Kind::Restrict => "RESTRICT",
            Kind::Func => "FUNC",
            Kind::FuncProto => "FUNC_PROTO",
            Kind::Var => "VAR",
            Kind::Datasec => "DATASEC",
            Kind::Float => "FLOAT",
            Kind::DeclTag => "DECL_TAG",
            Kind::TypeTag => "TYPE_TAG",
            Kind::Enum64 => "ENUM64",
            Kind::Unknown(_) => "UNKN",
        }
    }

    /// Modifiers and typedefs: kinds whose record is just a reference to another type.
    pub fn is_modifier(self) -> bool {
        matches!(
            self,
            Kind::Typedef | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag
        )
    }

    /// Kinds whose third word is a size rather than a type id.
    pub fn has_size(self) -> bool {
        matches!(
            self,
            Kind::Int
                | Kind::Struct
                | Kind::Union
                | Kind::Enum
                | Kind::Datasec
                | Kind::Float
                | Kind::Enum64
        )
    }
}

/// The name libbpf and bpftool use (`FUNC_PROTO`, see [`Kind::name`]); a
/// kind kbtf does not know shows its number: `UNKN(20)`.
impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Kind::Unknown(raw) => write!(f, "UNKN({raw})"),
            kind => f.write_str(kind.name()),
        }
    }
}

/// The `info` word: vlen in bits 0-23, kind in bits 24-30, kind_flag in bit 31.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Info(pub u32);

impl Info {
    /// The widest vlen field kbtf reads (bits 0-23, as libbpf does); bits
    /// 16-23 are reserved by the kernel.
    pub const MAX_VLEN: u32 = 0xff_ffff;

    /// The most members, enumerators, parameters or variables one record
    /// may hold: the kernel reads vlen as 16 bits and rejects the rest.
    pub const MAX_KERNEL_VLEN: u32 = 0xffff;

    /// An info word; vlen is cut to 24 bits (builders check the kernel's 16).
    pub fn new(kind: Kind, kind_flag: bool, vlen: u32) -> Info {
        debug_assert!(vlen <= Self::MAX_VLEN);
        Info(
            ((kind_flag as u32) << 31)
                | (((kind.raw() & 0x7f) as u32) << 24)
                | (vlen & Self::MAX_VLEN),
        )
    }

    #[inline]
    /// The kind.
    pub fn kind(self) -> Kind {
        Kind::from_raw(self.raw_kind())
    }

    #[inline]
    /// The kind number as stored (7 bits).
    pub fn raw_kind(self) -> u8 {
        ((self.0 >> 24) & 0x7f) as u8
    }

    #[inline]
    /// The vlen bits (0-23; the kernel reads 0-15).
    pub fn vlen(self) -> u32 {
        self.0 & Self::MAX_VLEN
    }

    /// Bit 31, kind_flag.
    pub fn kind_flag(self) -> bool {
        self.0 >> 31 != 0
    }

    /// Words in the common part of every record: `name_off`, `info`, `size|type`.
    pub const COMMON_WORDS: usize = record::COMMON_WORDS;

    /// The number of 32-bit words a record with this info occupies, or `None`
    /// for an unknown kind that `layout` (a BTF's kind-layout section, see
    /// [`crate::Btf::layout`]) does not describe in whole words.
    ///
    /// ```
    /// use kbtf_btf::{Info, Kind};
    ///
    /// // A struct of two members: the common words and three per member.
    /// assert_eq!(Info::new(Kind::Struct, false, 2).record_words(None), Some(9));
    /// ```
    pub fn record_words(self, layout: Option<&[KindLayout]>) -> Option<usize> {
        record::record_words(self, layout)
    }

    /// The word positions, within a record with this info, that hold type
    /// ids, in record order: what a remap of ids rewrites.
    ///
    /// ```
    /// use kbtf_btf::{Info, Kind};
    ///
    /// // A FUNC_PROTO's return type, then each parameter's type.
    /// let slots: Vec<usize> = Info::new(Kind::FuncProto, false, 2).type_id_slots().collect();
    /// assert_eq!(slots, [2, 4, 6]);
    /// ```
    pub fn type_id_slots(self) -> impl Iterator<Item = usize> + Clone {
        record::type_id_slots(self)
    }

    /// The word positions, within a record with this info, that hold string
    /// offsets, in record order (the name, then each element's name).
    pub fn str_off_slots(self) -> impl Iterator<Item = usize> + Clone {
        record::str_off_slots(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_round_trips_every_kind() {
        for raw in 0..=0x7f {
            let kind = Kind::from_raw(raw);
            assert_eq!(kind.raw(), raw);
            let info = Info::new(kind, true, Info::MAX_VLEN);
            assert_eq!(info.kind(), kind);
            assert!(info.kind_flag());
            assert_eq!(info.vlen(), Info::MAX_VLEN);
        }
    }

    #[test]
    fn kinds_display_as_libbpf_names_them() {
        assert_eq!(Kind::FuncProto.to_string(), "FUNC_PROTO");
        assert_eq!(Kind::Enum64.to_string(), "ENUM64");
        assert_eq!(Kind::Unknown(20).to_string(), "UNKN(20)");
    }
}
