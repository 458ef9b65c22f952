//! Phases 3 and 4: the references between records.
//!
//! Phase 3 follows the kernel's `btf_check_all_types`: a depth-first walk
//! from each own type that refers to others, in id order, which finds loops
//! and over-deep chains, and checks each type once what it refers to is
//! known: members fit their struct, array elements have a size, variables
//! and parameters are sized, tags point at something taggable.
//!
//! The walk has the kernel's notion of where a chain may stop (a "sink"): a
//! pointer stops a walk that started at a struct or array (so a struct may
//! point to itself), and a struct stops a walk that started at a pointer. A
//! walk that meets a type it is still inside of has found a loop.
//!
//! Phase 4 is `btf_check_type_tags`: in a chain of modifiers, the type tags
//! come first.

use super::{is_identifier, Finding};
use crate::{Btf, Kind, Member, TypeId, TypeRef};

/// The deepest chain the kernel follows (`MAX_RESOLVE_DEPTH`).
const MAX_DEPTH: usize = 32;
/// The size of a pointer on the 64-bit kernels this checks for.
const PTR_SIZE: u32 = 8;
/// `BTF_MAX_TYPE`: the kernel's table of types ends below this id. Records
/// past it pass the per-record rules (the kernel logs "Exceeded max num of
/// types" and goes on) but are never resolved, and ids from there on are
/// no types for the reference rules.
const TABLE_END: u32 = crate::MAX_TYPE_ID;

/// The own types the kernel keeps in its table, in id order.
fn table_types(btf: &Btf) -> impl Iterator<Item = TypeRef<'_>> {
    btf.own_types().take_while(|t| t.id().0 < TABLE_END)
}

pub(super) fn check_references(btf: &Btf) -> Vec<Finding> {
    let mut r = Resolver {
        btf,
        start: btf.start_id().0,
        state: vec![Visit::New; btf.own_ids().len()],
        ends: vec![None; btf.own_ids().len()],
        sizes: vec![None; btf.own_ids().len()],
        findings: Vec::new(),
    };
    for t in table_types(btf) {
        if needs_resolve(t.kind()) && !r.resolved(t.id()) {
            if let Err(f) = r.resolve(t.id()) {
                r.findings.push(f);
                continue;
            }
        }
        if t.kind() == Kind::FuncProto {
            if let Err(f) = r.func_proto(t) {
                r.findings.push(f);
            }
        }
    }
    r.findings
}

#[derive(Copy, Clone, PartialEq, Eq, Debug)]
enum Visit {
    New,
    OnStack,
    Done,
}

/// What a walk is resolving, which decides where it may stop.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
enum Mode {
    /// Not yet known: started at a modifier, VAR, FUNC, DECL_TAG or DATASEC.
    Any,
    /// Through a pointer: stops at anything but modifiers and pointers.
    Ptr,
    /// Through a struct, union or array: stops at anything else but modifiers.
    Aggregate,
}

/// What one step of the walk found for the type on top.
enum Step {
    /// Resolve this type first, then come back (to the given child index).
    Push(TypeId, usize),
    Done,
}

type Fail = (&'static str, String);
type Verdict = Result<(), Fail>;

struct Resolver<'a> {
    btf: &'a Btf,
    start: u32,
    state: Vec<Visit>,
    /// Where each resolved own modifier and VAR leads: the end of its chain
    /// of modifiers (the kernel's `resolved_ids`), so that a chain of any
    /// length is one step for the rules that look through it.
    ends: Vec<Option<TypeId>>,
    /// The size of each resolved own ARRAY (the kernel's `resolved_sizes`),
    /// so that nested arrays are not walked again.
    sizes: Vec<Option<u32>>,
    findings: Vec<Finding>,
}

fn needs_resolve(kind: Kind) -> bool {
    kind.is_modifier()
        || matches!(
            kind,
            Kind::Ptr
                | Kind::Struct
                | Kind::Union
                | Kind::Array
                | Kind::Var
                | Kind::Func
                | Kind::DeclTag
                | Kind::Datasec
        )
}

/// Kinds that may refer to others but never be referred to as a type.
fn source_only(t: Option<TypeRef<'_>>) -> bool {
    t.is_some_and(|t| matches!(t.kind(), Kind::Var | Kind::DeclTag | Kind::Datasec))
}

/// Types without a size of their own; `None` is void.
fn no_size(t: Option<TypeRef<'_>>) -> bool {
    t.is_none_or(|t| {
        matches!(
            t.kind(),
            Kind::Fwd | Kind::Func | Kind::FuncProto | Kind::DeclTag
        )
    })
}

fn is_aggregate(kind: Kind) -> bool {
    matches!(kind, Kind::Struct | Kind::Union | Kind::Array)
}

fn is_sink(mode: Mode, t: Option<TypeRef<'_>>) -> bool {
    let Some(t) = t else { return true };
    let k = t.kind();
    match mode {
        Mode::Any => !needs_resolve(k),
        Mode::Ptr => !k.is_modifier() && k != Kind::Ptr,
        Mode::Aggregate => !k.is_modifier() && !is_aggregate(k),
    }
}

/// An INT that is a whole number of bytes, 1, 2, 4, 8 or 16 of them, at offset 0.
fn is_regular_int(t: TypeRef<'_>) -> bool {
    t.int().is_some_and(|i| {
        i.bits % 8 == 0 && i.offset == 0 && matches!(i.bits / 8, 1 | 2 | 4 | 8 | 16)
    })
}

impl<'a> Resolver<'a> {
    /// The type of `id`, `None` for void and for ids with no type in the
    /// kernel's table.
    fn get(&self, id: TypeId) -> Option<TypeRef<'a>> {
        if id.0 >= TABLE_END {
            return None;
        }
        self.btf.type_by_id(id)
    }

    /// A nonzero id with no type (possible in a BTF parsed for checking).
    fn missing(&self, id: TypeId) -> bool {
        id.0 != 0 && self.get(id).is_none()
    }

    fn resolved(&self, id: TypeId) -> bool {
        id.0 < self.start
            || self
                .state
                .get((id.0 - self.start) as usize)
                .is_none_or(|&v| v == Visit::Done)
    }

    fn set(&mut self, id: TypeId, v: Visit) {
        self.state[(id.0 - self.start) as usize] = v;
    }

    /// The walk from `root`; a finding names the type it failed on.
    fn resolve(&mut self, root: TypeId) -> Result<(), Finding> {
        let mut mode = Mode::Any;
        let mut stack: Vec<(TypeId, usize)> = Vec::new();
        self.push(&mut stack, &mut mode, root)
            .map_err(|msg| Finding::at(root, "btf_resolve", msg))?;
        while let Some(&(id, next)) = stack.last() {
            let t = self.get(id).expect("a pushed type exists");
            if t.kind() == Kind::Datasec {
                mode = Mode::Any;
            }
            let step = self.step(t, next, mode).map_err(|(rule, msg)| {
                self.abandon(&stack);
                Finding::at(id, rule, msg)
            })?;
            match step {
                Step::Push(child, at) => {
                    stack.last_mut().expect("not empty").1 = at;
                    if let Err(msg) = self.push(&mut stack, &mut mode, child) {
                        self.abandon(&stack);
                        return Err(Finding::at(root, "btf_resolve", msg));
                    }
                }
                Step::Done => {
                    let at = (id.0 - self.start) as usize;
                    if t.kind().is_modifier() || t.kind() == Kind::Var {
                        self.ends[at] = Some(self.skip_modifiers(t.type_id()));
                    }
                    if let Some(a) = t.array() {
                        let elem = self.size_of(a.elem_type).map_or(0, |(_, s)| s);
                        self.sizes[at] = Some(elem.wrapping_mul(a.nelems));
                    }
                    self.set(id, Visit::Done);
                    stack.pop();
                }
            }
        }
        Ok(())
    }

    fn push(
        &mut self,
        stack: &mut Vec<(TypeId, usize)>,
        mode: &mut Mode,
        id: TypeId,
    ) -> Result<(), &'static str> {
        if stack.len() == MAX_DEPTH {
            return Err("Exceeded max resolving depth:32");
        }
        if self.state[(id.0 - self.start) as usize] != Visit::New {
            return Err("Loop detected");
        }
        self.set(id, Visit::OnStack);
        stack.push((id, 0));
        if *mode == Mode::Any {
            match self.get(id).map(|t| t.kind()) {
                Some(Kind::Ptr) => *mode = Mode::Ptr,
                Some(k) if is_aggregate(k) => *mode = Mode::Aggregate,
                _ => {}
            }
        }
        Ok(())
    }

    /// After a failure, the types of the interrupted walk count as done, so
    /// that one fault is reported once.
    fn abandon(&mut self, stack: &[(TypeId, usize)]) {
        for &(id, _) in stack {
            self.set(id, Visit::Done);
        }
    }

    /// Whether the walk must first resolve `id`.
    fn must_push(&self, mode: Mode, id: TypeId) -> bool {
        !is_sink(mode, self.get(id)) && !self.resolved(id)
    }

    fn step(&self, t: TypeRef<'a>, next: usize, mode: Mode) -> Result<Step, Fail> {
        match t.kind() {
            k if k.is_modifier() => self.reference(t, mode, "btf_modifier_resolve"),
            Kind::Ptr => self.reference(t, mode, "btf_ptr_resolve"),
            Kind::Var => self.reference(t, mode, "btf_var_resolve"),
            Kind::Struct | Kind::Union => self.composite(t, next, mode),
            Kind::Array => self.array(t, mode),
            Kind::Func => self.func(t).map(|()| Step::Done),
            Kind::DeclTag => self.decl_tag(t, mode),
            Kind::Datasec => self.datasec(t, next, mode),
            _ => Ok(Step::Done),
        }
    }

    /// Modifiers, PTR and VAR: one reference, which must end in something
    /// sized (or, except for VAR, in void, a FWD or a FUNC_PROTO).
    fn reference(&self, t: TypeRef<'a>, mode: Mode, rule: &'static str) -> Result<Step, Fail> {
        let target = t.type_id();
        let tt = self.get(target);
        if self.missing(target) || source_only(tt) {
            return Err((rule, "Invalid type_id".into()));
        }
        if self.must_push(mode, target) {
            return Ok(Step::Push(target, 0));
        }
        // A modifier resolved inside a struct stopped at a pointer; a walk
        // through a pointer (or a VAR) goes on from there, to find pointer loops.
        if matches!(t.kind(), Kind::Ptr | Kind::Var) && tt.is_some_and(|tt| tt.kind().is_modifier())
        {
            let end = self.skip_modifiers(target);
            if self.get(end).is_some_and(|e| e.kind() == Kind::Ptr) && self.must_push(mode, end) {
                return Ok(Step::Push(end, 0));
            }
        }
        if self.size_of(target).is_none() {
            let end = self.get(self.resolved_id(target));
            let sizeless_ok = end.is_none_or(|e| matches!(e.kind(), Kind::Fwd | Kind::FuncProto));
            if t.kind() == Kind::Var || !sizeless_ok {
                return Err((rule, "Invalid type_id".into()));
            }
        }
        Ok(Step::Done)
    }

    fn composite(&self, t: TypeRef<'a>, next: usize, mode: Mode) -> Result<Step, Fail> {
        for (i, m) in t.members().enumerate().skip(next) {
            let mt = self.get(m.type_id);
            if self.missing(m.type_id) || no_size(mt) || source_only(mt) {
                return Err(("btf_struct_resolve", "Invalid member".into()));
            }
            if self.must_push(mode, m.type_id) {
                return Ok(Step::Push(m.type_id, i));
            }
            self.check_member(t, m, mt.expect("sized"))?;
        }
        Ok(Step::Done)
    }

    fn array(&self, t: TypeRef<'a>, mode: Mode) -> Result<Step, Fail> {
        const RULE: &str = "btf_array_resolve";
        let a = t.array().expect("an ARRAY record");
        let it = self.get(a.index_type);
        if self.missing(a.index_type) || no_size(it) || source_only(it) {
            return Err((RULE, "Invalid index".into()));
        }
        if self.must_push(mode, a.index_type) {
            return Ok(Step::Push(a.index_type, 0));
        }
        match self.size_of(a.index_type) {
            Some((i, _)) if is_regular_int(i) => {}
            _ => return Err((RULE, "Invalid index".into())),
        }
        let et = self.get(a.elem_type);
        if self.missing(a.elem_type) || no_size(et) || source_only(et) {
            return Err((RULE, "Invalid elem".into()));
        }
        if self.must_push(mode, a.elem_type) {
            return Ok(Step::Push(a.elem_type, 0));
        }
        let Some((elem, elem_size)) = self.size_of(a.elem_type) else {
            return Err((RULE, "Invalid elem".into()));
        };
        if elem.kind() == Kind::Int && !is_regular_int(elem) {
            return Err((RULE, "Invalid array of int".into()));
        }
        if a.nelems != 0 && elem_size > u32::MAX / a.nelems {
            return Err((RULE, "Array size overflows U32_MAX".into()));
        }
        Ok(Step::Done)
    }

    /// `btf_func_check`: a FUNC's parameters are named.
    fn func(&self, t: TypeRef<'a>) -> Verdict {
        const RULE: &str = "btf_func_check";
        let Some(proto) = self
            .get(t.type_id())
            .filter(|p| p.kind() == Kind::FuncProto)
        else {
            return Err((RULE, "Invalid type_id".into()));
        };
        for (i, p) in proto.params().enumerate() {
            if p.name_off.0 == 0 && p.type_id.0 != 0 {
                return Err((RULE, arg_msg(i + 1)));
            }
        }
        Ok(())
    }

    fn decl_tag(&self, t: TypeRef<'a>, mode: Mode) -> Result<Step, Fail> {
        const RULE: &str = "btf_decl_tag_resolve";
        let target = t.type_id();
        let Some(tt) = self.get(target).filter(|tt| {
            matches!(
                tt.kind(),
                Kind::Func | Kind::Struct | Kind::Union | Kind::Var | Kind::Typedef
            )
        }) else {
            return Err((RULE, "Invalid type_id".into()));
        };
        if self.must_push(mode, target) {
            return Ok(Step::Push(target, 0));
        }
        let idx = t.decl_tag_component_idx().expect("a DECL_TAG record");
        if idx != -1 {
            let components = match tt.kind() {
                Kind::Struct | Kind::Union => tt.vlen(),
                Kind::Func => self.get(tt.type_id()).map_or(0, |p| p.vlen()),
                _ => return Err((RULE, "Invalid component_idx".into())),
            };
            if idx as u32 >= components {
                return Err((RULE, "Invalid component_idx".into()));
            }
        }
        Ok(Step::Done)
    }

    fn datasec(&self, t: TypeRef<'a>, next: usize, mode: Mode) -> Result<Step, Fail> {
        const RULE: &str = "btf_datasec_resolve";
        for (i, v) in t.datasec_vars().enumerate().skip(next) {
            let Some(var) = self.get(v.type_id).filter(|v| v.kind() == Kind::Var) else {
                return Err((RULE, "Not a VAR kind member".into()));
            };
            // Unlike a struct's member, the kernel does not come back to an
            // entry whose VAR it had to resolve first: its size goes unchecked.
            if self.must_push(mode, v.type_id) {
                return Ok(Step::Push(v.type_id, i + 1));
            }
            let Some((_, size)) = self.size_of(var.type_id()) else {
                return Err((RULE, "Invalid type".into()));
            };
            if v.size < size {
                return Err((RULE, "Invalid size".into()));
            }
        }
        Ok(Step::Done)
    }

    /// `btf_func_proto_check`: a sized (or void) return type; sized, named
    /// or anonymous parameters; only the last one may be `...`.
    fn func_proto(&mut self, t: TypeRef<'a>) -> Result<(), Finding> {
        const RULE: &str = "btf_func_proto_check";
        let fail = |msg: String| Finding::at(t.id(), RULE, msg);
        let ret = t.type_id();
        if ret.0 != 0 {
            let rt = self.get(ret);
            if self.missing(ret) || source_only(rt) {
                return Err(fail("Invalid return type".into()));
            }
            if rt.is_some_and(|rt| needs_resolve(rt.kind())) && !self.resolved(ret) {
                self.resolve(ret)?;
            }
            if self.size_of(ret).is_none() {
                return Err(fail("Invalid return type".into()));
            }
        }
        let params: Vec<_> = t.params().collect();
        let mut n = params.len();
        if let Some(last) = params.last().filter(|p| p.type_id.0 == 0) {
            if last.name_off.0 != 0 {
                return Err(fail(arg_msg(n)));
            }
            n -= 1;
        }
        for (i, p) in params[..n].iter().enumerate() {
            let at = self.get(p.type_id);
            let bad_name = p.name_off.0 != 0
                && !self
                    .btf
                    .str_at(p.name_off)
                    .is_some_and(|s| p.name_off.0 <= super::MAX_NAME_OFFSET && is_identifier(s));
            if self.missing(p.type_id) || source_only(at) || bad_name {
                return Err(fail(arg_msg(i + 1)));
            }
            if at.is_some_and(|at| needs_resolve(at.kind())) && !self.resolved(p.type_id) {
                self.resolve(p.type_id)?;
            }
            if self.size_of(p.type_id).is_none() {
                return Err(fail(arg_msg(i + 1)));
            }
        }
        Ok(())
    }

    /// What an already resolved `id` resolved to, as the kernel records it:
    /// a modifier the end of its chain, a FUNC its FUNC_PROTO. An unresolved
    /// id stands for itself, so whether `PTR -> FUNC` passes depends on
    /// whether the FUNC came first, as in the kernel.
    fn resolved_id(&self, mut id: TypeId) -> TypeId {
        for _ in 0..=MAX_DEPTH {
            match self.get(id) {
                Some(t) if self.resolved(id) && t.kind().is_modifier() => id = self.next(id, t),
                Some(t) if self.resolved(id) && t.kind() == Kind::Func => return t.type_id(),
                _ => break,
            }
        }
        id
    }

    /// The next step through modifier or VAR `t`: the end of its chain once
    /// it is resolved, else the type it names.
    fn next(&self, id: TypeId, t: TypeRef<'a>) -> TypeId {
        id.0.checked_sub(self.start)
            .and_then(|i| self.ends.get(i as usize).copied().flatten())
            .unwrap_or_else(|| t.type_id())
    }

    /// The size of a resolved own ARRAY.
    fn array_size(&self, id: TypeId) -> Option<u32> {
        let at = id.0.checked_sub(self.start)?;
        self.sizes.get(at as usize).copied().flatten()
    }

    /// Follows modifiers to the first type that is not one (bounded: loops
    /// are reported elsewhere).
    fn skip_modifiers(&self, mut id: TypeId) -> TypeId {
        for _ in 0..=MAX_DEPTH {
            match self.get(id) {
                Some(t) if t.kind().is_modifier() => id = self.next(id, t),
                _ => break,
            }
        }
        id
    }

    /// The kernel's `btf_type_id_size`: the sized type `id` stands for
    /// (through modifiers and VAR) and its size; `None` for void, FWD,
    /// FUNC, FUNC_PROTO, DECL_TAG. Like the kernel it goes by what has been
    /// resolved so far: an array not yet resolved has size 0, a modifier not
    /// yet resolved stands for nothing.
    fn size_of(&self, id: TypeId) -> Option<(TypeRef<'a>, u32)> {
        self.size_of_depth(id, 0)
    }

    fn size_of_depth(&self, mut id: TypeId, depth: usize) -> Option<(TypeRef<'a>, u32)> {
        for _ in 0..=MAX_DEPTH {
            let t = self.get(id)?;
            match t.kind() {
                Kind::Int
                | Kind::Struct
                | Kind::Union
                | Kind::Enum
                | Kind::Enum64
                | Kind::Datasec
                | Kind::Float => return Some((t, t.size())),
                Kind::Ptr => return Some((t, PTR_SIZE)),
                Kind::Array if self.array_size(id).is_some() => {
                    return Some((t, self.array_size(id).unwrap_or(0)))
                }
                Kind::Array if !self.resolved(id) || depth >= MAX_DEPTH => return Some((t, 0)),
                Kind::Array => {
                    let a = t.array().expect("an ARRAY record");
                    let elem = self
                        .size_of_depth(a.elem_type, depth + 1)
                        .map_or(0, |(_, s)| s);
                    return Some((t, elem.wrapping_mul(a.nelems)));
                }
                k if (k.is_modifier() || k == Kind::Var) && self.resolved(id) => {
                    id = self.next(id, t)
                }
                _ => return None,
            }
        }
        None
    }

    /// A member fits its struct, per the kind of its (resolved) type.
    fn check_member(&self, s: TypeRef<'a>, m: Member, mt: TypeRef<'a>) -> Verdict {
        let (mt, mt_size) = if mt.kind().is_modifier() {
            self.size_of(m.type_id)
                .ok_or(("btf_modifier_check_member", "Invalid member".into()))?
        } else {
            let size = self.size_of(m.type_id).map_or(0, |(_, s)| s);
            (mt, size)
        };
        let kflag = s.kind_flag();
        match mt.kind() {
            Kind::Int if kflag => int_kflag_member(s, m, mt),
            Kind::Int => int_member(s, m, mt),
            Kind::Enum | Kind::Enum64 if kflag => enum_kflag_member(s, m),
            _ if kflag => {
                if m.bitfield_size != 0 {
                    return Err((
                        "btf_generic_check_kflag_member",
                        "Invalid member bitfield_size".into(),
                    ));
                }
                plain_member(s, m, mt, mt_size)
            }
            _ => plain_member(s, m, mt, mt_size),
        }
    }
}

/// The kernel's wording for a bad parameter, counted from 1.
fn arg_msg(n: usize) -> String {
    format!("Invalid arg#{n}")
}

/// The struct's size minus the member's byte offset, wrapping like the kernel's u32.
fn room(s: TypeRef<'_>, bit_offset: u32) -> u32 {
    s.size().wrapping_sub(bit_offset / 8)
}

/// Members of pointer, array, struct, union, enum and float type (no bitfield).
fn plain_member(s: TypeRef<'_>, m: Member, mt: TypeRef<'_>, size: u32) -> Verdict {
    let rule = match mt.kind() {
        Kind::Ptr => "btf_ptr_check_member",
        Kind::Array => "btf_array_check_member",
        Kind::Enum | Kind::Enum64 => "btf_enum_check_member",
        Kind::Float => "btf_float_check_member",
        _ => "btf_struct_check_member",
    };
    let off = m.bit_offset;
    if mt.kind() == Kind::Float {
        // Only the smallest alignment any architecture needs.
        let align_bits = PTR_SIZE.min(size) as u64 * 8;
        if align_bits == 0 || off as u64 % align_bits != 0 {
            return Err((rule, "Member is not properly aligned".into()));
        }
        if (off / 8) as u64 + size as u64 > s.size() as u64 {
            return Err((rule, "Member exceeds struct_size".into()));
        }
        return Ok(());
    }
    if off % 8 != 0 {
        return Err((rule, "Member is not byte aligned".into()));
    }
    if room(s, off) < size {
        return Err((rule, "Member exceeds struct_size".into()));
    }
    Ok(())
}

fn int_member(s: TypeRef<'_>, m: Member, int: TypeRef<'_>) -> Verdict {
    const RULE: &str = "btf_int_check_member";
    let i = int.int().expect("an INT");
    let Some(off) = m.bit_offset.checked_add(i.offset as u32) else {
        return Err((RULE, "bits_offset exceeds U32_MAX".into()));
    };
    let copy_bits = i.bits as u32 + off % 8;
    if copy_bits > 128 {
        return Err((RULE, "nr_copy_bits exceeds 128".into()));
    }
    if s.size() < off / 8 || room(s, off) < copy_bits.div_ceil(8) {
        return Err((RULE, "Member exceeds struct_size".into()));
    }
    Ok(())
}

fn int_kflag_member(s: TypeRef<'_>, m: Member, int: TypeRef<'_>) -> Verdict {
    const RULE: &str = "btf_int_check_kflag_member";
    if !is_regular_int(int) {
        return Err((RULE, "Invalid member base type".into()));
    }
    let int_bits = int.int().expect("an INT").bits as u32;
    let off = m.bit_offset;
    let bits = match m.bitfield_size {
        0 if off % 8 != 0 => return Err((RULE, "Invalid member offset".into())),
        0 => int_bits,
        b if b > int_bits => return Err((RULE, "Invalid member bitfield_size".into())),
        b => b,
    };
    let copy_bits = bits + off % 8;
    if copy_bits > 128 {
        return Err((RULE, "nr_copy_bits exceeds 128".into()));
    }
    if s.size() < off / 8 || room(s, off) < copy_bits.div_ceil(8) {
        return Err((RULE, "Member exceeds struct_size".into()));
    }
    Ok(())
}

/// An enum member of a kind_flag struct: a bitfield of at most 32 bits.
fn enum_kflag_member(s: TypeRef<'_>, m: Member) -> Verdict {
    const RULE: &str = "btf_enum_check_kflag_member";
    let off = m.bit_offset;
    let bits = match m.bitfield_size {
        0 if off % 8 != 0 => return Err((RULE, "Member is not byte aligned".into())),
        0 => 32,
        b if b > 32 => return Err((RULE, "Invalid member bitfield_size".into())),
        b => b,
    };
    if (s.size() as u64) < (off as u64 + bits as u64).div_ceil(8) {
        return Err((RULE, "Member exceeds struct_size".into()));
    }
    Ok(())
}

/// Phase 4: in every chain of modifiers starting at an own type, no type
/// tag follows another modifier, and no chain is longer than 32.
pub(super) fn check_type_tags(btf: &Btf) -> Vec<Finding> {
    const RULE: &str = "btf_check_type_tags";
    let mut findings = Vec::new();
    // Types below `good` have had their chains checked; a walk that reaches
    // one checks it and stops, as the kernel's does.
    let mut good = btf.start_id().0 - 1;
    for t in table_types(btf) {
        if !t.kind().is_modifier() {
            continue;
        }
        let in_tags_from_start = t.kind() == Kind::TypeTag;
        let mut in_tags = in_tags_from_start;
        let (mut cur_id, mut cur) = (t.id(), Some(t));
        let mut limit = MAX_DEPTH;
        while let Some(c) = cur.filter(|c| c.kind().is_modifier()) {
            if limit == 0 {
                findings.push(Finding::at(
                    t.id(),
                    RULE,
                    "Max chain length or cycle detected",
                ));
                break;
            }
            limit -= 1;
            if c.kind() == Kind::TypeTag {
                if !in_tags {
                    findings.push(Finding::at(
                        t.id(),
                        RULE,
                        "Type tags don't precede modifiers",
                    ));
                    break;
                }
            } else {
                in_tags = false;
            }
            if cur_id.0 <= good {
                break;
            }
            cur_id = c.type_id();
            cur = btf.type_by_id(cur_id);
        }
        good = t.id().0;
    }
    findings
}
