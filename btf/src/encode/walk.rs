//! The DWARF walk: builds a [`CuModel`] from one unit's DIE tree, following
//! pahole 1.24's loader, whose order decides the order of the BTF types:
//!
//! * a type gets its small id when its DIE is finished, after the types
//!   nested in it (post-order), and only where the loader descends: struct,
//!   union and enum bodies, function bodies, lexical blocks, inline
//!   expansions, namespaces and function types;
//! * functions are listed in the same post-order, variables in DIE order;
//! * references are kept as `.debug_info` offsets and resolved after the
//!   walk (see `recode`).

use gimli::constants as dw;
use rustc_hash::FxHashMap;

use super::cu::{
    CuModel, DeclTag, Enumerator, Function, Member, Name, SmallId, TypeData, TypeEntry, Variable,
};
use super::die::{Die, Location};
use super::R;

/// `DW_TAG_LLVM_annotation`: clang's carrier of btf_decl_tag / btf_type_tag.
const DW_TAG_LLVM_ANNOTATION: u16 = 0x6000;
/// pahole's limit on array dimensions.
const MAX_DIMENSIONS: usize = 64;
/// How deep DIEs may nest before the walk gives up (real DWARF stays far
/// below; this keeps a malformed file from exhausting the stack).
const MAX_DEPTH: u32 = 512;

/// What the walk reads of the encoder's options.
#[derive(Clone, Copy, Debug)]
pub struct WalkOptions {
    pub decl_tags: bool,
    pub type_tags: bool,
    /// The ELF file is little-endian: DWARF 4 bitfield offsets count from
    /// the other end of the storage unit.
    pub little_endian: bool,
    /// The ABI's argument registers (DWARF numbers) when pahole 1.30's
    /// unexpected-register rule applies, else empty.
    pub register_params: &'static [u8],
    /// pahole 1.30: `DW_TAG_unspecified_type` takes no small id and every
    /// reference to it means void (1.24 as Debian built it gives it an id).
    pub unspecified_is_void: bool,
    /// pahole 1.32: an array of n dimensions becomes n nested one-dimension
    /// arrays, the inner ones taking the small ids just before the outer
    /// one, innermost first (older versions keep one flattened array).
    pub nested_arrays: bool,
    /// pahole 1.32's parameter analysis: each parameter's location decoded
    /// (`parameter__decode_location`), shared with its abstract origin,
    /// then checked against the ABI's registers by slots
    /// (`function__analyze_parameter_locations`).
    pub params_132: bool,
}

/// What pahole 1.32 knows of a formal parameter's location.
#[derive(Clone, Copy, Debug)]
pub(super) struct ParamFacts {
    /// Its position among its function's parameters.
    pub(super) idx: i32,
    pub(super) has_loc: bool,
    pub(super) has_const_value: bool,
    /// `DW_OP_reg0 + n`, or -1.
    pub(super) loc_reg: i32,
    /// Its type's size (pahole's `get_type_byte_size`).
    pub(super) byte_size: u64,
}

impl Default for ParamFacts {
    fn default() -> Self {
        ParamFacts {
            idx: -1,
            has_loc: false,
            has_const_value: false,
            loc_reg: -1,
            byte_size: 0,
        }
    }
}

/// A reference still to be recoded: a `.debug_info` offset or void.
pub(super) type Ref = Option<u64>;

/// A formal parameter as read, before recoding.
pub(super) struct RawParam<'a> {
    /// Its index in `Walker::params`.
    pub(super) index: usize,
    pub(super) name: Name<'a>,
    pub(super) type_ref: Ref,
    pub(super) origin: Ref,
}

/// A bitfield member whose bit offset depends on the size of its type.
pub(super) struct PendingBitfield {
    pub(super) type_index: usize,
    pub(super) member_index: usize,
    pub(super) byte_offset: u32,
    pub(super) dw_bit_offset: u64,
    pub(super) byte_size: u64,
}

/// A function as read, before recoding.
pub(super) struct RawFunction<'a> {
    pub(super) func: Function<'a>,
    pub(super) type_ref: Ref,
    pub(super) origin: Ref,
    pub(super) spec: Ref,
    pub(super) params: Vec<RawParam<'a>>,
}

/// A variable as read, before recoding.
pub(super) struct RawVariable<'a> {
    pub(super) var: Variable<'a>,
    pub(super) type_ref: Ref,
    pub(super) spec: Ref,
}

/// What a name in pahole's `hash_tags` refers to.
#[derive(Clone, Copy)]
pub(super) enum Tag {
    /// A parameter: index into `Walker::params`.
    Param(usize),
    Function(usize),
    Variable(usize),
}

/// One walk over one unit (or several, for merged LTO DWARF).
pub struct Walker<'a, 'u> {
    pub(super) dwarf: &'u gimli::Dwarf<R<'a>>,
    pub(super) unit: &'u gimli::Unit<R<'a>>,
    pub(super) opts: WalkOptions,
    pub(super) model: CuModel<'a>,
    /// `DW_AT_type` of each entry of `model.types`, and of its members or params.
    pub(super) type_refs: Vec<Ref>,
    pub(super) member_refs: Vec<Vec<Ref>>,
    /// Pointer index -> its type tags, innermost last (pahole's `tags` list).
    pub(super) ptr_tags: Vec<(usize, Vec<usize>)>,
    /// Outer array index -> its inner arrays, innermost first (pahole 1.32).
    pub(super) array_chains: Vec<(usize, Vec<usize>)>,
    pub(super) proto_params: FxHashMap<usize, Vec<RawParam<'a>>>,
    pub(super) bitfields: Vec<PendingBitfield>,
    /// Every parameter DIE: name and type, for abstract origins.
    pub(super) params: Vec<(Name<'a>, Ref)>,
    /// Per parameter DIE: its location names another register than the
    /// ABI's for its position (pahole 1.30's `unexpected_reg`).
    pub(super) param_unexpected: Vec<bool>,
    /// Per parameter DIE (pahole 1.32 only).
    pub(super) param_facts: Vec<ParamFacts>,
    pub(super) functions: Vec<RawFunction<'a>>,
    pub(super) variables: Vec<RawVariable<'a>>,
    /// pahole's `hash_types` and `hash_tags`.
    pub(super) type_ids: FxHashMap<u64, SmallId>,
    pub(super) tags: FxHashMap<u64, Tag>,
    pub(super) language_set: bool,
    pub(super) depth: u32,
    /// The child of the unit DIE being processed.
    pub(super) top_die: u64,
}

type Node<'abbrev, 'me, 'a> = gimli::EntriesTreeNode<'abbrev, 'me, R<'a>>;

impl<'a, 'u> Walker<'a, 'u> {
    pub fn new(
        dwarf: &'u gimli::Dwarf<R<'a>>,
        unit: &'u gimli::Unit<R<'a>>,
        opts: WalkOptions,
    ) -> Self {
        Walker {
            dwarf,
            unit,
            opts,
            model: CuModel {
                addr_size: unit.header.address_size(),
                ..CuModel::default()
            },
            type_refs: Vec::new(),
            member_refs: Vec::new(),
            ptr_tags: Vec::new(),
            array_chains: Vec::new(),
            proto_params: FxHashMap::default(),
            bitfields: Vec::new(),
            params: Vec::new(),
            param_unexpected: Vec::new(),
            param_facts: Vec::new(),
            functions: Vec::new(),
            variables: Vec::new(),
            type_ids: FxHashMap::default(),
            tags: FxHashMap::default(),
            language_set: false,
            depth: 0,
            top_die: u64::MAX,
        }
    }

    /// Continues the walk in another unit (merged LTO DWARF).
    pub fn set_unit(&mut self, unit: &'u gimli::Unit<R<'a>>) {
        self.unit = unit;
    }

    /// Walks the unit's DIE tree. Returns false for units pahole skips
    /// (partial and skeleton units).
    pub fn walk_unit(&mut self) -> Result<bool, WalkError> {
        let mut tree = self.unit.entries_tree(None)?;
        let root = tree.root()?;
        let tag = root.entry().tag();
        if tag == dw::DW_TAG_partial_unit || tag == dw::DW_TAG_skeleton_unit {
            return Ok(false);
        }
        if tag != dw::DW_TAG_compile_unit && tag != dw::DW_TAG_type_unit {
            return Err(WalkError::Unsupported {
                die: 0,
                what: format!("unit DIE is {tag}, not a compile or type unit"),
            });
        }
        if !self.language_set {
            self.model.language = unit_language(root.entry());
            self.language_set = true;
        }
        let mut children = root.children();
        while let Some(child) = children.next()? {
            let unspecified = child.entry().tag() == dw::DW_TAG_unspecified_type;
            self.top_die = child
                .entry()
                .offset()
                .to_debug_info_offset(&self.unit.header)
                .map_or(u64::MAX, |o| o.0 as u64);
            self.process_tag(child)?;
            if unspecified && !self.opts.unspecified_is_void {
                self.model.unspecified_type = self.model.types.len() as SmallId;
            }
        }
        Ok(true)
    }

    fn die(&self, node: &Node<'_, '_, 'a>) -> Die<'a> {
        Die::read(self.dwarf, self.unit, node.entry())
    }

    fn add_type(&mut self, die: &Die<'a>, data: TypeData<'a>) -> usize {
        let index = self.model.types.len();
        self.model.types.push(TypeEntry {
            tag: die.tag,
            die_offset: die.offset,
            target: 0,
            data,
        });
        self.type_refs.push(die.type_ref);
        self.member_refs.push(Vec::new());
        self.type_ids.insert(die.offset, index as SmallId + 1);
        index
    }

    /// Runs `f` one nesting level deeper, refusing absurd depths.
    fn nested(
        &mut self,
        node: Node<'_, '_, 'a>,
        f: impl FnOnce(&mut Self, Node<'_, '_, 'a>) -> Result<(), WalkError>,
    ) -> Result<(), WalkError> {
        if self.depth >= MAX_DEPTH {
            let die = self.die(&node).offset;
            return Err(WalkError::Unsupported {
                die,
                what: format!("DIEs nested more than {MAX_DEPTH} deep"),
            });
        }
        self.depth += 1;
        let r = f(self, node);
        self.depth -= 1;
        r
    }

    /// pahole's `__die__process_tag` followed by adding the result to its table.
    fn process_tag(&mut self, node: Node<'_, '_, 'a>) -> Result<(), WalkError> {
        self.nested(node, Self::process_tag_here)
    }

    fn process_tag_here(&mut self, node: Node<'_, '_, 'a>) -> Result<(), WalkError> {
        let die = self.die(&node);
        let tag = gimli::DwTag(die.tag);
        match tag {
            dw::DW_TAG_imported_unit => {
                return Err(WalkError::Unsupported {
                    die: die.offset,
                    what: "DW_TAG_imported_unit is not supported (as in pahole)".into(),
                })
            }
            dw::DW_TAG_array_type => {
                let mut dims = Vec::new();
                let mut children = node.children();
                while let Some(child) = children.next()? {
                    if child.entry().tag() == dw::DW_TAG_subrange_type {
                        let sub = self.die(&child);
                        dims.push(sub.nr_entries as u32);
                        if dims.len() == MAX_DIMENSIONS {
                            break;
                        }
                    }
                }
                if self.opts.nested_arrays && dims.len() > 1 {
                    let inner: Vec<usize> = dims[1..]
                        .iter()
                        .rev()
                        .map(|&d| {
                            let i = self.add_type(&die, TypeData::Array { dims: vec![d] });
                            self.type_refs[i] = None;
                            i
                        })
                        .collect();
                    let outer = self.add_type(
                        &die,
                        TypeData::Array {
                            dims: vec![dims[0]],
                        },
                    );
                    self.array_chains.push((outer, inner));
                } else {
                    self.add_type(&die, TypeData::Array { dims });
                }
            }
            dw::DW_TAG_base_type => {
                let data = TypeData::Base {
                    name: die.name,
                    bit_size: die.byte_size.wrapping_mul(8),
                    encoding: die.encoding,
                };
                self.add_type(&die, data);
            }
            dw::DW_TAG_const_type => {
                self.add_type(&die, TypeData::Const);
            }
            dw::DW_TAG_volatile_type => {
                self.add_type(&die, TypeData::Volatile);
            }
            dw::DW_TAG_restrict_type => {
                self.add_type(&die, TypeData::Restrict);
            }
            dw::DW_TAG_unspecified_type if self.opts.unspecified_is_void => {
                self.type_ids.insert(die.offset, 0);
            }
            dw::DW_TAG_unspecified_type => {
                self.add_type(&die, TypeData::Unspecified);
            }
            dw::DW_TAG_string_type
            | dw::DW_TAG_reference_type
            | dw::DW_TAG_ptr_to_member_type
            | dw::DW_TAG_rvalue_reference_type => {
                self.add_type(&die, TypeData::Unsupported);
            }
            dw::DW_TAG_imported_declaration | dw::DW_TAG_imported_module => {}
            dw::DW_TAG_pointer_type => self.process_pointer(node, &die)?,
            dw::DW_TAG_enumeration_type => self.process_enum(node, &die)?,
            dw::DW_TAG_namespace => {
                let mut children = node.children();
                while let Some(child) = children.next()? {
                    self.process_tag(child)?;
                }
            }
            dw::DW_TAG_class_type
            | dw::DW_TAG_interface_type
            | dw::DW_TAG_structure_type
            | dw::DW_TAG_union_type => self.process_class(node, &die)?,
            dw::DW_TAG_subprogram => self.process_subprogram(node, die)?,
            dw::DW_TAG_subroutine_type => self.process_subroutine_type(node, &die)?,
            dw::DW_TAG_typedef => {
                let annots = self.child_annotations(node, -1)?;
                self.add_type(
                    &die,
                    TypeData::Typedef {
                        name: die.name,
                        annots,
                    },
                );
            }
            dw::DW_TAG_variable => {
                let annots = self.child_annotations(node, -1)?;
                self.add_variable(die, annots);
            }
            // pahole ignores anything else, without looking inside.
            _ => {}
        }
        Ok(())
    }

    /// `btf_decl_tag` annotations among the children of a DIE.
    fn child_annotations(
        &mut self,
        node: Node<'_, '_, 'a>,
        component_idx: i32,
    ) -> Result<Vec<DeclTag<'a>>, WalkError> {
        let mut annots = Vec::new();
        if !self.opts.decl_tags {
            return Ok(annots);
        }
        let mut children = node.children();
        while let Some(child) = children.next()? {
            if child.entry().tag().0 == DW_TAG_LLVM_ANNOTATION {
                let a = self.die(&child);
                self.push_decl_tag(&a, component_idx, &mut annots);
            }
        }
        Ok(annots)
    }

    fn push_decl_tag(&self, a: &Die<'a>, component_idx: i32, out: &mut Vec<DeclTag<'a>>) {
        if self.opts.decl_tags && a.name == Some(b"btf_decl_tag".as_slice()) {
            out.push(DeclTag {
                value: a.const_string,
                component_idx,
            });
        }
    }

    fn add_variable(&mut self, die: Die<'a>, annots: Vec<DeclTag<'a>>) {
        let (global, addr) = match die.location {
            Location::Addr(a) if !die.declaration => (true, a),
            _ => (false, 0),
        };
        let index = self.variables.len();
        self.tags.insert(die.offset, Tag::Variable(index));
        self.variables.push(RawVariable {
            var: Variable {
                die_offset: die.offset,
                name: die.name,
                addr,
                global,
                declaration: die.declaration,
                ty: 0,
                external: die.external,
                has_spec: false,
                annots,
                top_level: die.offset == self.top_die,
                artificial: die.artificial,
                decl_name: die.name,
            },
            type_ref: die.type_ref,
            spec: die.specification,
        });
    }

    fn process_pointer(&mut self, node: Node<'_, '_, 'a>, die: &Die<'a>) -> Result<(), WalkError> {
        let mut tags = Vec::new();
        if self.opts.type_tags {
            let mut children = node.children();
            while let Some(child) = children.next()? {
                if child.entry().tag().0 != DW_TAG_LLVM_ANNOTATION {
                    continue;
                }
                let a = self.die(&child);
                if a.name != Some(b"btf_type_tag".as_slice()) {
                    continue;
                }
                // The chain is linked after the walk: the annotation's own
                // DW_AT_type (it has none) plays no part.
                let value = a.const_string;
                let a = Die {
                    type_ref: None,
                    ..a
                };
                tags.push(self.add_type(&a, TypeData::TypeTag { value }));
            }
        }
        let index = self.add_type(die, TypeData::Pointer);
        if !tags.is_empty() {
            // pahole's list puts the last annotation first: ptr -> tagN -> ... -> tag1.
            tags.reverse();
            self.ptr_tags.push((index, tags));
        }
        Ok(())
    }

    fn process_enum(&mut self, node: Node<'_, '_, 'a>, die: &Die<'a>) -> Result<(), WalkError> {
        let bits = if die.byte_size == 0 {
            32
        } else {
            die.byte_size.wrapping_mul(8) as u32
        };
        let signed = bits > 32 && self.is_signed_type(die.type_ref);
        let mut values = Vec::new();
        let mut children = node.children();
        while let Some(child) = children.next()? {
            if child.entry().tag() == dw::DW_TAG_enumerator {
                let e = self.die(&child);
                values.push(Enumerator {
                    name: e.name,
                    value: e.const_value,
                });
            }
        }
        let data = TypeData::Enum {
            name: die.name,
            bits,
            signed,
            values,
        };
        self.add_type(die, data);
        Ok(())
    }

    /// Whether the DIE at `r` has a signed `DW_AT_encoding` (pahole's
    /// `is_signed_enum`, read from the enum's `DW_AT_type`, not followed further).
    fn is_signed_type(&self, r: Ref) -> bool {
        let Some(off) = r else { return false };
        let Some(unit_off) = gimli::DebugInfoOffset(off as usize).to_unit_offset(&self.unit.header)
        else {
            return false;
        };
        let Ok(entry) = self.unit.entry(unit_off) else {
            return false;
        };
        let t = Die::read(self.dwarf, self.unit, &entry);
        t.encoding == dw::DW_ATE_signed.0 as u64 || t.encoding == dw::DW_ATE_signed_char.0 as u64
    }

    /// pahole's `die__process_class`, for structs, unions and classes.
    fn process_class(&mut self, node: Node<'_, '_, 'a>, die: &Die<'a>) -> Result<(), WalkError> {
        let union = die.tag == dw::DW_TAG_union_type.0;
        let mut members = Vec::new();
        let mut member_refs = Vec::new();
        let mut annots = Vec::new();
        let mut pending = Vec::new();
        let mut member_idx = 0;
        let mut children = node.children();
        while let Some(child) = children.next()? {
            match child.entry().tag() {
                dw::DW_TAG_subrange_type
                | dw::DW_TAG_variant_part
                | dw::DW_TAG_template_type_parameter
                | dw::DW_TAG_template_value_parameter
                | dw::DW_TAG_GNU_formal_parameter_pack
                | dw::DW_TAG_GNU_template_parameter_pack
                | dw::DW_TAG_GNU_template_template_param => {}
                t @ (dw::DW_TAG_member | dw::DW_TAG_inheritance) => {
                    let m = self.die(&child);
                    if t == dw::DW_TAG_member {
                        let (bit_offset, byte_offset) = match m.data_bit_offset {
                            Some(b) => (b as u32, None),
                            None => {
                                let byte_offset = m.member_location.unwrap_or(0) as u32;
                                (byte_offset.wrapping_mul(8), Some(byte_offset))
                            }
                        };
                        let bitfield_size = m.bit_size as u8;
                        // pahole leaves static members (no location, outside unions) alone.
                        let placed = m.member_location.is_some() || union;
                        if let (Some(byte_offset), true) =
                            (byte_offset, bitfield_size != 0 && placed)
                        {
                            pending.push(PendingBitfield {
                                type_index: 0,
                                member_index: members.len(),
                                byte_offset,
                                dw_bit_offset: m.bit_offset,
                                byte_size: m.byte_size,
                            });
                        }
                        members.push(Member {
                            name: m.name,
                            ty: 0,
                            bit_offset,
                            bitfield_size,
                        });
                        member_refs.push(m.type_ref);
                    }
                    let annot_children = self.child_annotations(child, member_idx)?;
                    annots.extend(annot_children);
                    member_idx += 1;
                }
                t if t.0 == DW_TAG_LLVM_ANNOTATION => {
                    let a = self.die(&child);
                    self.push_decl_tag(&a, -1, &mut annots);
                }
                _ => self.process_tag(child)?,
            }
        }
        let data = TypeData::Composite {
            union,
            name: die.name,
            size: die.byte_size as u32,
            declaration: die.declaration_value != 0,
            members,
            annots,
        };
        let index = self.add_type(die, data);
        self.member_refs[index] = member_refs;
        for mut p in pending {
            p.type_index = index;
            self.bitfields.push(p);
        }
        Ok(())
    }

    /// pahole 1.32's `get_type_byte_size` of a parameter: its type's (or
    /// its abstract origin's type's) size, pointers the address size,
    /// through types without a size to their own type.
    fn param_byte_size(&self, p: &Die<'a>) -> u64 {
        let mut next = match p.abstract_origin {
            Some(origin) => self.die_at(origin).and_then(|d| d.type_ref),
            None => p.type_ref,
        };
        for _ in 0..MAX_DEPTH {
            let Some(t) = next.and_then(|off| self.die_at(off)) else {
                return 0;
            };
            if t.tag == dw::DW_TAG_pointer_type.0 {
                return self.unit.header.address_size() as u64;
            }
            if t.byte_size != 0 {
                return t.byte_size;
            }
            next = t.type_ref;
        }
        0
    }

    /// The DIE at a `.debug_info` offset of this unit.
    fn die_at(&self, off: u64) -> Option<Die<'a>> {
        let unit_off = gimli::DebugInfoOffset(off as usize).to_unit_offset(&self.unit.header)?;
        let entry = self.unit.entry(unit_off).ok()?;
        Some(Die::read(self.dwarf, self.unit, &entry))
    }

    fn add_param(&mut self, p: &Die<'a>) -> RawParam<'a> {
        let index = self.params.len();
        self.tags.insert(p.offset, Tag::Param(index));
        self.params.push((p.name, p.type_ref));
        self.param_unexpected.push(false);
        self.param_facts.push(ParamFacts::default());
        RawParam {
            index,
            name: p.name,
            type_ref: p.type_ref,
            origin: p.abstract_origin,
        }
    }

    fn process_subroutine_type(
        &mut self,
        node: Node<'_, '_, 'a>,
        die: &Die<'a>,
    ) -> Result<(), WalkError> {
        let mut params = Vec::new();
        let mut varargs = false;
        let mut children = node.children();
        while let Some(child) = children.next()? {
            match child.entry().tag() {
                dw::DW_TAG_subrange_type => {}
                dw::DW_TAG_formal_parameter => {
                    let p = self.die(&child);
                    params.push(self.add_param(&p));
                }
                dw::DW_TAG_unspecified_parameters => varargs = true,
                _ => self.process_tag(child)?,
            }
        }
        let data = TypeData::FuncProto {
            params: Vec::new(),
            varargs,
        };
        let index = self.add_type(die, data);
        self.proto_params.insert(index, params);
        Ok(())
    }

    fn process_subprogram(
        &mut self,
        node: Node<'_, '_, 'a>,
        die: Die<'a>,
    ) -> Result<(), WalkError> {
        let mut f = RawFunction {
            func: Function {
                die_offset: die.offset,
                name: die.name,
                declaration: die.declaration,
                external: die.external,
                ret: 0,
                params: Vec::new(),
                varargs: false,
                annots: Vec::new(),
                unexpected_reg: false,
                addr: die.low_pc,
                optimized_parms: false,
                reordered_parm: false,
            },
            type_ref: die.type_ref,
            origin: die.abstract_origin,
            spec: die.specification,
            params: Vec::new(),
        };
        self.process_function_body(node, Some(&mut f))?;
        self.tags
            .insert(die.offset, Tag::Function(self.functions.len()));
        self.functions.push(f);
        Ok(())
    }

    /// pahole's `die__process_function`: the children of a subprogram
    /// (`func` set) or of a lexical block.
    fn process_function_body(
        &mut self,
        node: Node<'_, '_, 'a>,
        mut func: Option<&mut RawFunction<'a>>,
    ) -> Result<(), WalkError> {
        let mut param_idx = 0;
        let mut children = node.children();
        while let Some(child) = children.next()? {
            match child.entry().tag() {
                dw::DW_TAG_call_site
                | dw::DW_TAG_call_site_parameter
                | dw::DW_TAG_GNU_call_site
                | dw::DW_TAG_GNU_call_site_parameter
                | dw::DW_TAG_dwarf_procedure
                | dw::DW_TAG_template_type_parameter
                | dw::DW_TAG_template_value_parameter
                | dw::DW_TAG_GNU_formal_parameter_pack
                | dw::DW_TAG_GNU_template_parameter_pack
                | dw::DW_TAG_GNU_template_template_param
                | dw::DW_TAG_label => {}
                dw::DW_TAG_formal_parameter => {
                    let p = self.die(&child);
                    let raw = self.add_param(&p);
                    if self.opts.params_132 {
                        let byte_size = self.param_byte_size(&p);
                        let loc_reg = p.location_value.as_ref().map_or(-1, |loc| {
                            super::die::parameter_location_132(
                                self.dwarf, self.unit, loc, byte_size,
                            )
                            .reg
                        });
                        self.param_facts[raw.index] = ParamFacts {
                            idx: param_idx,
                            has_loc: p.location_value.is_some(),
                            has_const_value: p.has_const_value,
                            loc_reg,
                            byte_size,
                        };
                    } else if let (Some(&expected), Some(loc)) = (
                        self.opts.register_params.get(param_idx as usize),
                        p.location_value.as_ref(),
                    ) {
                        let actual =
                            super::die::parameter_register(self.dwarf, self.unit, loc, expected);
                        self.param_unexpected[raw.index] =
                            actual >= 0 && actual != (dw::DW_OP_reg0.0 + expected) as i32;
                    }
                    if let Some(f) = func.as_deref_mut() {
                        f.params.push(raw);
                        let annots = self.child_annotations(child, param_idx)?;
                        f.func.annots.extend(annots);
                    }
                    param_idx += 1;
                }
                dw::DW_TAG_variable => {
                    let v = self.die(&child);
                    let annots = self.child_annotations(child, -1)?;
                    self.add_variable(v, annots);
                }
                dw::DW_TAG_unspecified_parameters => {
                    if let Some(f) = func.as_deref_mut() {
                        f.func.varargs = true;
                    }
                }
                dw::DW_TAG_inlined_subroutine => self.process_inline_expansion(child)?,
                dw::DW_TAG_lexical_block => {
                    self.nested(child, |w, c| w.process_function_body(c, None))?
                }
                t if t.0 == DW_TAG_LLVM_ANNOTATION => {
                    let a = self.die(&child);
                    if let Some(f) = func.as_deref_mut() {
                        let mut annots = std::mem::take(&mut f.func.annots);
                        self.push_decl_tag(&a, -1, &mut annots);
                        f.func.annots = annots;
                    }
                }
                _ => self.process_tag(child)?,
            }
        }
        Ok(())
    }

    /// pahole's `die__process_inline_expansion`.
    fn process_inline_expansion(&mut self, node: Node<'_, '_, 'a>) -> Result<(), WalkError> {
        self.nested(node, Self::process_inline_expansion_here)
    }

    fn process_inline_expansion_here(&mut self, node: Node<'_, '_, 'a>) -> Result<(), WalkError> {
        let mut children = node.children();
        while let Some(child) = children.next()? {
            match child.entry().tag() {
                dw::DW_TAG_call_site
                | dw::DW_TAG_call_site_parameter
                | dw::DW_TAG_GNU_call_site
                | dw::DW_TAG_GNU_call_site_parameter
                | dw::DW_TAG_formal_parameter
                | dw::DW_TAG_label => {}
                dw::DW_TAG_lexical_block => {
                    self.nested(child, |w, c| w.process_function_body(c, None))?
                }
                dw::DW_TAG_inlined_subroutine => self.process_inline_expansion(child)?,
                _ => self.process_tag(child)?,
            }
        }
        Ok(())
    }
}

/// `DW_AT_language` of a unit DIE, read as pahole's `attr_numeric` (0 when absent).
fn unit_language(entry: &gimli::DebuggingInformationEntry<R<'_>>) -> u64 {
    match entry.attr_value_raw(dw::DW_AT_language) {
        Some(gimli::AttributeValue::Language(l)) => l.0 as u64,
        Some(gimli::AttributeValue::Data1(x)) => x as u64,
        Some(gimli::AttributeValue::Data2(x)) => x as u64,
        Some(gimli::AttributeValue::Data4(x)) => x as u64,
        Some(gimli::AttributeValue::Udata(x)) => x,
        _ => 0,
    }
}

/// Why a unit could not be walked.
#[derive(Debug)]
pub enum WalkError {
    Dwarf(gimli::Error),
    /// Something pahole's loader gives up on, at a DIE offset.
    Unsupported {
        die: u64,
        what: String,
    },
}

impl From<gimli::Error> for WalkError {
    fn from(e: gimli::Error) -> Self {
        WalkError::Dwarf(e)
    }
}
