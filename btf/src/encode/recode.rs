//! Recoding: after the walk, every DWARF reference becomes a small id
//! (pahole's `cu__recode_dwarf_types` and `cu__resolve_func_ret_types`),
//! and DWARF 4 bitfields get their bit offsets, which depend on the size of
//! their type (pahole's `class_member__cache_byte_size`).
//!
//! A reference to a DIE that is not in the types table becomes `void`.
//! Parameters without a type take name and type from their abstract
//! origin; functions without a name or return type from theirs.

use gimli::constants as dw;

use super::cu::{CuModel, Function, Param, SmallId, TypeData};
use super::walk::{PendingBitfield, RawParam, Ref, Tag, Walker};

impl<'a> Walker<'a, '_> {
    fn resolve(&self, r: Ref) -> SmallId {
        r.and_then(|off| self.type_ids.get(&off).copied())
            .unwrap_or(0)
    }

    /// Recodes references to small ids and computes bitfield offsets
    /// (pahole's `cu__recode_dwarf_types`, `cu__resolve_func_ret_types`
    /// and `class_member__cache_byte_size`).
    pub fn finish(mut self) -> Result<CuModel<'a>, String> {
        // The types table.
        for i in 0..self.model.types.len() {
            let target = self.resolve(self.type_refs[i]);
            let member_refs = std::mem::take(&mut self.member_refs[i]);
            let member_ids: Vec<SmallId> = member_refs.iter().map(|&r| self.resolve(r)).collect();
            let proto = self.proto_params.remove(&i);
            let proto = proto.map(|ps| {
                ps.iter()
                    .map(|p| self.recode_param(p, |_, ty| ty))
                    .collect::<Vec<_>>()
            });
            let t = &mut self.model.types[i];
            t.target = target;
            match &mut t.data {
                TypeData::Composite { members, .. } => {
                    for (m, id) in members.iter_mut().zip(member_ids) {
                        m.ty = id;
                    }
                }
                TypeData::FuncProto { params, .. } => *params = proto.unwrap_or_default(),
                _ => {}
            }
        }
        for (outer, inner) in std::mem::take(&mut self.array_chains) {
            let mut elem = self.model.types[outer].target;
            for &i in &inner {
                self.model.types[i].target = elem;
                elem = i as SmallId + 1;
            }
            self.model.types[outer].target = elem;
        }
        for (ptr, tags) in std::mem::take(&mut self.ptr_tags) {
            let pointee = self.model.types[ptr].target;
            let mut prev = ptr;
            for &t in &tags {
                self.model.types[prev].target = t as SmallId + 1;
                prev = t;
            }
            self.model.types[prev].target = pointee;
        }
        // The tags table: parameters and variables get their own types.
        let param_types: Vec<SmallId> = self.params.iter().map(|&(_, r)| self.resolve(r)).collect();
        let var_types: Vec<SmallId> = self
            .variables
            .iter()
            .map(|v| self.resolve(v.type_ref))
            .collect();
        // The functions table.
        let mut functions: Vec<Function<'a>> = Vec::with_capacity(self.functions.len());
        for f in &self.functions {
            let mut func = f.func.clone();
            if func.name.is_none() {
                let from = [f.origin, f.spec].into_iter().flatten().find_map(|o| {
                    match self.tags.get(&o) {
                        Some(Tag::Function(j)) => Some(*j),
                        _ => None,
                    }
                });
                if let Some(j) = from {
                    func.name = self.functions[j].func.name;
                }
            }
            func.ret = self.resolve(f.type_ref);
            func.params = f
                .params
                .iter()
                .map(|p| {
                    self.recode_param(p, |pi, ty| match pi {
                        Some(pi) => param_types[pi],
                        None => ty,
                    })
                })
                .collect();
            functions.push(func);
        }
        if self.opts.params_132 {
            self.analyze_params_132(&mut functions);
        } else {
            // pahole 1.30: a parameter taking its type from an abstract origin
            // passes its unexpected register on to it; then a function with such
            // a parameter, and none that is a struct, is marked.
            let mut unexpected = std::mem::take(&mut self.param_unexpected);
            for f in &self.functions {
                for p in f.params.iter().filter(|p| p.type_ref.is_none()) {
                    if let Some(Tag::Param(j)) = p.origin.and_then(|o| self.tags.get(&o)) {
                        if unexpected[p.index] {
                            unexpected[*j] = true;
                        }
                    }
                }
            }
            for (i, f) in self.functions.iter().enumerate() {
                if f.params.iter().any(|p| unexpected[p.index])
                    && !functions[i].params.iter().any(|p| self.is_struct(p.ty))
                {
                    functions[i].unexpected_reg = true;
                }
            }
        }
        for (i, f) in self.functions.iter().enumerate() {
            if functions[i].ret != 0 || f.origin.is_none() {
                continue;
            }
            let origin = f.origin.and_then(|o| match self.tags.get(&o) {
                Some(Tag::Function(j)) => Some(*j),
                _ => None,
            });
            match origin {
                Some(j) => functions[i].ret = functions[j].ret,
                None => {
                    return Err(format!(
                        "DIE {:#x}: abstract origin {:#x} of a subprogram not found",
                        f.func.die_offset,
                        f.origin.unwrap_or(0)
                    ))
                }
            }
        }
        let mut variables = Vec::with_capacity(self.variables.len());
        for (i, v) in self.variables.iter().enumerate() {
            let mut var = v.var.clone();
            var.ty = var_types[i];
            // pahole encodes a definition through its declaration: type,
            // linkage and decl tags come from there.
            if let Some(Tag::Variable(j)) = v.spec.and_then(|s| self.tags.get(&s)) {
                let decl = &self.variables[*j].var;
                var.has_spec = true;
                var.ty = var_types[*j];
                var.external = decl.external;
                var.annots = decl.annots.clone();
                var.decl_name = decl.name;
            }
            variables.push(var);
        }
        self.model.functions = functions;
        self.model.variables = variables;
        for b in std::mem::take(&mut self.bitfields) {
            self.place_bitfield(&b);
        }
        Ok(self.model)
    }

    /// pahole's `param__is_struct`: a struct, through typedefs and const.
    /// pahole 1.32: parameters without a type of their own share their
    /// location facts with their abstract origin (and a position that
    /// differs marks the function reordered), then every function's
    /// parameters are checked against the ABI's registers, aggregates
    /// wider than a register taking one register per 8 bytes (one when
    /// passed in memory): a location in no known register, or a constant
    /// without a location, is an optimized-out parameter; another register
    /// than expected is unexpected (ignored when a parameter is a struct).
    fn analyze_params_132(&mut self, functions: &mut [Function<'a>]) {
        let mut facts = std::mem::take(&mut self.param_facts);
        for (i, f) in self.functions.iter().enumerate() {
            for p in f.params.iter().filter(|p| p.type_ref.is_none()) {
                let Some(Tag::Param(j)) = p.origin.and_then(|o| self.tags.get(&o)) else {
                    continue;
                };
                let (pos, j) = (facts[p.index], *j);
                if pos.idx != facts[j].idx {
                    functions[i].reordered_parm = true;
                }
                let o = &mut facts[j];
                o.has_loc |= pos.has_loc;
                o.has_const_value |= pos.has_const_value;
                if pos.loc_reg >= 0 {
                    o.loc_reg = pos.loc_reg;
                }
                if pos.byte_size != 0 {
                    o.byte_size = pos.byte_size;
                }
            }
        }
        let regs = self.opts.register_params;
        let addr = self.unit.header.address_size() as u64;
        for (i, f) in self.functions.iter().enumerate() {
            let mut reg_idx = 0usize;
            let mut unexpected = false;
            let mut optimized = false;
            for p in &f.params {
                let pf = facts[p.index];
                let slots = if pf.byte_size <= addr {
                    1
                } else {
                    pf.byte_size.div_ceil(addr).max(1) as usize
                };
                let reg_slots = if pf.byte_size > 2 * addr { 1 } else { slots };
                if pf.has_loc {
                    if reg_idx < regs.len() {
                        let expected = (dw::DW_OP_reg0.0 + regs[reg_idx]) as i32;
                        if pf.loc_reg < 0 {
                            optimized = true;
                        } else if pf.loc_reg != expected {
                            unexpected = true;
                        }
                    }
                } else {
                    // No location: optimized out, constant value or not.
                    optimized = true;
                }
                reg_idx += reg_slots;
            }
            functions[i].optimized_parms = optimized;
            if unexpected && !functions[i].params.iter().any(|p| self.is_struct(p.ty)) {
                functions[i].unexpected_reg = true;
            }
        }
        self.param_facts = facts;
    }

    fn is_struct(&self, id: SmallId) -> bool {
        let mut id = id;
        for _ in 0..=self.model.types.len() {
            let Some(t) = self.model.get(id) else {
                return false;
            };
            match t.data {
                _ if t.tag == dw::DW_TAG_structure_type.0 => return true,
                TypeData::Typedef { .. } | TypeData::Const => id = t.target,
                _ => return false,
            }
        }
        false
    }

    /// A parameter's name and type; one without `DW_AT_type` takes both
    /// from its abstract origin. `origin_type` picks the origin's type
    /// (given its index in `params`) as the current recoding stage knows it.
    fn recode_param(
        &self,
        p: &RawParam<'a>,
        origin_type: impl Fn(Option<usize>, SmallId) -> SmallId,
    ) -> Param<'a> {
        if p.type_ref.is_some() {
            return Param {
                name: p.name,
                ty: self.resolve(p.type_ref),
            };
        }
        let Some(origin) = p.origin else {
            return Param {
                name: p.name,
                ty: 0,
            };
        };
        match self.tags.get(&origin) {
            Some(Tag::Param(j)) => Param {
                name: self.params[*j].0,
                ty: origin_type(Some(*j), 0),
            },
            _ => Param {
                name: p.name,
                ty: 0,
            },
        }
    }

    /// pahole's `class_member__cache_byte_size` for a DWARF 4 bitfield
    /// (`DW_AT_bit_offset`, counted from the storage unit's most significant bit).
    fn place_bitfield(&mut self, b: &PendingBitfield) {
        let TypeData::Composite { members, .. } = &self.model.types[b.type_index].data else {
            return;
        };
        let member = &members[b.member_index];
        let mut byte_size = b.byte_size;
        if byte_size == 0 {
            let ty = self.model.strip_typedefs_and_modifiers(member.ty);
            byte_size = self.model.type_size(ty);
        }
        if byte_size == 0 {
            return;
        }
        let bit_size = (byte_size as u32).wrapping_mul(8);
        // pahole keeps this in an int8_t.
        let mut bitfield_offset = b.dw_bit_offset as i8;
        if self.opts.little_endian {
            bitfield_offset =
                (bit_size as i64 - bitfield_offset as i64 - member.bitfield_size as i64) as i8;
        }
        let bit_offset = b
            .byte_offset
            .wrapping_mul(8)
            .wrapping_add(bitfield_offset as i32 as u32);
        if let TypeData::Composite { members, .. } = &mut self.model.types[b.type_index].data {
            members[b.member_index].bit_offset = bit_offset;
        }
    }
}
