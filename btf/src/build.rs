//! Typed builders: one method per kind, as libbpf's `btf__add_*`.
//!
//! Each method checks what a raw record cannot: names are interned, every
//! referenced type exists already (or is `void` where C allows it), vlen
//! never passes the kernel's 16 bits, and kind_flag follows from what was
//! added (a bitfield member, a negative enumerator). Members, enumerators,
//! parameters and section variables are appended to the record added
//! last, which must be of the matching kind:
//!
//! ```
//! use kbtf_btf::{int_encoding, Btf, TypeId};
//!
//! let mut btf = Btf::new();
//! let int = btf.add_int("int", 4, int_encoding::SIGNED).unwrap();
//! // A struct that points to itself: through a forward declaration, as
//! // every reference must be to a type added before.
//! let fwd = btf.add_fwd("list", false).unwrap();
//! let ptr = btf.add_ptr(fwd).unwrap();
//! let list = btf.add_struct("list", 16).unwrap();
//! btf.add_field("next", ptr, 0, 0).unwrap();
//! btf.add_field("value", int, 64, 0).unwrap();
//! btf.add_field("flags", int, 96, 3).unwrap(); // a 3-bit bitfield
//! assert!(btf.add_ptr(TypeId(99)).is_err()); // no type 99
//! assert_eq!(btf.get(list).unwrap().vlen(), 3);
//! ```
//!
//! The raw [`Btf::add_record`] and [`Btf::add_type`] stay for encoders,
//! which add types before the types they refer to.

use crate::record::COMMON_WORDS;
use crate::{Btf, Error, Info, Kind, Result, StrOff, TypeId};

impl Btf {
    /// Adds an INT of `size` bytes (1, 2, 4, 8 or 16); `encoding` is a set of
    /// [`crate::int_encoding`] flags.
    pub fn add_int(&mut self, name: &str, size: u32, encoding: u8) -> Result<TypeId> {
        if !matches!(size, 1 | 2 | 4 | 8 | 16) {
            return Err(self.refuse(format!("INT of {size} bytes")));
        }
        let name = self.named(name, "INT")?;
        let data = ((encoding as u32) << 24) | (size * 8);
        self.add_type(name, Info::new(Kind::Int, false, 0), size, &[data])
    }

    /// Adds a FLOAT of `size` bytes (2, 4, 8, 12 or 16).
    pub fn add_float(&mut self, name: &str, size: u32) -> Result<TypeId> {
        if !matches!(size, 2 | 4 | 8 | 12 | 16) {
            return Err(self.refuse(format!("FLOAT of {size} bytes")));
        }
        let name = self.named(name, "FLOAT")?;
        self.add_type(name, Info::new(Kind::Float, false, 0), size, &[])
    }

    /// Adds a pointer to `target` (`void *` for [`TypeId::VOID`]).
    pub fn add_ptr(&mut self, target: TypeId) -> Result<TypeId> {
        self.add_ref(Kind::Ptr, StrOff(0), target)
    }

    /// Adds `const target`.
    pub fn add_const(&mut self, target: TypeId) -> Result<TypeId> {
        self.add_ref(Kind::Const, StrOff(0), target)
    }

    /// Adds `volatile target`.
    pub fn add_volatile(&mut self, target: TypeId) -> Result<TypeId> {
        self.add_ref(Kind::Volatile, StrOff(0), target)
    }

    /// Adds `restrict target`.
    pub fn add_restrict(&mut self, target: TypeId) -> Result<TypeId> {
        self.add_ref(Kind::Restrict, StrOff(0), target)
    }

    /// Adds `typedef target name`.
    pub fn add_typedef(&mut self, name: &str, target: TypeId) -> Result<TypeId> {
        let name = self.named(name, "TYPEDEF")?;
        self.add_ref(Kind::Typedef, name, target)
    }

    /// Adds a TYPE_TAG `value` on `target` (`btf_type_tag("value")`).
    pub fn add_type_tag(&mut self, value: &str, target: TypeId) -> Result<TypeId> {
        let value = self.named(value, "TYPE_TAG")?;
        self.add_ref(Kind::TypeTag, value, target)
    }

    /// Adds a forward declaration of a struct, or of a union.
    pub fn add_fwd(&mut self, name: &str, is_union: bool) -> Result<TypeId> {
        let name = self.named(name, "FWD")?;
        self.add_type(name, Info::new(Kind::Fwd, is_union, 0), 0, &[])
    }

    /// Adds an array of `nelems` elements of `elem`, indexed by `index`.
    pub fn add_array(&mut self, elem: TypeId, index: TypeId, nelems: u32) -> Result<TypeId> {
        self.existing_type(elem, false)?;
        self.existing_type(index, false)?;
        let info = Info::new(Kind::Array, false, 0);
        self.add_type(StrOff(0), info, 0, &[elem.0, index.0, nelems])
    }

    /// Adds a struct of `size` bytes without members; [`Btf::add_field`] adds them.
    pub fn add_struct(&mut self, name: &str, size: u32) -> Result<TypeId> {
        let name = self.add_str(name.as_bytes())?;
        self.add_type(name, Info::new(Kind::Struct, false, 0), size, &[])
    }

    /// Adds a union of `size` bytes without members; [`Btf::add_field`] adds them.
    pub fn add_union(&mut self, name: &str, size: u32) -> Result<TypeId> {
        let name = self.add_str(name.as_bytes())?;
        self.add_type(name, Info::new(Kind::Union, false, 0), size, &[])
    }

    /// Adds a member to the struct or union added last: at `bit_offset`,
    /// of `bitfield_size` bits (0: not a bitfield). A bitfield sets the
    /// record's kind_flag, which encodes every member's offset with its size.
    pub fn add_field(
        &mut self,
        name: &str,
        ty: TypeId,
        bit_offset: u32,
        bitfield_size: u32,
    ) -> Result<()> {
        let last = self.last_of(&[Kind::Struct, Kind::Union], "add_field")?;
        self.existing_type(ty, false)?;
        self.not_itself(ty)?;
        let is_bitfield = bitfield_size != 0 || bit_offset % 8 != 0;
        if bitfield_size > 255 || (is_bitfield && bit_offset > 0xff_ffff) {
            return Err(self.refuse(format!(
                "bitfield of {bitfield_size} bits at bit {bit_offset} does not fit BTF"
            )));
        }
        let info = Info(self.words[last + 1]);
        if info.kind() == Kind::Union && bit_offset != 0 {
            return Err(self.refuse("a union member at a non-zero offset".into()));
        }
        let name = self.add_str(name.as_bytes())?;
        let kflag = info.kind_flag() || is_bitfield;
        // Members added before the first bitfield keep their meaning: with
        // bitfield size 0, the new encoding of an offset is the offset.
        self.grow_last(
            last,
            kflag,
            &[name.0, ty.0, bit_offset | (bitfield_size << 24)],
        )
    }

    /// Adds an ENUM of `size` bytes (1, 2, 4 or 8) without values;
    /// [`Btf::add_enum_value`] adds them.
    pub fn add_enum(&mut self, name: &str, size: u32) -> Result<TypeId> {
        if !matches!(size, 1 | 2 | 4 | 8) {
            return Err(self.refuse(format!("ENUM of {size} bytes")));
        }
        let name = self.add_str(name.as_bytes())?;
        self.add_type(name, Info::new(Kind::Enum, false, 0), size, &[])
    }

    /// Adds an ENUM64 of `size` bytes without values.
    pub fn add_enum64(&mut self, name: &str, size: u32, signed: bool) -> Result<TypeId> {
        if !matches!(size, 1 | 2 | 4 | 8) {
            return Err(self.refuse(format!("ENUM64 of {size} bytes")));
        }
        let name = self.add_str(name.as_bytes())?;
        self.add_type(name, Info::new(Kind::Enum64, signed, 0), size, &[])
    }

    /// Adds an enumerator to the ENUM or ENUM64 added last. An ENUM takes
    /// values that fit 32 bits, signed or not; a negative one makes it signed.
    pub fn add_enum_value(&mut self, name: &str, value: i64) -> Result<()> {
        let last = self.last_of(&[Kind::Enum, Kind::Enum64], "add_enum_value")?;
        let info = Info(self.words[last + 1]);
        let name = self.named(name, "enumerator")?;
        if info.kind() == Kind::Enum64 {
            let words = [name.0, value as u32, (value as u64 >> 32) as u32];
            return self.grow_last(last, info.kind_flag(), &words);
        }
        if value < i32::MIN as i64 || value > u32::MAX as i64 {
            return Err(self.refuse(format!("ENUM value {value} does not fit 32 bits")));
        }
        self.grow_last(last, info.kind_flag() || value < 0, &[name.0, value as u32])
    }

    /// Adds a function prototype returning `ret` (`void` for [`TypeId::VOID`]),
    /// without parameters; [`Btf::add_func_param`] adds them.
    pub fn add_func_proto(&mut self, ret: TypeId) -> Result<TypeId> {
        self.existing_type(ret, true)?;
        let info = Info::new(Kind::FuncProto, false, 0);
        self.add_type(StrOff(0), info, ret.0, &[])
    }

    /// Adds a parameter to the FUNC_PROTO added last. A nameless `void`
    /// parameter marks varargs and must come last.
    pub fn add_func_param(&mut self, name: &str, ty: TypeId) -> Result<()> {
        let last = self.last_of(&[Kind::FuncProto], "add_func_param")?;
        self.existing_type(ty, !name.is_empty() || ty != TypeId::VOID)?;
        self.not_itself(ty)?;
        let name = self.add_str(name.as_bytes())?;
        self.grow_last(last, false, &[name.0, ty.0])
    }

    /// Adds a function `name` of prototype `proto`, with a
    /// [`crate::linkage`] (static, global or extern).
    pub fn add_func(&mut self, name: &str, proto: TypeId, linkage: u32) -> Result<TypeId> {
        if self.get(proto)?.kind() != Kind::FuncProto {
            return Err(self.refuse(format!("FUNC's type {proto} is not a FUNC_PROTO")));
        }
        let name = self.named(name, "FUNC")?;
        let info = Info::new(Kind::Func, false, linkage);
        self.add_type(name, info, proto.0, &[])
    }

    /// Adds a variable `name` of `ty`, with a [`crate::linkage`].
    pub fn add_var(&mut self, name: &str, ty: TypeId, linkage: u32) -> Result<TypeId> {
        self.existing_type(ty, false)?;
        let name = self.named(name, "VAR")?;
        self.add_type(name, Info::new(Kind::Var, false, 0), ty.0, &[linkage])
    }

    /// Adds a data section of `size` bytes without variables;
    /// [`Btf::add_datasec_var`] adds them.
    pub fn add_datasec(&mut self, name: &str, size: u32) -> Result<TypeId> {
        let name = self.named(name, "DATASEC")?;
        self.add_type(name, Info::new(Kind::Datasec, false, 0), size, &[])
    }

    /// Adds variable `var` at `offset`, `size` bytes, to the DATASEC added last.
    pub fn add_datasec_var(&mut self, var: TypeId, offset: u32, size: u32) -> Result<()> {
        let last = self.last_of(&[Kind::Datasec], "add_datasec_var")?;
        if self.get(var)?.kind() != Kind::Var {
            return Err(self.refuse(format!("type {var} in a DATASEC is not a VAR")));
        }
        self.grow_last(last, false, &[var.0, offset, size])
    }

    /// Adds a DECL_TAG `value` on `target`, on its member or parameter
    /// `component` (or on `target` itself for `None`).
    pub fn add_decl_tag(
        &mut self,
        value: &str,
        target: TypeId,
        component: Option<u32>,
    ) -> Result<TypeId> {
        self.existing(target, false)?;
        let value = self.named(value, "DECL_TAG")?;
        let idx = component.map_or(u32::MAX, |c| c);
        let info = Info::new(Kind::DeclTag, false, 0);
        self.add_type(value, info, target.0, &[idx])
    }

    // ---- helpers ----

    fn refuse(&self, what: String) -> Error {
        Error::Invalid {
            id: TypeId(self.type_count()),
            what,
        }
    }

    /// Interns a name a kind must have.
    fn named(&mut self, name: &str, what: &str) -> Result<StrOff> {
        if name.is_empty() {
            return Err(self.refuse(format!("{what} needs a name")));
        }
        self.add_str(name.as_bytes())
    }

    /// `id` must name a type of this BTF or its base; `void` only if allowed.
    fn existing(&self, id: TypeId, void_allowed: bool) -> Result<()> {
        if id == TypeId::VOID {
            return match void_allowed {
                true => Ok(()),
                false => Err(self.refuse("void is not allowed here".into())),
            };
        }
        if id.0 >= self.type_count() {
            return Err(self.refuse(format!(
                "refers to type {id}, but the last type is {}",
                self.type_count() - 1
            )));
        }
        Ok(())
    }

    /// `id` must pass `existing` and be a type a value can have: not a
    /// VAR, DATASEC or DECL_TAG, which the kernel refuses there and dedup
    /// cannot compare.
    fn existing_type(&self, id: TypeId, void_allowed: bool) -> Result<()> {
        self.existing(id, void_allowed)?;
        if id == TypeId::VOID {
            return Ok(());
        }
        let kind = self.get(id)?.kind();
        if matches!(
            kind,
            Kind::Var | Kind::Datasec | Kind::DeclTag | Kind::Unknown(_)
        ) {
            let what = format!("type {id} is a {}, not a type of a value", kind.name());
            return Err(self.refuse(what));
        }
        Ok(())
    }

    /// A member or parameter of the record being extended (the last) that
    /// is that record: a struct holding itself by value, a prototype taking
    /// itself. Every other reference is to an earlier type, so this is the
    /// one loop the builders could otherwise make, and the kernel, dedup
    /// and the size lookups all refuse it.
    fn not_itself(&self, ty: TypeId) -> Result<()> {
        let last = TypeId(self.type_count() - 1);
        if ty == last {
            let kind = self.get(last)?.kind().name();
            return Err(self.refuse(format!("a {kind} cannot contain itself (type {ty})")));
        }
        Ok(())
    }

    fn add_ref(&mut self, kind: Kind, name: StrOff, target: TypeId) -> Result<TypeId> {
        self.existing_type(target, true)?;
        self.add_type(name, Info::new(kind, false, 0), target.0, &[])
    }

    /// The word index of the last own record, if it is of one of `kinds`.
    fn last_of(&self, kinds: &[Kind], what: &str) -> Result<usize> {
        let last = self.offsets.last().map(|&o| o as usize);
        match last {
            Some(at) if kinds.contains(&Info(self.words[at + 1]).kind()) => Ok(at),
            _ => Err(self.refuse(format!(
                "{what} needs the last type added to be {}",
                kinds
                    .iter()
                    .map(|k| k.name())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ))),
        }
    }

    /// Appends one element to the record at `at` (the last one).
    fn grow_last(&mut self, at: usize, kflag: bool, element: &[u32]) -> Result<()> {
        let info = Info(self.words[at + 1]);
        let vlen = info.vlen() + 1;
        if vlen > Info::MAX_KERNEL_VLEN {
            return Err(self.refuse(format!(
                "{} would hold more than {} elements",
                info.kind().name(),
                Info::MAX_KERNEL_VLEN
            )));
        }
        debug_assert!(self.words.len() >= at + COMMON_WORDS);
        self.words[at + 1] = Info::new(info.kind(), kflag, vlen).0;
        self.words.extend_from_slice(element);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::{int_encoding, linkage, Btf, TypeId};

    #[test]
    fn builds_what_the_checker_accepts() {
        let mut b = Btf::new();
        let int = b.add_int("int", 4, int_encoding::SIGNED).unwrap();
        let s = b.add_struct("s", 8).unwrap();
        b.add_field("a", int, 0, 0).unwrap();
        b.add_field("b", int, 32, 4).unwrap();
        let e = b.add_enum("e", 4).unwrap();
        b.add_enum_value("NEG", -1).unwrap();
        let proto = b.add_func_proto(int).unwrap();
        b.add_func_param("x", s).unwrap();
        let f = b.add_func("f", proto, linkage::GLOBAL).unwrap();
        let v = b.add_var("v", e, linkage::GLOBAL).unwrap();
        b.add_datasec(".data", 4).unwrap();
        b.add_datasec_var(v, 0, 4).unwrap();
        b.add_decl_tag("tag", f, Some(0)).unwrap();
        let blob = b.to_bytes();
        assert_eq!(crate::check::check_blob(&blob, None), vec![]);
        let t = b.get(s).unwrap();
        assert!(t.kind_flag() && t.vlen() == 2);
        assert!(
            b.get(e).unwrap().kind_flag(),
            "a negative value makes it signed"
        );
    }

    #[test]
    fn refuses_dangling_ids_and_wrong_order() {
        let mut b = Btf::new();
        assert!(b.add_ptr(TypeId(1)).is_err());
        assert!(
            b.add_field("x", TypeId::VOID, 0, 0).is_err(),
            "no struct yet"
        );
        let int = b.add_int("int", 4, 0).unwrap();
        assert!(b.add_enum_value("A", 1).is_err(), "the last type is an INT");
        assert!(b.add_func("f", int, 0).is_err(), "not a FUNC_PROTO");
        b.add_union("u", 4).unwrap();
        assert!(
            b.add_field("x", int, 8, 0).is_err(),
            "union member off zero"
        );
        assert!(b.add_int("", 4, 0).is_err());
        assert_eq!(b.type_count(), 3, "nothing was added by a refusal");
    }

    /// Found by the `builder` fuzz target: a FUNC_PROTO whose parameter was
    /// itself, a reference loop dedup refuses.
    #[test]
    fn refuses_a_record_that_contains_itself() {
        let mut b = Btf::new();
        let proto = b.add_func_proto(TypeId::VOID).unwrap();
        assert!(b.add_func_param("p", proto).is_err());
        let s = b.add_struct("s", 8).unwrap();
        assert!(b.add_field("self", s, 0, 0).is_err());
        let ptr = b.add_ptr(s).unwrap();
        b.add_struct("t", 8).unwrap();
        b.add_field("p", ptr, 0, 0).unwrap();
        assert_eq!(b.get(proto).unwrap().vlen(), 0);
        assert_eq!(b.get(s).unwrap().vlen(), 0);
    }

    /// Found by the `builder` fuzz target: a struct member of type DATASEC,
    /// which dedup refuses (and the kernel too).
    #[test]
    fn refuses_a_var_datasec_or_decl_tag_as_a_type() {
        let mut b = Btf::new();
        let int = b.add_int("int", 4, 0).unwrap();
        let var = b.add_var("v", int, linkage::GLOBAL).unwrap();
        let sec = b.add_datasec(".data", 4).unwrap();
        b.add_datasec_var(var, 0, 4).unwrap();
        let tag = b.add_decl_tag("t", var, None).unwrap();
        for not_a_type in [var, sec, tag] {
            assert!(b.add_ptr(not_a_type).is_err());
            assert!(b.add_typedef("td", not_a_type).is_err());
            assert!(b.add_array(not_a_type, int, 1).is_err());
            assert!(b.add_var("w", not_a_type, 0).is_err());
            b.add_struct("s", 4).unwrap();
            assert!(b.add_field("m", not_a_type, 0, 0).is_err());
            assert!(b.add_func_proto(not_a_type).is_err());
            b.add_func_proto(int).unwrap();
            assert!(b.add_func_param("p", not_a_type).is_err());
        }
        b.add_ptr(int).unwrap();
    }
}
