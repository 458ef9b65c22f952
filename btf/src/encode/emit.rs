//! The BTF builder: appends each CU's types, decl tags, functions and
//! per-CPU variables to one BTF, as pahole 1.24 does with libbpf's
//! `btf__add_*` (same records, same checks), then the DATASEC. As pahole
//! 1.30, functions are saved instead (see `saved_funcs`) and emitted by
//! [`BtfBuilder::finish`] before the DATASEC.

use gimli::constants as dw;

use super::cu::{CuModel, DeclTag, Name, Param, SmallId, TypeData, TypeEntry};
use super::elf_functions::optimized_fn_suffix;
use super::funcs::FunctionFilter;
use super::kfuncs::{KF_ARENA_ARG1, KF_ARENA_ARG2, KF_ARENA_RET, KF_FASTCALL};
use super::percpu;
use super::saved_funcs::{self, SavedFunc};
use super::strmemo::StrMemo;
use super::symbols::{SymbolIndex, PERCPU_SECTION};
use super::{EncodeOptions, PaholeVersion};
use crate::view::{int_encoding, linkage};
use crate::{Btf, Error, Info, Kind, StrOff};

/// libbpf's `BTF_FUNC_STATIC`: pahole 1.24 gives every FUNC this linkage.
const FUNC_STATIC: u32 = 0;

/// Appends CUs to a BTF in CU order.
pub struct BtfBuilder<'s, 'a> {
    btf: Btf,
    opts: &'s EncodeOptions,
    symbols: &'s SymbolIndex<'a>,
    functions: FunctionFilter<'s, 'a>,
    /// The array index type: found ("int") or to be added after a CU's types.
    has_index_type: bool,
    need_index_type: bool,
    array_index_id: u32,
    /// DATASEC entries: (VAR id, offset, size).
    percpu_vars: Vec<(u32, u32, u32)>,
    names: StrMemo<'s>,
    /// pahole 1.30: the functions saved so far, and the DWARF names of ELF
    /// functions found by their prefix (index -> name).
    saved: Vec<SavedFunc>,
    aliases: rustc_hash::FxHashMap<usize, Vec<u8>>,
}

/// A builder error: what, and the DIE it came from.
pub struct EmitError {
    pub die: u64,
    pub what: String,
}

type EResult<T> = Result<T, EmitError>;

fn err(die: u64, what: impl Into<String>) -> EmitError {
    EmitError {
        die,
        what: what.into(),
    }
}

fn tag_name(tag: u16) -> String {
    gimli::DwTag(tag)
        .static_string()
        .map_or_else(|| format!("DW_TAG_{tag:#x}"), str::to_string)
}

impl<'s, 'a> BtfBuilder<'s, 'a> {
    /// `debug_str` is the string section most names are slices of.
    pub fn new(
        btf: Btf,
        opts: &'s EncodeOptions,
        symbols: &'s SymbolIndex<'a>,
        debug_str: &'s [u8],
    ) -> Self {
        BtfBuilder {
            btf,
            opts,
            symbols,
            functions: FunctionFilter::new(symbols),
            has_index_type: false,
            need_index_type: false,
            array_index_id: 0,
            percpu_vars: Vec::new(),
            names: StrMemo::new(debug_str),
            saved: Vec::new(),
            aliases: rustc_hash::FxHashMap::default(),
        }
    }

    fn str(&mut self, s: Name<'_>) -> EResult<StrOff> {
        match s {
            None | Some(b"") => Ok(StrOff(0)),
            Some(s) => {
                if let Some(off) = self.names.get(s) {
                    return Ok(StrOff(off));
                }
                let off = self
                    .btf
                    .add_str(s)
                    .map_err(|e| err(0, format!("string {:?}: {e}", String::from_utf8_lossy(s))))?;
                self.names.set(s, off.0);
                Ok(off)
            }
        }
    }

    /// A name libbpf insists on (`btf__add_int`, `btf__add_typedef`, ...).
    fn required_name(&mut self, s: Name<'_>, die: u64, what: &str) -> EResult<StrOff> {
        match s {
            Some(n) if !n.is_empty() => self.str(s),
            _ => Err(err(die, format!("{what} without a name"))),
        }
    }

    fn add(&mut self, die: u64, words: &[u32]) -> EResult<u32> {
        self.btf
            .add_record(words)
            .map(|id| id.0)
            .map_err(|e| err(die, e.to_string()))
    }

    /// The id of a type reference: void stays 0.
    fn ref_id(off: u32, id: SmallId) -> u32 {
        if id == 0 {
            0
        } else {
            off + id
        }
    }

    /// Encodes one CU (pahole's `btf_encoder__encode_cu`).
    pub fn add_cu(&mut self, cu: &CuModel<'_>) -> EResult<()> {
        let off = self.btf.type_count() - 1;
        if !self.has_index_type {
            match cu.find_base_type(b"int") {
                Some(id) => {
                    self.has_index_type = true;
                    self.array_index_id = off + id;
                }
                None => {
                    self.has_index_type = false;
                    self.array_index_id = off + cu.types.len() as u32 + 1;
                }
            }
        }
        let mut skipped = 0;
        for (i, t) in cu.types.iter().enumerate() {
            if let TypeData::Unspecified = t.data {
                skipped += 1;
                continue;
            }
            let id = self.add_type(t, off, cu.unspecified_type)? + skipped;
            if id != off + i as u32 + 1 {
                return Err(err(
                    t.die_offset,
                    format!(
                        "{} id drift: BTF id {id}, expected {}",
                        tag_name(t.tag),
                        off + i as u32 + 1
                    ),
                ));
            }
        }
        if self.need_index_type && !self.has_index_type {
            self.add_int(Some(b"int"), 32, dw::DW_ATE_signed.0 as u64, 0)?;
            self.has_index_type = true;
        }
        for (i, t) in cu.types.iter().enumerate() {
            let annots = match &t.data {
                TypeData::Composite { annots, .. }
                    if t.tag == dw::DW_TAG_structure_type.0 || t.tag == dw::DW_TAG_union_type.0 =>
                {
                    annots
                }
                TypeData::Typedef { annots, .. } => annots,
                _ => continue,
            };
            self.add_decl_tags(annots, off + i as u32 + 1, t.die_offset)?;
        }
        if self.opts.version >= PaholeVersion::V1_30 {
            self.save_functions(cu, off)?;
            if !self.opts.skip_vars {
                self.add_variables_130(cu, off)?;
            }
            return Ok(());
        }
        for f in &cu.functions {
            if !self.functions.select(f) {
                continue;
            }
            let ret = if f.ret == cu.unspecified_type {
                0
            } else {
                f.ret
            };
            let proto = self.add_func_proto(off, ret, &f.params, f.varargs, f.die_offset)?;
            let name = self.required_name(f.name, f.die_offset, "FUNC")?;
            let func = self.add(
                f.die_offset,
                &[name.0, Info::new(Kind::Func, false, FUNC_STATIC).0, proto],
            )?;
            self.add_decl_tags(&f.annots, func, f.die_offset)?;
        }
        if !self.opts.skip_vars {
            self.add_percpu_vars(cu, off)?;
        }
        Ok(())
    }

    /// pahole 1.30's `btf_encoder__save_func` for each function of a CU
    /// that has an ELF function: its strings are interned now, its types
    /// added later.
    fn save_functions(&mut self, cu: &CuModel<'_>, off: u32) -> EResult<()> {
        let Some(table) = self.symbols.v130.as_ref().map(|s| &s.functions) else {
            return Ok(());
        };
        for f in &cu.functions {
            let Some((elf, by_prefix)) = saved_funcs::lookup(table, f, self.opts.optimized_func)
            else {
                continue;
            };
            if by_prefix {
                if let Some(name) = f.name {
                    self.aliases.entry(elf).or_insert_with(|| name.to_vec());
                }
            }
            let mut params = Vec::with_capacity(f.params.len() + f.varargs as usize);
            for p in &f.params {
                let name = self.str(p.name)?;
                params.push((name, Self::ref_id(off, p.ty)));
            }
            if f.varargs {
                params.push((StrOff(0), 0));
            }
            let mut annots = Vec::with_capacity(f.annots.len());
            for a in &f.annots {
                annots.push((self.str(a.value)?, a.component_idx));
            }
            self.saved.push(SavedFunc {
                elf,
                ret: Self::ref_id(off, f.ret),
                params,
                annots,
                unexpected_reg: f.unexpected_reg,
                inconsistent_proto: false,
                die: f.die_offset,
                addr: f.addr,
                optimized_parms: f.optimized_parms,
                reordered_parm: f.reordered_parm,
                optimized_symbol: f.addr != 0
                    && table.entries[elf]
                        .syms
                        .iter()
                        .any(|&(name, a)| a == f.addr && optimized_fn_suffix(name)),
            });
        }
        Ok(())
    }

    /// pahole 1.30's `btf_encoder__add_saved_funcs`.
    fn add_saved_functions(&mut self) -> EResult<()> {
        let Some(v130) = self.symbols.v130.as_ref() else {
            return Ok(());
        };
        let table = &v130.functions;
        let saved = std::mem::take(&mut self.saved);
        for mut f in saved_funcs::select(saved, table, &self.btf, self.opts.consistent_func) {
            let kfunc_flags = table.entries[f.elf].kfunc_flags;
            if let (Some(flags), true) = (kfunc_flags, self.opts.attributes) {
                self.add_arena_tags(&mut f, flags)?;
            }
            let mut words = vec![
                0,
                Info::new(Kind::FuncProto, false, f.params.len() as u32).0,
                f.ret,
            ];
            for &(name, ty) in &f.params {
                words.extend_from_slice(&[name.0, ty]);
            }
            let proto = self.add(f.die, &words)?;
            let entry = &table.entries[f.elf];
            let name = match self.aliases.get(&f.elf) {
                Some(alias) => self.btf.add_str(alias),
                None => self.btf.add_str(entry.name),
            }
            .map_err(|e| err(f.die, e.to_string()))?;
            let func = self.add(
                f.die,
                &[name.0, Info::new(Kind::Func, false, FUNC_STATIC).0, proto],
            )?;
            // pahole 1.32 tags a kfunc after its own decl tags, 1.30 before.
            let v132 = self.opts.version >= PaholeVersion::V1_32;
            if !v132 {
                self.add_kfunc_tags(entry.kfunc_flags, func, f.die)?;
            }
            for &(value, component) in &f.annots {
                self.add(
                    f.die,
                    &[
                        value.0,
                        Info::new(Kind::DeclTag, false, 0).0,
                        func,
                        component as u32,
                    ],
                )?;
            }
            if v132 {
                self.add_kfunc_tags(entry.kfunc_flags, func, f.die)?;
            }
        }
        Ok(())
    }

    /// decl_tag_kfuncs: `bpf_kfunc` on a kfunc, and `bpf_fastcall` when its
    /// `.BTF_ids` flags have KF_FASTCALL.
    fn add_kfunc_tags(&mut self, flags: Option<u32>, func: u32, die: u64) -> EResult<()> {
        if let (Some(flags), true) = (flags, !self.opts.skip_decl_tags) {
            self.add_decl_tag_str(b"bpf_kfunc", func, -1, die)?;
            if flags & KF_FASTCALL != 0 {
                self.add_decl_tag_str(b"bpf_fastcall", func, -1, die)?;
            }
        }
        Ok(())
    }

    /// pahole 1.32's `attributes` (`btf__add_bpf_arena_type_tags`): the
    /// return value (KF_ARENA_RET) and the first two parameters
    /// (KF_ARENA_ARG1, KF_ARENA_ARG2) of a kfunc, pointers, point through
    /// a new `TYPE_TAG "address_space(1)"` with kind_flag 1 (libbpf's
    /// `btf__add_type_attr`) to what they pointed at; a new PTR each.
    fn add_arena_tags(&mut self, f: &mut SavedFunc, flags: u32) -> EResult<()> {
        if flags & KF_ARENA_RET != 0 {
            f.ret = self.arena_ptr(f.ret, f.die)?;
        }
        for (bit, idx) in [(KF_ARENA_ARG1, 0), (KF_ARENA_ARG2, 1)] {
            if flags & bit != 0 {
                let Some(p) = f.params.get(idx).copied() else {
                    return Err(err(
                        f.die,
                        format!(
                            "kfunc with KF_ARENA flags {flags:#x} has no parameter {}",
                            idx + 1
                        ),
                    ));
                };
                f.params[idx].1 = self.arena_ptr(p.1, f.die)?;
            }
        }
        Ok(())
    }

    fn arena_ptr(&mut self, ptr: u32, die: u64) -> EResult<u32> {
        let pointee = match self.btf.get(crate::TypeId(ptr)) {
            Ok(t) if Info(t.words()[1]).kind() == Kind::Ptr => t.words()[2],
            _ => {
                return Err(err(
                    die,
                    format!("arena kfunc: type {ptr} is not a pointer (pahole fails the same way)"),
                ))
            }
        };
        let value = self
            .btf
            .add_str(b"address_space(1)")
            .map_err(|e| err(die, e.to_string()))?;
        let tag = self.add(
            die,
            &[value.0, Info::new(Kind::TypeTag, true, 0).0, pointee],
        )?;
        self.add(die, &[0, Info::new(Kind::Ptr, false, 0).0, tag])
    }

    fn add_decl_tag_str(
        &mut self,
        value: &[u8],
        target: u32,
        component: i32,
        die: u64,
    ) -> EResult<u32> {
        let value = self
            .btf
            .add_str(value)
            .map_err(|e| err(die, e.to_string()))?;
        self.add(
            die,
            &[
                value.0,
                Info::new(Kind::DeclTag, false, 0).0,
                target,
                component as u32,
            ],
        )
    }

    /// pahole 1.30's `btf_encoder__encode_cu_variables`: VARs named after
    /// DWARF (through DW_AT_specification), sized by their type, in the
    /// data section their address falls in, if that one is encoded.
    fn add_variables_130(&mut self, cu: &CuModel<'_>, off: u32) -> EResult<()> {
        let Some(v130) = self.symbols.v130.as_ref() else {
            return Ok(());
        };
        for v in &cu.variables {
            if v.declaration && !v.has_spec {
                continue;
            }
            if !v.top_level || v.artificial || !v.global {
                continue;
            }
            let Some(shndx) = v130.section_of(v.addr) else {
                continue;
            };
            if !v130.sections[shndx].include {
                continue;
            }
            let addr = v.addr - v130.sections[shndx].addr;
            let Some(name) = v.decl_name else { continue };
            if percpu::filtered_name(name) {
                continue;
            }
            if addr == 0 && !v130.objects.contains(&(shndx, name)) {
                continue;
            }
            if !super::symbols::btf_name_valid(name) {
                if self.opts.force {
                    continue;
                }
                return Err(err(
                    v.die_offset,
                    format!(
                        "variable {:?} is not a valid BTF name",
                        String::from_utf8_lossy(name)
                    ),
                ));
            }
            if v.ty == 0 {
                if self.opts.force {
                    continue;
                }
                return Err(err(
                    v.die_offset,
                    format!("variable {:?} has void type", String::from_utf8_lossy(name)),
                ));
            }
            let size = cu.type_size(v.ty);
            if size == 0 || size > u32::MAX as u64 || addr > u32::MAX as u64 {
                continue;
            }
            let linkage = if v.external {
                linkage::GLOBAL
            } else {
                linkage::STATIC
            };
            let name = self.required_name(Some(name), v.die_offset, "VAR")?;
            let id = self.add(
                v.die_offset,
                &[
                    name.0,
                    Info::new(Kind::Var, false, 0).0,
                    off + v.ty,
                    linkage,
                ],
            )?;
            self.add_decl_tags(&v.annots, id, v.die_offset)?;
            self.percpu_vars.push((id, addr as u32, size as u32));
        }
        Ok(())
    }

    fn add_percpu_vars(&mut self, cu: &CuModel<'_>, off: u32) -> EResult<()> {
        let Some(percpu) = self.symbols.percpu.as_ref() else {
            return Ok(());
        };
        for v in &cu.variables {
            let info = match percpu::select(v, cu, percpu) {
                Ok(Some(info)) => info,
                Ok(None) => continue,
                Err(percpu::VoidVariable) if self.opts.force => continue,
                Err(percpu::VoidVariable) => {
                    return Err(err(
                        v.die_offset,
                        format!(
                            "per-CPU variable {:?} has void type",
                            v.name.map(String::from_utf8_lossy)
                        ),
                    ))
                }
            };
            let linkage = if v.external {
                linkage::GLOBAL
            } else {
                linkage::STATIC
            };
            let name = self.required_name(Some(info.name), v.die_offset, "VAR")?;
            let id = self.add(
                v.die_offset,
                &[
                    name.0,
                    Info::new(Kind::Var, false, 0).0,
                    off + v.ty,
                    linkage,
                ],
            )?;
            self.add_decl_tags(&v.annots, id, v.die_offset)?;
            self.percpu_vars.push((id, info.offset, info.size));
        }
        Ok(())
    }

    fn add_decl_tags(&mut self, annots: &[DeclTag<'_>], target: u32, die: u64) -> EResult<()> {
        for a in annots {
            let value = self.required_name(a.value, die, "DECL_TAG")?;
            self.add(
                die,
                &[
                    value.0,
                    Info::new(Kind::DeclTag, false, 0).0,
                    target,
                    a.component_idx as u32,
                ],
            )?;
        }
        Ok(())
    }

    fn add_int(&mut self, name: Name<'_>, bit_size: u64, encoding: u64, die: u64) -> EResult<u32> {
        let mut name = name;
        let btf_encoding = if encoding == dw::DW_ATE_signed.0 as u64
            || encoding == dw::DW_ATE_signed_char.0 as u64
        {
            int_encoding::SIGNED
        } else if encoding == dw::DW_ATE_boolean.0 as u64 {
            int_encoding::BOOL
        } else {
            0
        };
        // DWARF 5 has DW_ATE_unsigned_24 and the like for DW_OP_convert: pahole
        // replaces sizes that are no power of two by a fake 4-byte int.
        let mut byte_sz = (bit_size.div_ceil(8)) as u16;
        if byte_sz == 0 || !byte_sz.is_power_of_two() {
            name = Some(b"__SANITIZED_FAKE_INT__");
            byte_sz = 4;
        }
        if ![1, 2, 4, 8, 16].contains(&byte_sz) {
            return Err(err(die, format!("INT of {byte_sz} bytes")));
        }
        let name = self.required_name(name, die, "INT")?;
        let word = ((btf_encoding as u32) << 24) | (byte_sz as u32 * 8);
        self.add(
            die,
            &[
                name.0,
                Info::new(Kind::Int, false, 0).0,
                byte_sz as u32,
                word,
            ],
        )
    }

    fn add_func_proto(
        &mut self,
        off: u32,
        ret: SmallId,
        params: &[Param<'_>],
        varargs: bool,
        die: u64,
    ) -> EResult<u32> {
        let vlen = params.len() as u32 + varargs as u32;
        if vlen > Info::MAX_KERNEL_VLEN {
            return Err(err(die, format!("too many parameters ({vlen})")));
        }
        let mut words = vec![
            0,
            Info::new(Kind::FuncProto, false, vlen).0,
            Self::ref_id(off, ret),
        ];
        for p in params {
            let name = self.str(p.name)?;
            words.extend_from_slice(&[name.0, Self::ref_id(off, p.ty)]);
        }
        if varargs {
            words.extend_from_slice(&[0, 0]);
        }
        self.add(die, &words)
    }

    /// Encodes one type table entry (pahole's `btf_encoder__encode_tag`).
    fn add_type(&mut self, t: &TypeEntry<'_>, off: u32, unspecified: SmallId) -> EResult<u32> {
        let die = t.die_offset;
        let target = Self::ref_id(off, t.target);
        let simple = |kind: Kind| [0, Info::new(kind, false, 0).0, target];
        match &t.data {
            TypeData::Base {
                name,
                bit_size,
                encoding,
            } => {
                let e = *encoding;
                let float = e == dw::DW_ATE_float.0 as u64
                    || e == dw::DW_ATE_complex_float.0 as u64
                    || e == dw::DW_ATE_imaginary_float.0 as u64;
                let signed =
                    e == dw::DW_ATE_signed.0 as u64 || e == dw::DW_ATE_signed_char.0 as u64;
                let boolean = e == dw::DW_ATE_boolean.0 as u64;
                if float && !signed && !boolean && self.opts.gen_floats {
                    if e != dw::DW_ATE_float.0 as u64 {
                        return Err(err(
                            die,
                            "complex, interval and imaginary float types are not supported",
                        ));
                    }
                    let byte_sz = bit_size.div_ceil(8) as u32;
                    if ![2, 4, 8, 12, 16].contains(&byte_sz) {
                        return Err(err(die, format!("FLOAT of {byte_sz} bytes")));
                    }
                    let name = self.required_name(*name, die, "FLOAT")?;
                    return self.add(die, &[name.0, Info::new(Kind::Float, false, 0).0, byte_sz]);
                }
                self.add_int(*name, *bit_size, e, die)
            }
            TypeData::Pointer => self.add(die, &simple(Kind::Ptr)),
            TypeData::Const => self.add(die, &simple(Kind::Const)),
            TypeData::Volatile => self.add(die, &simple(Kind::Volatile)),
            TypeData::Restrict => self.add(die, &simple(Kind::Restrict)),
            TypeData::Typedef { name, .. } => {
                let name = self.required_name(*name, die, "TYPEDEF")?;
                self.add(die, &[name.0, Info::new(Kind::Typedef, false, 0).0, target])
            }
            TypeData::TypeTag { value } => {
                let name = self.required_name(*value, die, "TYPE_TAG")?;
                self.add(die, &[name.0, Info::new(Kind::TypeTag, false, 0).0, target])
            }
            TypeData::Composite { .. } if t.tag == dw::DW_TAG_interface_type.0 => {
                Err(err(die, format!("unsupported {}", tag_name(t.tag))))
            }
            TypeData::Composite {
                union,
                name,
                size,
                declaration,
                members,
                ..
            } => {
                if *declaration {
                    let name = self.required_name(*name, die, "FWD")?;
                    return self.add(die, &[name.0, Info::new(Kind::Fwd, *union, 0).0, 0]);
                }
                let name = self.str(*name)?;
                let kind = if *union { Kind::Union } else { Kind::Struct };
                let mut kflag = false;
                let mut words = vec![name.0, 0, *size];
                for m in members {
                    let bits = m.bitfield_size as u32;
                    let is_bitfield = bits != 0 || m.bit_offset % 8 != 0;
                    if is_bitfield && m.bit_offset > 0xff_ffff {
                        return Err(err(
                            die,
                            format!("member bit offset {} too large", m.bit_offset),
                        ));
                    }
                    if *union && m.bit_offset != 0 {
                        return Err(err(die, "union member at a non-zero offset"));
                    }
                    kflag |= is_bitfield;
                    let mname = self.str(m.name)?;
                    // pahole adds the CU offset to member types unconditionally.
                    words.extend_from_slice(&[mname.0, off + m.ty, m.bit_offset | (bits << 24)]);
                }
                if members.len() as u32 > Info::MAX_KERNEL_VLEN {
                    return Err(err(die, format!("too many members ({})", members.len())));
                }
                words[1] = Info::new(kind, kflag, members.len() as u32).0;
                self.add(die, &words)
            }
            TypeData::Array { dims } => {
                self.need_index_type = true;
                let nelems = dims.iter().rev().fold(1u32, |a, &d| a.wrapping_mul(d));
                let index = self.array_index_id;
                self.add(
                    die,
                    &[
                        0,
                        Info::new(Kind::Array, false, 0).0,
                        0,
                        target,
                        index,
                        nelems,
                    ],
                )
            }
            TypeData::Enum {
                name,
                bits,
                signed,
                values,
            } => self.add_enum(*name, *bits, *signed, values, die),
            TypeData::FuncProto { params, varargs } => {
                let ret = if t.target == unspecified { 0 } else { t.target };
                self.add_func_proto(off, ret, params, *varargs, die)
            }
            TypeData::Unspecified | TypeData::Unsupported => {
                Err(err(die, format!("unsupported {}", tag_name(t.tag))))
            }
        }
    }

    fn add_enum(
        &mut self,
        name: Name<'_>,
        bits: u32,
        signed: bool,
        values: &[super::cu::Enumerator<'_>],
        die: u64,
    ) -> EResult<u32> {
        let size = bits.div_ceil(8);
        let enum32 = size <= 4 || self.opts.skip_enum64;
        if size == 0 || !size.is_power_of_two() || size > 8 {
            return Err(err(die, format!("enum of {size} bytes")));
        }
        if values.len() as u32 > Info::MAX_KERNEL_VLEN {
            return Err(err(die, format!("too many enumerators ({})", values.len())));
        }
        let name = self.str(name)?;
        let mut words = vec![name.0, 0, size];
        let mut kflag = if enum32 { false } else { signed };
        for v in values {
            let vname = self.required_name(v.name, die, "enumerator")?;
            if self.opts.skip_enum64 {
                words.extend_from_slice(&[vname.0, v.value as u32]);
            } else if bits > 32 {
                words.extend_from_slice(&[vname.0, v.value as u32, (v.value >> 32) as u32]);
            } else {
                let value = v.value as i64;
                if value < i32::MIN as i64 || value > u32::MAX as i64 {
                    return Err(err(
                        die,
                        format!("enumerator value {value} does not fit 32 bits"),
                    ));
                }
                kflag |= value < 0;
                words.extend_from_slice(&[vname.0, value as u32]);
            }
        }
        let kind = if enum32 { Kind::Enum } else { Kind::Enum64 };
        words[1] = Info::new(kind, kflag, values.len() as u32).0;
        self.add(die, &words)
    }

    /// Adds the DATASEC and returns the BTF (pahole's `btf_encoder__encode`, before dedup).
    pub fn finish(mut self) -> Result<Btf, Error> {
        self.add_saved_functions()
            .map_err(|e| super::dwarf_error(e.die, e.what))?;
        if !self.percpu_vars.is_empty() {
            // glibc's qsort here is a merge sort: stable. (1.30 compares
            // `a - b` as an int: the same for offsets below 2 GiB.)
            self.percpu_vars.sort_by_key(|&(_, offset, _)| offset);
            if self.percpu_vars.len() as u32 > Info::MAX_KERNEL_VLEN {
                return Err(Error::Limit(format!(
                    "{} per-CPU variables: a DATASEC holds at most {}",
                    self.percpu_vars.len(),
                    Info::MAX_KERNEL_VLEN
                )));
            }
            let &(_, last_off, last_size) = self.percpu_vars.last().expect("not empty");
            let name = self.btf.add_str(PERCPU_SECTION.as_bytes())?;
            let mut words = vec![
                name.0,
                Info::new(Kind::Datasec, false, self.percpu_vars.len() as u32).0,
                last_off.wrapping_add(last_size),
            ];
            for &(id, offset, size) in &self.percpu_vars {
                words.extend_from_slice(&[id, offset, size]);
            }
            self.btf.add_record(&words)?;
        }
        Ok(self.btf)
    }
}
