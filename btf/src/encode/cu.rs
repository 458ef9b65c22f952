//! What the DWARF walk keeps of one compilation unit: pahole's per-CU tables,
//! with references already recoded to small, CU-local type ids.
//!
//! Small id 0 is `void`; type `i` of [`CuModel::types`] has small id `i + 1`.
//! The BTF builder adds the BTF id of the CU's first type minus one to get
//! BTF ids, so the order of `types` is the order of the emitted types.

/// The CU-local id of a type (0 = void).
pub type SmallId = u32;

/// A name or string value borrowed from the DWARF string sections.
pub type Name<'a> = Option<&'a [u8]>;

/// A `btf_decl_tag` annotation: its value and the member or parameter it
/// applies to (-1 for the whole declaration).
#[derive(Clone, Debug)]
pub struct DeclTag<'a> {
    pub value: Name<'a>,
    pub component_idx: i32,
}

/// One struct or union member (`DW_TAG_member`).
#[derive(Clone, Debug)]
pub struct Member<'a> {
    pub name: Name<'a>,
    pub ty: SmallId,
    /// Bit offset from the start of the struct, as pahole computes it.
    pub bit_offset: u32,
    /// `DW_AT_bit_size`, truncated to 8 bits like pahole's field.
    pub bitfield_size: u8,
}

/// A formal parameter of a function or function type.
#[derive(Clone, Debug)]
pub struct Param<'a> {
    pub name: Name<'a>,
    pub ty: SmallId,
}

/// An enumerator; `value` is the constant read as pahole's `attr_numeric` does.
#[derive(Clone, Debug)]
pub struct Enumerator<'a> {
    pub name: Name<'a>,
    pub value: u64,
}

/// The DWARF type tags that matter to BTF, with what BTF needs of each.
#[derive(Clone, Debug)]
pub enum TypeData<'a> {
    Base {
        name: Name<'a>,
        /// `DW_AT_byte_size * 8`.
        bit_size: u64,
        /// `DW_AT_encoding` (0 when absent).
        encoding: u64,
    },
    Pointer,
    Const,
    Volatile,
    Restrict,
    Typedef {
        name: Name<'a>,
        annots: Vec<DeclTag<'a>>,
    },
    /// A `btf_type_tag` annotation under a pointer.
    TypeTag {
        value: Name<'a>,
    },
    Composite {
        union: bool,
        name: Name<'a>,
        size: u32,
        declaration: bool,
        members: Vec<Member<'a>>,
        annots: Vec<DeclTag<'a>>,
    },
    Array {
        /// Element count of each dimension (`DW_AT_upper_bound + 1` or `DW_AT_count`).
        dims: Vec<u32>,
    },
    Enum {
        name: Name<'a>,
        /// Size in bits (`DW_AT_byte_size * 8`, 32 when absent).
        bits: u32,
        signed: bool,
        values: Vec<Enumerator<'a>>,
    },
    FuncProto {
        params: Vec<Param<'a>>,
        varargs: bool,
    },
    /// `DW_TAG_unspecified_type` (GNU as 2.40 gives it as the return type of
    /// assembly functions). It takes a small id but gets no BTF type; see
    /// [`CuModel::unspecified_type`].
    Unspecified,
    /// A type tag pahole's loader keeps but its BTF encoder rejects
    /// (references, pointers to members, string and unspecified types, ...).
    Unsupported,
}

/// One entry of the types table.
#[derive(Clone, Debug)]
pub struct TypeEntry<'a> {
    /// The DWARF tag (`DW_TAG_*`), for messages and lookups.
    pub tag: u16,
    /// The DIE's offset in `.debug_info`.
    pub die_offset: u64,
    /// The type it refers to (`DW_AT_type`, recoded), for modifiers,
    /// typedefs, arrays, type tags and function return types.
    pub target: SmallId,
    pub data: TypeData<'a>,
}

/// A `DW_TAG_subprogram`, in the order pahole's functions table holds them.
#[derive(Clone, Debug)]
pub struct Function<'a> {
    pub die_offset: u64,
    pub name: Name<'a>,
    pub declaration: bool,
    pub external: bool,
    pub ret: SmallId,
    pub params: Vec<Param<'a>>,
    pub varargs: bool,
    pub annots: Vec<DeclTag<'a>>,
    /// A parameter is in another register than the ABI's for its position
    /// and none is a struct (pahole 1.30's `unexpected_reg`).
    pub unexpected_reg: bool,
    /// `DW_AT_low_pc`, 0 without one (pahole's `function__addr`).
    pub addr: u64,
    /// pahole 1.32: a parameter has no location, a location in no known
    /// register, or only a constant value (`optimized_parms`).
    pub optimized_parms: bool,
    /// pahole 1.32: a parameter sits at another position than in its
    /// abstract origin (`reordered_parm`).
    pub reordered_parm: bool,
}

/// A `DW_TAG_variable` with a static address (`DW_OP_addr` or `DW_OP_addrx`
/// first in its location), or with a specification, in DIE order.
#[derive(Clone, Debug)]
pub struct Variable<'a> {
    pub die_offset: u64,
    pub name: Name<'a>,
    /// The address from the location expression (0 when there is none).
    pub addr: u64,
    /// Whether its first location operation gives a static address.
    pub global: bool,
    pub declaration: bool,
    /// Type and linkage come from the declaration this DIE completes, if any.
    pub ty: SmallId,
    pub external: bool,
    pub has_spec: bool,
    pub annots: Vec<DeclTag<'a>>,
    /// A child of the unit DIE (not of a function or namespace).
    pub top_level: bool,
    pub artificial: bool,
    /// The name of the declaration this DIE completes, else its own: what
    /// pahole 1.30 names the VAR.
    pub decl_name: Name<'a>,
}

/// One compilation unit (or, for LTO-merged DWARF, all of them).
#[derive(Clone, Debug, Default)]
pub struct CuModel<'a> {
    pub language: u64,
    pub types: Vec<TypeEntry<'a>>,
    pub functions: Vec<Function<'a>>,
    pub variables: Vec<Variable<'a>>,
    /// Pointer size of the unit, for sizes of pointer types.
    pub addr_size: u8,
    /// The small id of the last top-level `DW_TAG_unspecified_type` (0 if
    /// none). Debian's pahole 1.24 (upstream bcc648a backported) encodes
    /// function types returning it as returning void; other references to
    /// it are left pointing at whatever BTF id follows (pahole's id drift).
    pub unspecified_type: SmallId,
}

impl<'a> CuModel<'a> {
    /// The entry of a small id (None for void or an id out of range).
    pub fn get(&self, id: SmallId) -> Option<&TypeEntry<'a>> {
        self.types.get((id as usize).checked_sub(1)?)
    }

    /// The small id of the first base type named `name`.
    pub fn find_base_type(&self, name: &[u8]) -> Option<SmallId> {
        self.types
            .iter()
            .position(|t| matches!(t.data, TypeData::Base { name: Some(n), .. } if n == name))
            .map(|i| i as SmallId + 1)
    }

    /// pahole's `tag__size`: the byte size of a type, following typedefs
    /// and modifiers (0 when unknown or for loops).
    pub fn type_size(&self, id: SmallId) -> u64 {
        let mut id = id;
        let mut mult: u64 = 1;
        // A chain longer than the table is a loop.
        for _ in 0..=self.types.len() {
            let Some(t) = self.get(id) else { return 0 };
            match &t.data {
                TypeData::Base { bit_size, .. } => return mult.wrapping_mul(bit_size / 8),
                TypeData::Pointer => return mult.wrapping_mul(self.addr_size as u64),
                TypeData::Enum { bits, .. } => return mult.wrapping_mul(*bits as u64 / 8),
                TypeData::Composite { size, members, .. } => {
                    // pahole's empty-base-optimization rule.
                    let size = if *size == 1 && members.is_empty() {
                        0
                    } else {
                        *size
                    };
                    return mult.wrapping_mul(size as u64);
                }
                TypeData::Array { dims } => {
                    let n = dims.iter().fold(1u32, |a, &d| a.wrapping_mul(d));
                    mult = mult.wrapping_mul(n as u64);
                }
                _ => {}
            }
            if t.target == 0 {
                return 0;
            }
            id = t.target;
        }
        0
    }

    /// Follows typedefs, const, volatile and restrict.
    pub fn strip_typedefs_and_modifiers(&self, id: SmallId) -> SmallId {
        let mut id = id;
        for _ in 0..=self.types.len() {
            match self.get(id).map(|t| &t.data) {
                Some(
                    TypeData::Typedef { .. }
                    | TypeData::Const
                    | TypeData::Volatile
                    | TypeData::Restrict,
                ) => id = self.get(id).map_or(0, |t| t.target),
                _ => return id,
            }
        }
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(target: SmallId, data: TypeData<'static>) -> TypeEntry<'static> {
        TypeEntry {
            tag: 0,
            die_offset: 0,
            target,
            data,
        }
    }

    #[test]
    fn sizes_follow_pahole() {
        let model = CuModel {
            addr_size: 8,
            types: vec![
                entry(
                    0,
                    TypeData::Base {
                        name: Some(b"int"),
                        bit_size: 32,
                        encoding: 5,
                    },
                ),
                entry(
                    1,
                    TypeData::Typedef {
                        name: Some(b"s32"),
                        annots: vec![],
                    },
                ),
                entry(2, TypeData::Array { dims: vec![3, 4] }),
                entry(3, TypeData::Const),
                entry(
                    0,
                    TypeData::Composite {
                        union: false,
                        name: None,
                        size: 1,
                        declaration: false,
                        members: vec![],
                        annots: vec![],
                    },
                ),
                entry(4, TypeData::Pointer),
            ],
            ..CuModel::default()
        };
        assert_eq!(model.type_size(4), 48);
        // An empty struct of size 1 counts as 0 bytes (C++ empty base rule).
        assert_eq!(model.type_size(5), 0);
        assert_eq!(model.type_size(6), 8);
        assert_eq!(model.strip_typedefs_and_modifiers(4), 3);
        assert_eq!(model.find_base_type(b"int"), Some(1));
    }
}
