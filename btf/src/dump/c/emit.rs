//! The emitting pass: definitions and declarations in C.
//!
//! [`Dumper::emit_type`] writes one queued definition after whatever it
//! still lacks. Writing a struct's definition first visits its members'
//! types: a named struct or union met that way (not being defined at the
//! top level) only gets a forward declaration, once; one already being
//! written (a member pointing back) gets one too, unless it is the struct
//! being defined itself. A typedef met while its target is being written is
//! written at once, as a pointer to it only needs the typedef's name.
//! `__builtin_va_list` is the compiler's own and never defined.
//!
//! A declaration (`TYPE NAME` of a member, parameter or typedef) is the
//! chain of types from the declared one down to a named or base type,
//! pushed on a stack and written from the innermost out: modifiers go
//! before a base type but after a pointer's `*`; an array or function
//! prototype wraps the rest of the chain (`(*name)[4]`, `(*name)(int)`),
//! dropping the qualifiers GCC puts on arrays and on `noreturn` function
//! pointers. Anonymous structs, unions and enums are defined inline.
//! Chains nest (a parameter of a function pointer in a member of an
//! anonymous struct); they share one stack, each working on its own frame.

use std::io::{self, Write};

use super::{array_of, invalid, is_modifier, BpftoolVersion, Dumper, EmitState};
use crate::{Kind, TypeRef};

/// libbpf's indent stops growing at this many tabs.
const MAX_INDENT: usize = 13;

/// Integer types GCC names after its internal vector types, with the
/// standard types to alias them to.
const MISSING_BASE_TYPES: [(&[u8], &str); 4] = [
    (b"__Poly8_t", "unsigned char"),
    (b"__Poly16_t", "unsigned short"),
    (b"__Poly64_t", "unsigned long long"),
    (b"__Poly128_t", "unsigned __int128"),
];

impl<'b, W: Write> Dumper<'b, W> {
    /// `lvl` tabs.
    pub(super) fn indent(&mut self, lvl: usize) {
        const TABS: &[u8; MAX_INDENT] = b"\t\t\t\t\t\t\t\t\t\t\t\t\t";
        self.out.bytes(&TABS[..lvl.min(MAX_INDENT)]);
    }

    /// Writes `id` and what it lacks; `cont_id` is the named struct or
    /// union whose definition is being written (0 at the top level).
    pub(super) fn emit_type(&mut self, id: u32, cont_id: u32) -> io::Result<()> {
        self.enter(id)?;
        let r = self.emit_type_inner(id, cont_id);
        self.leave();
        r
    }

    fn emit_type_inner(&mut self, id: u32, cont_id: u32) -> io::Result<()> {
        let state = *self.state(id)?;
        if state.emit == EmitState::Emitted {
            return Ok(());
        }
        let t = self.ty(id)?;
        let top_level = cont_id == 0;
        let named = t.name_off().0 != 0;
        if state.emit == EmitState::Emitting {
            if state.fwd_emitted {
                return Ok(());
            }
            match t.kind() {
                Kind::Struct | Kind::Union => {
                    // A member refers back to the struct being defined, or
                    // (anonymous) to a loop C cannot write: nothing to declare.
                    if id == cont_id || !named {
                        return Ok(());
                    }
                    self.emit_struct_fwd(id, &t)?;
                    self.out.str(";\n\n");
                    self.state(id)?.fwd_emitted = true;
                }
                Kind::Typedef => {
                    if !self.is_builtin(&t) {
                        self.emit_typedef_def(id, &t, 0)?;
                        self.out.str(";\n\n");
                    }
                    self.state(id)?.fwd_emitted = true;
                }
                _ => {}
            }
            return Ok(());
        }
        match t.kind() {
            Kind::Int => {
                self.emit_missing_alias(id)?;
                self.state(id)?.emit = EmitState::Emitted;
            }
            Kind::Enum | Kind::Enum64 => {
                if top_level {
                    self.emit_enum_def(id, &t, 0)?;
                    self.out.str(";\n\n");
                }
                self.state(id)?.emit = EmitState::Emitted;
            }
            Kind::Ptr | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag => {
                self.emit_type(t.type_id().0, cont_id)?;
            }
            Kind::Array => self.emit_type(array_of(&t)?.elem_type.0, cont_id)?,
            Kind::Fwd => {
                self.emit_fwd_def(id, &t)?;
                self.out.str(";\n\n");
                self.state(id)?.emit = EmitState::Emitted;
            }
            Kind::Typedef => {
                self.state(id)?.emit = EmitState::Emitting;
                self.emit_type(t.type_id().0, id)?;
                if !self.state(id)?.fwd_emitted && !self.is_builtin(&t) {
                    self.emit_typedef_def(id, &t, 0)?;
                    self.out.str(";\n\n");
                }
                self.state(id)?.emit = EmitState::Emitted;
            }
            Kind::Struct | Kind::Union => {
                self.state(id)?.emit = EmitState::Emitting;
                if top_level || !named {
                    let inner_cont = if named { id } else { cont_id };
                    for m in t.members() {
                        self.emit_type(m.type_id.0, inner_cont)?;
                    }
                } else if !self.state(id)?.fwd_emitted && id != cont_id {
                    self.emit_struct_fwd(id, &t)?;
                    self.out.str(";\n\n");
                    self.state(id)?.fwd_emitted = true;
                }
                if top_level {
                    self.emit_struct_def(id, &t, 0)?;
                    self.out.str(";\n\n");
                    self.state(id)?.emit = EmitState::Emitted;
                } else {
                    self.state(id)?.emit = EmitState::NotEmitted;
                }
            }
            Kind::FuncProto => {
                self.emit_type(t.type_id().0, cont_id)?;
                for p in t.params() {
                    self.emit_type(p.type_id.0, cont_id)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// `__builtin_va_list`, which the compiler defines itself.
    fn is_builtin(&self, t: &TypeRef<'b>) -> bool {
        t.name_off().0 != 0 && self.raw_name(t) == b"__builtin_va_list"
    }

    /// `typedef unsigned char __Poly8_t;` and the like, for GCC's names.
    fn emit_missing_alias(&mut self, id: u32) -> io::Result<()> {
        let name = self.type_name(id)?;
        if let Some((_, std)) = MISSING_BASE_TYPES.iter().find(|(n, _)| *n == &*name) {
            self.out.str("typedef ");
            self.out.str(std);
            self.out.str(" ");
            self.out.bytes(&name);
            self.out.str(";\n\n");
        }
        Ok(())
    }

    fn emit_struct_fwd(&mut self, id: u32, t: &TypeRef<'b>) -> io::Result<()> {
        self.out.str(if t.kind() == Kind::Struct {
            "struct"
        } else {
            "union"
        });
        if t.name_off().0 != 0 {
            self.out.str(" ");
        }
        let name = self.type_name(id)?;
        self.out.bytes(&name);
        Ok(())
    }

    /// `struct NAME { members }`, members at indent `lvl + 1`.
    fn emit_struct_def(&mut self, id: u32, t: &TypeRef<'b>, lvl: usize) -> io::Result<()> {
        let is_struct = t.kind() == Kind::Struct;
        let align = self.align_of(id)?;
        let packed = is_struct && self.is_packed(id)?;
        self.emit_struct_fwd(id, t)?;
        self.out.str(" {");
        let mut off: i64 = 0;
        let mut prev_bitfield = false;
        for m in t.members() {
            self.out.end_record()?;
            let fname = self.str_at(m.name_off.0);
            let m_off = m.bit_offset as i64;
            let m_align = if packed {
                1
            } else {
                self.align_of(m.type_id.0)?
            };
            let in_bitfield = prev_bitfield && m.bitfield_size != 0;
            self.emit_padding(off, m_off, m_align, in_bitfield, lvl + 1)?;
            self.out.str("\n");
            self.indent(lvl + 1);
            self.emit_type_decl(m.type_id.0, fname, lvl + 1)?;
            if m.bitfield_size != 0 {
                self.out.str(": ");
                self.out.num(m.bitfield_size);
                off = m_off + m.bitfield_size as i64;
                prev_bitfield = true;
            } else {
                let size = self.resolve_size(m.type_id.0)?.max(0);
                off = m_off + size * 8;
                prev_bitfield = false;
            }
            self.out.str(";");
        }
        if is_struct {
            self.emit_padding(off, t.size() as i64 * 8, align, false, lvl + 1)?;
        }
        if t.vlen() != 0 || t.size() != 0 {
            self.out.str("\n");
            self.indent(lvl);
        }
        self.out.str("}");
        if packed {
            self.out.str(" __attribute__((packed))");
        }
        Ok(())
    }

    fn emit_enum_fwd(&mut self, id: u32) -> io::Result<()> {
        self.out.str("enum ");
        let name = self.type_name(id)?;
        self.out.bytes(&name);
        Ok(())
    }

    /// `enum NAME { values }`, values at indent `lvl + 1`. Debian's bpftool
    /// 7.1 predates libbpf's `mode(byte)`/`mode(word)` attributes for enums
    /// of 1 and 8 bytes, so their sizes are not written; 7.8 writes them
    /// (see [`Dumper::emit_enum_mode`]).
    fn emit_enum_def(&mut self, id: u32, t: &TypeRef<'b>, lvl: usize) -> io::Result<()> {
        self.out.str("enum");
        if t.name_off().0 != 0 {
            self.out.str(" ");
        }
        let name = self.type_name(id)?;
        self.out.bytes(&name);
        if t.vlen() == 0 {
            return Ok(());
        }
        self.out.str(" {");
        let signed = t.kind_flag();
        if t.kind() == Kind::Enum {
            for v in t.enum_values() {
                self.emit_enum_value_name(v.name_off.0, lvl)?;
                if signed {
                    self.out.num(v.val as i32);
                } else {
                    self.out.num(v.val);
                }
                self.out.str(",");
            }
        } else {
            for v in t.enum64_values() {
                self.emit_enum_value_name(v.name_off.0, lvl)?;
                if signed {
                    self.out.num(v.val as i64);
                    self.out.str("LL,");
                } else {
                    self.out.num(v.val);
                    self.out.str("ULL,");
                }
            }
        }
        self.out.str("\n");
        self.indent(lvl);
        self.out.str("}");
        if self.version == BpftoolVersion::V7_8 {
            self.emit_enum_mode(t);
        }
        Ok(())
    }

    /// The attribute that gives an enum of 1 or 8 bytes its size: C makes
    /// an enum 4 bytes unless a value needs 8, so a 1-byte enum needs
    /// `mode(byte)`, and an 8-byte one `mode(word)` (on 64-bit targets)
    /// unless one of its values already needs the upper 32 bits.
    fn emit_enum_mode(&mut self, t: &TypeRef<'b>) {
        let word = match (t.size(), t.kind()) {
            (1, _) => {
                self.out.str(" __attribute__((mode(byte)))");
                return;
            }
            (8, _) if self.ptr_size != 8 => false,
            (8, Kind::Enum) => true,
            (8, _) => t.enum64_values().all(|v| v.val >> 32 == 0),
            _ => false,
        };
        if word {
            self.out.str(" __attribute__((mode(word)))");
        }
    }

    /// `\n<indent>NAME = ` for an enum value, renamed on reuse.
    fn emit_enum_value_name(&mut self, name_off: u32, lvl: usize) -> io::Result<()> {
        self.out.end_record()?;
        let name = self.str_at(name_off);
        let n = super::names::count_use(&mut self.ident_names, name);
        self.out.str("\n");
        self.indent(lvl + 1);
        if n > 1 {
            self.out.bytes(name);
            self.out.str("___");
            self.out.num(n);
        } else {
            self.out.bytes(name);
        }
        self.out.str(" = ");
        Ok(())
    }

    fn emit_fwd_def(&mut self, id: u32, t: &TypeRef<'b>) -> io::Result<()> {
        let name = self.type_name(id)?;
        self.out
            .str(if t.kind_flag() { "union " } else { "struct " });
        self.out.bytes(&name);
        Ok(())
    }

    fn emit_typedef_def(&mut self, id: u32, t: &TypeRef<'b>, lvl: usize) -> io::Result<()> {
        let name = self.ident_name(id)?;
        // Old GCCs point __gnuc_va_list at void.
        if t.type_id().0 == 0 && &*name == b"__gnuc_va_list" {
            self.out.str("typedef __builtin_va_list __gnuc_va_list");
            return Ok(());
        }
        self.out.str("typedef ");
        self.emit_type_decl(t.type_id().0, &name, lvl)
    }

    /// Declares `fname` of type `id` (`fname` may be empty).
    pub(super) fn emit_type_decl(&mut self, id: u32, fname: &[u8], lvl: usize) -> io::Result<()> {
        self.enter(id)?;
        let start = self.decl_stack.len();
        let r = self.push_chain(id).and_then(|()| {
            let mut cnt = self.decl_stack.len() - start;
            self.emit_chain(start, &mut cnt, fname, lvl)
        });
        self.decl_stack.truncate(start);
        self.leave();
        r
    }

    /// Pushes the chain from `id` down to its named or base type.
    fn push_chain(&mut self, id: u32) -> io::Result<()> {
        let mut id = id;
        for _ in 0..super::MAX_DEPTH {
            let t = self.ty(id)?;
            self.decl_stack.push(id);
            if id == 0 {
                return Ok(());
            }
            match t.kind() {
                Kind::Ptr
                | Kind::Volatile
                | Kind::Const
                | Kind::Restrict
                | Kind::FuncProto
                | Kind::TypeTag => id = t.type_id().0,
                Kind::Array => id = array_of(&t)?.elem_type.0,
                // Named and base types end the chain; libbpf warns about
                // any other kind and writes the chain as far as it got.
                _ => return Ok(()),
            }
        }
        Err(invalid(format!(
            "type {id}: a chain of pointers, modifiers and arrays longer than {}",
            super::MAX_DEPTH
        )))
    }

    /// The top of the stack frame at `base` with `cnt` entries.
    fn top(&self, base: usize, cnt: usize) -> u32 {
        self.decl_stack[base + cnt - 1]
    }

    /// Writes the qualifiers on top of the frame (`const int`).
    fn emit_mods(&mut self, base: usize, cnt: &mut usize) -> io::Result<()> {
        while *cnt > 0 {
            let t = self.ty(self.top(base, *cnt))?;
            self.out.str(match t.kind() {
                Kind::Volatile => "volatile ",
                Kind::Const => "const ",
                Kind::Restrict => "restrict ",
                _ => return Ok(()),
            });
            *cnt -= 1;
        }
        Ok(())
    }

    /// Drops the qualifiers and type tags on top of the frame.
    fn drop_mods(&mut self, base: usize, cnt: &mut usize) -> io::Result<()> {
        while *cnt > 0 {
            let t = self.ty(self.top(base, *cnt))?;
            if !is_modifier(t.kind()) {
                return Ok(());
            }
            *cnt -= 1;
        }
        Ok(())
    }

    fn emit_name(&mut self, name: &[u8], last_was_ptr: bool) {
        if !name.is_empty() && !last_was_ptr {
            self.out.str(" ");
        }
        self.out.bytes(name);
    }

    /// Writes the declaration of `fname` from the chain in the frame at
    /// `base` (innermost type on top), popping it.
    fn emit_chain(
        &mut self,
        base: usize,
        cnt: &mut usize,
        fname: &[u8],
        lvl: usize,
    ) -> io::Result<()> {
        self.enter(0)?;
        let r = self.emit_chain_inner(base, cnt, fname, lvl);
        self.leave();
        r
    }

    fn emit_chain_inner(
        &mut self,
        base: usize,
        cnt: &mut usize,
        fname: &[u8],
        lvl: usize,
    ) -> io::Result<()> {
        // `int ***`, not `int * * *`; a lone pointer in a function
        // prototype's frame is `(*name)`.
        let mut last_was_ptr = true;
        while *cnt > 0 {
            *cnt -= 1;
            let id = self.decl_stack[base + *cnt];
            if id == 0 {
                self.emit_mods(base, cnt)?;
                self.out.str("void");
                last_was_ptr = false;
                continue;
            }
            let t = self.ty(id)?;
            let kind = t.kind();
            match kind {
                Kind::Int | Kind::Float => {
                    self.emit_mods(base, cnt)?;
                    let name = self.raw_name(&t);
                    self.out.bytes(name);
                }
                Kind::Struct | Kind::Union => {
                    self.emit_mods(base, cnt)?;
                    if t.name_off().0 == 0 {
                        self.emit_struct_def(id, &t, lvl)?;
                    } else {
                        self.emit_struct_fwd(id, &t)?;
                    }
                }
                Kind::Enum | Kind::Enum64 => {
                    self.emit_mods(base, cnt)?;
                    if t.name_off().0 == 0 {
                        self.emit_enum_def(id, &t, lvl)?;
                    } else {
                        self.emit_enum_fwd(id)?;
                    }
                }
                Kind::Fwd => {
                    self.emit_mods(base, cnt)?;
                    self.emit_fwd_def(id, &t)?;
                }
                Kind::Typedef => {
                    self.emit_mods(base, cnt)?;
                    let name = self.ident_name(id)?;
                    self.out.bytes(&name);
                }
                Kind::Ptr => self.out.str(if last_was_ptr { "*" } else { " *" }),
                Kind::Volatile => self.out.str(" volatile"),
                Kind::Const => self.out.str(" const"),
                Kind::Restrict => self.out.str(" restrict"),
                Kind::TypeTag => {
                    self.emit_mods(base, cnt)?;
                    let name = self.raw_name(&t);
                    // bpftool 7.8: a tag with kind_flag set is an attribute
                    // of its own (`address_space(1)`), not a btf_type_tag.
                    if t.kind_flag() && self.version == BpftoolVersion::V7_8 {
                        self.out.str(" __attribute__((");
                        self.out.bytes(name);
                        self.out.str("))");
                    } else {
                        self.out.str(" __attribute__((btf_type_tag(\"");
                        self.out.bytes(name);
                        self.out.str("\")))");
                    }
                }
                Kind::Array => {
                    let a = array_of(&t)?;
                    // GCC qualifies arrays of qualified elements; C has no use for it.
                    self.drop_mods(base, cnt)?;
                    if *cnt == 0 {
                        self.emit_name(fname, last_was_ptr);
                        self.emit_array_len(a.nelems);
                        return Ok(());
                    }
                    let next = self.ty(self.top(base, *cnt))?;
                    let multidim = next.kind() == Kind::Array;
                    if !fname.is_empty() && !last_was_ptr {
                        self.out.str(" ");
                    }
                    if !multidim {
                        self.out.str("(");
                    }
                    self.emit_chain(base, cnt, fname, lvl)?;
                    if !multidim {
                        self.out.str(")");
                    }
                    self.emit_array_len(a.nelems);
                    return Ok(());
                }
                Kind::FuncProto => {
                    // GCC marks noreturn function pointers volatile.
                    self.drop_mods(base, cnt)?;
                    if *cnt > 0 {
                        self.out.str(" (");
                        self.emit_chain(base, cnt, fname, lvl)?;
                        self.out.str(")");
                    } else {
                        self.emit_name(fname, last_was_ptr);
                    }
                    self.out.str("(");
                    let params = t.params();
                    let n = params.len();
                    // No parameters, or Clang's one void parameter: `f(void)`.
                    if n == 0 || (n == 1 && t.params().all(|p| p.type_id.0 == 0)) {
                        self.out.str("void)");
                        return Ok(());
                    }
                    for (i, p) in params.enumerate() {
                        if i > 0 {
                            self.out.str(", ");
                        }
                        if i == n - 1 && p.type_id.0 == 0 {
                            self.out.str("...");
                            break;
                        }
                        let name = self.str_at(p.name_off.0);
                        self.emit_type_decl(p.type_id.0, name, lvl)?;
                    }
                    self.out.str(")");
                    return Ok(());
                }
                // libbpf warns and leaves the declaration unfinished.
                _ => return Ok(()),
            }
            last_was_ptr = kind == Kind::Ptr;
        }
        self.emit_name(fname, last_was_ptr);
        Ok(())
    }

    fn emit_array_len(&mut self, nelems: u32) {
        self.out.str("[");
        self.out.num(nelems);
        self.out.str("]");
    }
}
