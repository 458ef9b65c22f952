//! The plain text dump: one line per type, `[id] KIND 'name'` and the kind's
//! fields, then one tab-indented line per member, value, parameter or entry.
//! Names are written as the bytes they are, like bpftool's `printf("%s")`.

use std::io::{self, Write};

use super::out::Out;
use super::{
    entry_kind_name, enum_encoding_name, fwd_kind_name, int_encoding_name, kind_name, linkage_name,
    name,
};
use crate::{Btf, Kind, TypeRef};

/// Writes the text of `bpftool btf dump file` for `btf`'s own types.
pub fn write_raw(btf: &Btf, w: impl Write) -> io::Result<()> {
    let mut out = Out::new(w);
    for t in btf.own_types() {
        write_type(&mut out, btf, t, true);
        out.bytes(b"\n");
        out.end_record()?;
    }
    out.finish()
}

/// One type as bpftool prints it, without the final newline: its first line
/// and, with `elements`, one line per member, value, parameter or entry.
pub(super) fn write_type<W: Write>(out: &mut Out<W>, btf: &Btf, t: TypeRef<'_>, elements: bool) {
    // Without elements, each loop below walks none.
    let take = if elements { usize::MAX } else { 0 };
    out.bytes(b"[");
    out.num(t.id().0);
    out.bytes(b"] ");
    out.str(kind_name(t.kind()));
    quoted(out, b" ", name(btf, t.name_off()));
    match t.kind() {
        Kind::Int => {
            if let Some(int) = t.int() {
                field(out, " size=", t.size());
                field(out, " bits_offset=", int.offset);
                field(out, " nr_bits=", int.bits);
                out.bytes(b" encoding=");
                out.str(int_encoding_name(int.encoding));
            }
        }
        Kind::Ptr
        | Kind::Const
        | Kind::Volatile
        | Kind::Restrict
        | Kind::Typedef
        | Kind::TypeTag => field(out, " type_id=", t.type_id().0),
        Kind::Array => {
            if let Some(array) = t.array() {
                field(out, " type_id=", array.elem_type.0);
                field(out, " index_type_id=", array.index_type.0);
                field(out, " nr_elems=", array.nelems);
            }
        }
        Kind::Struct | Kind::Union => {
            size_vlen(out, t);
            for m in t.members().take(take) {
                quoted(out, b"\n\t", name(btf, m.name_off));
                field(out, " type_id=", m.type_id.0);
                field(out, " bits_offset=", m.bit_offset);
                if m.bitfield_size != 0 {
                    field(out, " bitfield_size=", m.bitfield_size);
                }
            }
        }
        Kind::Enum => {
            out.bytes(b" encoding=");
            out.str(enum_encoding_name(t.kind_flag()));
            size_vlen(out, t);
            for v in t.enum_values().take(take) {
                quoted(out, b"\n\t", name(btf, v.name_off));
                if t.kind_flag() {
                    field(out, " val=", v.val as i32);
                } else {
                    field(out, " val=", v.val);
                }
            }
        }
        Kind::Enum64 => {
            out.bytes(b" encoding=");
            out.str(enum_encoding_name(t.kind_flag()));
            size_vlen(out, t);
            for v in t.enum64_values().take(take) {
                quoted(out, b"\n\t", name(btf, v.name_off));
                if t.kind_flag() {
                    field(out, " val=", v.val as i64);
                    out.bytes(b"LL");
                } else {
                    field(out, " val=", v.val);
                    out.bytes(b"ULL");
                }
            }
        }
        Kind::Fwd => {
            out.bytes(b" fwd_kind=");
            out.str(fwd_kind_name(t.kind_flag()));
        }
        Kind::Func => {
            field(out, " type_id=", t.type_id().0);
            out.bytes(b" linkage=");
            out.str(linkage_name(t.vlen()));
        }
        Kind::FuncProto => {
            field(out, " ret_type_id=", t.type_id().0);
            field(out, " vlen=", t.vlen());
            for p in t.params().take(take) {
                quoted(out, b"\n\t", name(btf, p.name_off));
                field(out, " type_id=", p.type_id.0);
            }
        }
        Kind::Var => {
            // bpftool's format has the comma.
            field(out, " type_id=", t.type_id().0);
            out.bytes(b", linkage=");
            out.str(linkage_name(t.var_linkage().unwrap_or(u32::MAX)));
        }
        Kind::Datasec => {
            size_vlen(out, t);
            for v in t.datasec_vars().take(take) {
                field(out, "\n\ttype_id=", v.type_id.0);
                field(out, " offset=", v.offset);
                field(out, " size=", v.size);
                if let Some((kind, var_name)) = entry_kind_name(btf, v.type_id) {
                    out.bytes(b" (");
                    out.str(kind);
                    quoted(out, b" ", var_name);
                    out.bytes(b")");
                }
            }
        }
        Kind::Float => field(out, " size=", t.size()),
        Kind::DeclTag => {
            field(out, " type_id=", t.type_id().0);
            field(
                out,
                " component_idx=",
                t.decl_tag_component_idx().unwrap_or(-1),
            );
        }
        Kind::Unknown(raw) => {
            // kbtf's own addition: bpftool 7.1 cannot read such BTF at all.
            field(out, " raw_kind=", raw);
            field(out, " vlen=", t.vlen());
        }
    }
}

/// `prefix'name'`.
fn quoted<W: Write>(out: &mut Out<W>, prefix: &[u8], name: &[u8]) {
    out.bytes(prefix);
    out.bytes(b"'");
    out.bytes(name);
    out.bytes(b"'");
}

fn field<W: Write>(out: &mut Out<W>, label: &str, value: impl itoa::Integer) {
    out.str(label);
    out.num(value);
}

fn size_vlen<W: Write>(out: &mut Out<W>, t: TypeRef<'_>) {
    field(out, " size=", t.size());
    field(out, " vlen=", t.vlen());
}
