//! The JSON dump: `{"types":[...]}` with one object per type, keys and nesting
//! as in `bpftool -j btf dump file`, written compactly as bpftool does.
//!
//! Two deliberate differences, both where bpftool's output is not what the
//! BTF says:
//! - An unsigned ENUM value of 2^31 or more: bpftool 7.1 passes the record's
//!   signed 32-bit field to its unsigned 64-bit writer, so 0xefffffff comes
//!   out as 18446744073441116159. kbtf writes 4026531839, as both tools'
//!   text dumps do.
//! - Names are JSON strings that read back as the name: a backslash is
//!   escaped as `\\` (bpftool's writer turns it into `\n`), control
//!   characters are escaped (bpftool writes most of them raw, which no JSON
//!   parser accepts) and bytes that are not UTF-8 become U+FFFD (bpftool
//!   writes them raw, likewise unreadable).

use std::io::{self, Write};

use super::out::Out;
use super::{enum_encoding_name, fwd_kind_name, int_encoding_name, kind_name, linkage_name, name};
use crate::{Btf, Kind, TypeRef};

/// Writes the JSON of `bpftool -j btf dump file` for `btf`'s own types.
pub fn write_json(btf: &Btf, w: impl Write) -> io::Result<()> {
    let mut out = Out::new(w);
    out.bytes(b"{\"types\":[");
    for (i, t) in btf.own_types().enumerate() {
        if i > 0 {
            out.bytes(b",");
        }
        write_type(&mut out, btf, t)?;
        out.end_record()?;
    }
    out.bytes(b"]}\n");
    out.finish()
}

fn write_type<W: Write>(out: &mut Out<W>, btf: &Btf, t: TypeRef<'_>) -> io::Result<()> {
    out.bytes(b"{");
    num(out, "\"id\":", t.id().0);
    out.bytes(b",\"kind\":\"");
    out.str(kind_name(t.kind()));
    out.bytes(b"\",\"name\":");
    string(out, name(btf, t.name_off()))?;
    match t.kind() {
        Kind::Int => {
            if let Some(int) = t.int() {
                num(out, ",\"size\":", t.size());
                num(out, ",\"bits_offset\":", int.offset);
                num(out, ",\"nr_bits\":", int.bits);
                word(out, ",\"encoding\":", int_encoding_name(int.encoding));
            }
        }
        Kind::Ptr
        | Kind::Const
        | Kind::Volatile
        | Kind::Restrict
        | Kind::Typedef
        | Kind::TypeTag => num(out, ",\"type_id\":", t.type_id().0),
        Kind::Array => {
            if let Some(array) = t.array() {
                num(out, ",\"type_id\":", array.elem_type.0);
                num(out, ",\"index_type_id\":", array.index_type.0);
                num(out, ",\"nr_elems\":", array.nelems);
            }
        }
        Kind::Struct | Kind::Union => {
            size_vlen(out, t);
            out.bytes(b",\"members\":[");
            for (i, m) in t.members().enumerate() {
                element_start(out, i, b"{\"name\":");
                string(out, name(btf, m.name_off))?;
                num(out, ",\"type_id\":", m.type_id.0);
                num(out, ",\"bits_offset\":", m.bit_offset);
                if m.bitfield_size != 0 {
                    num(out, ",\"bitfield_size\":", m.bitfield_size);
                }
                out.bytes(b"}");
            }
            out.bytes(b"]");
        }
        Kind::Enum => {
            word(out, ",\"encoding\":", enum_encoding_name(t.kind_flag()));
            size_vlen(out, t);
            out.bytes(b",\"values\":[");
            for (i, v) in t.enum_values().enumerate() {
                element_start(out, i, b"{\"name\":");
                string(out, name(btf, v.name_off))?;
                if t.kind_flag() {
                    num(out, ",\"val\":", v.val as i32);
                } else {
                    num(out, ",\"val\":", v.val);
                }
                out.bytes(b"}");
            }
            out.bytes(b"]");
        }
        Kind::Enum64 => {
            word(out, ",\"encoding\":", enum_encoding_name(t.kind_flag()));
            size_vlen(out, t);
            out.bytes(b",\"values\":[");
            for (i, v) in t.enum64_values().enumerate() {
                element_start(out, i, b"{\"name\":");
                string(out, name(btf, v.name_off))?;
                if t.kind_flag() {
                    num(out, ",\"val\":", v.val as i64);
                } else {
                    num(out, ",\"val\":", v.val);
                }
                out.bytes(b"}");
            }
            out.bytes(b"]");
        }
        Kind::Fwd => word(out, ",\"fwd_kind\":", fwd_kind_name(t.kind_flag())),
        Kind::Func => {
            num(out, ",\"type_id\":", t.type_id().0);
            word(out, ",\"linkage\":", linkage_name(t.vlen()));
        }
        Kind::FuncProto => {
            num(out, ",\"ret_type_id\":", t.type_id().0);
            num(out, ",\"vlen\":", t.vlen());
            out.bytes(b",\"params\":[");
            for (i, p) in t.params().enumerate() {
                element_start(out, i, b"{\"name\":");
                string(out, name(btf, p.name_off))?;
                num(out, ",\"type_id\":", p.type_id.0);
                out.bytes(b"}");
            }
            out.bytes(b"]");
        }
        Kind::Var => {
            num(out, ",\"type_id\":", t.type_id().0);
            let linkage = t.var_linkage().unwrap_or(u32::MAX);
            word(out, ",\"linkage\":", linkage_name(linkage));
        }
        Kind::Datasec => {
            size_vlen(out, t);
            out.bytes(b",\"vars\":[");
            for (i, v) in t.datasec_vars().enumerate() {
                element_start(out, i, b"{");
                num(out, "\"type_id\":", v.type_id.0);
                num(out, ",\"offset\":", v.offset);
                num(out, ",\"size\":", v.size);
                out.bytes(b"}");
            }
            out.bytes(b"]");
        }
        Kind::Float => num(out, ",\"size\":", t.size()),
        Kind::DeclTag => {
            num(out, ",\"type_id\":", t.type_id().0);
            let idx = t.decl_tag_component_idx().unwrap_or(-1);
            num(out, ",\"component_idx\":", idx);
        }
        Kind::Unknown(raw) => {
            // kbtf's own addition, as in the text dump.
            num(out, ",\"raw_kind\":", raw);
            num(out, ",\"vlen\":", t.vlen());
        }
    }
    out.bytes(b"}");
    Ok(())
}

fn element_start<W: Write>(out: &mut Out<W>, i: usize, open: &[u8]) {
    if i > 0 {
        out.bytes(b",");
    }
    out.bytes(open);
}

/// `label` (the comma, the quoted key and the colon) and a number.
fn num<W: Write>(out: &mut Out<W>, label: &str, value: impl itoa::Integer) {
    out.str(label);
    out.num(value);
}

/// `label` and one of the fixed words (`"SIGNED"`, `"static"`), which need no escaping.
fn word<W: Write>(out: &mut Out<W>, label: &str, value: &str) {
    out.str(label);
    out.bytes(b"\"");
    out.str(value);
    out.bytes(b"\"");
}

fn size_vlen<W: Write>(out: &mut Out<W>, t: TypeRef<'_>) {
    num(out, ",\"size\":", t.size());
    num(out, ",\"vlen\":", t.vlen());
}

/// A name as a JSON string, escaped as serde_json escapes (a test checks
/// every ASCII character against it): `"`, `\\` and control characters; the
/// rest as UTF-8, with U+FFFD for bytes that are not.
fn string<W: Write>(out: &mut Out<W>, name: &[u8]) -> io::Result<()> {
    out.bytes(b"\"");
    let plain = name
        .iter()
        .all(|&b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\');
    if plain {
        out.bytes(name);
        out.bytes(b"\"");
        return Ok(());
    }
    for c in String::from_utf8_lossy(name).chars() {
        let escape: &[u8] = match c {
            '"' => b"\\\"",
            '\\' => b"\\\\",
            '\u{8}' => b"\\b",
            '\t' => b"\\t",
            '\n' => b"\\n",
            '\u{c}' => b"\\f",
            '\r' => b"\\r",
            c if c < ' ' => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let b = c as usize;
                out.bytes(b"\\u00");
                out.bytes(&[HEX[b >> 4], HEX[b & 0xf]]);
                continue;
            }
            c => {
                out.bytes(c.encode_utf8(&mut [0; 4]).as_bytes());
                continue;
            }
        };
        out.bytes(escape);
    }
    out.bytes(b"\"");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let mut names: Vec<Vec<u8>> = (0u8..0x80).map(|b| vec![b]).collect();
        names.push(b"plain".to_vec());
        names.push("\u{e9}t\u{e9} \u{1f980}".as_bytes().to_vec());
        names.push(b"bad\xff\xfeutf8\x01\"\\".to_vec());
        for name in names {
            let mut text = Vec::new();
            let mut out = Out::new(&mut text);
            string(&mut out, &name).unwrap();
            out.finish().unwrap();
            let want = serde_json::to_string(&String::from_utf8_lossy(&name)).unwrap();
            assert_eq!(String::from_utf8(text).unwrap(), want, "{name:?}");
        }
    }
}
