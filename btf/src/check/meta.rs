//! Phase 2: each record on its own (the kernel's `btf_check_meta` and the
//! per-kind `*_check_meta`). Nothing here follows a reference.

use super::{is_identifier, is_section_name, Finding, INFO_MASK, MAX_NAME_OFFSET};
use crate::{Btf, Kind, StrOff, TypeRef, MAX_TYPE_ID};

/// Every own record, in id order; at most one finding per record.
pub(super) fn check_records(btf: &Btf) -> Vec<Finding> {
    let mut findings = Vec::new();
    for t in btf.own_types() {
        if let Err((rule, message)) = check_record(btf, t) {
            findings.push(Finding::at(t.id(), rule, message));
        }
    }
    findings
}

type Verdict = Result<(), (&'static str, String)>;

fn fail(rule: &'static str, message: impl Into<String>) -> Verdict {
    Err((rule, message.into()))
}

fn name(btf: &Btf, off: StrOff) -> &[u8] {
    btf.str_at(off).unwrap_or_default()
}

fn name_off_valid(btf: &Btf, off: StrOff) -> bool {
    off.0 <= MAX_NAME_OFFSET && btf.str_at(off).is_some()
}

fn identifier(btf: &Btf, off: StrOff) -> bool {
    off.0 != 0 && is_identifier(name(btf, off))
}

fn check_record(btf: &Btf, t: TypeRef<'_>) -> Verdict {
    const RULE: &str = "btf_check_meta";
    let info = t.info().0;
    if info & !INFO_MASK != 0 {
        return fail(RULE, format!("Invalid btf_info:{info:x}"));
    }
    if let Kind::Unknown(k) = t.kind() {
        return fail(RULE, format!("Invalid kind:{k}"));
    }
    if !name_off_valid(btf, t.name_off()) {
        return fail(RULE, format!("Invalid name_offset:{}", t.name_off()));
    }
    match t.kind() {
        Kind::Int => int(t),
        Kind::Ptr
        | Kind::Typedef
        | Kind::Volatile
        | Kind::Const
        | Kind::Restrict
        | Kind::TypeTag => reference(btf, t),
        Kind::Fwd => fwd(btf, t),
        Kind::Array => array(t),
        Kind::Struct | Kind::Union => composite(btf, t),
        Kind::Enum | Kind::Enum64 => enumeration(btf, t),
        Kind::FuncProto => func_proto(t),
        Kind::Func => func(btf, t),
        Kind::Var => var(btf, t),
        Kind::Datasec => datasec(btf, t),
        Kind::Float => float(t),
        Kind::DeclTag => decl_tag(btf, t),
        Kind::Unknown(_) => unreachable!("checked above"),
    }
}

/// The checks several kinds share, in the kernel's order.
fn no_vlen(t: TypeRef<'_>, rule: &'static str) -> Verdict {
    if t.vlen() != 0 {
        return fail(rule, "vlen != 0");
    }
    Ok(())
}

fn no_kflag(t: TypeRef<'_>, rule: &'static str) -> Verdict {
    if t.kind_flag() {
        return fail(rule, "Invalid btf_info kind_flag");
    }
    Ok(())
}

fn type_id_valid(id: u32) -> bool {
    id <= MAX_TYPE_ID
}

fn int(t: TypeRef<'_>) -> Verdict {
    const RULE: &str = "btf_int_check_meta";
    no_vlen(t, RULE)?;
    no_kflag(t, RULE)?;
    let word = t.words()[3];
    if word & !0x0fff_ffff != 0 {
        return fail(RULE, format!("Invalid int_data:{word:x}"));
    }
    let data = crate::IntData::from_word(word);
    let bits = data.bits as u32 + data.offset as u32;
    if bits > 128 {
        return fail(RULE, "nr_bits exceeds 128");
    }
    if bits.div_ceil(8) > t.size() {
        return fail(RULE, "nr_bits exceeds type_size");
    }
    if !matches!(data.encoding, 0 | 1 | 2 | 4) {
        return fail(RULE, "Unsupported encoding");
    }
    Ok(())
}

/// PTR, TYPEDEF, the CV qualifiers and TYPE_TAG (`btf_ref_type_check_meta`).
fn reference(btf: &Btf, t: TypeRef<'_>) -> Verdict {
    const RULE: &str = "btf_ref_type_check_meta";
    no_vlen(t, RULE)?;
    // Since Linux 6.14 a TYPE_TAG's kind_flag marks a type attribute.
    if t.kind() != Kind::TypeTag {
        no_kflag(t, RULE)?;
    }
    if !type_id_valid(t.type_id().0) {
        return fail(RULE, "Invalid type_id");
    }
    let named_ok = match t.kind() {
        Kind::Typedef => identifier(btf, t.name_off()),
        Kind::TypeTag => !name(btf, t.name_off()).is_empty(),
        _ => t.name_off().0 == 0,
    };
    if !named_ok {
        return fail(RULE, "Invalid name");
    }
    Ok(())
}

fn fwd(btf: &Btf, t: TypeRef<'_>) -> Verdict {
    const RULE: &str = "btf_fwd_check_meta";
    no_vlen(t, RULE)?;
    if t.type_id().0 != 0 {
        return fail(RULE, "type != 0");
    }
    if !identifier(btf, t.name_off()) {
        return fail(RULE, "Invalid name");
    }
    Ok(())
}

fn array(t: TypeRef<'_>) -> Verdict {
    const RULE: &str = "btf_array_check_meta";
    if t.name_off().0 != 0 {
        return fail(RULE, "Invalid name");
    }
    no_vlen(t, RULE)?;
    no_kflag(t, RULE)?;
    if t.size() != 0 {
        return fail(RULE, "size != 0");
    }
    let a = t.array().expect("an ARRAY record");
    if a.elem_type.0 == 0 || !type_id_valid(a.elem_type.0) {
        return fail(RULE, "Invalid elem");
    }
    if a.index_type.0 == 0 || !type_id_valid(a.index_type.0) {
        return fail(RULE, "Invalid index");
    }
    Ok(())
}

/// STRUCT and UNION: names, and member offsets in order and inside the size.
fn composite(btf: &Btf, t: TypeRef<'_>) -> Verdict {
    const RULE: &str = "btf_struct_check_meta";
    if t.name_off().0 != 0 && !identifier(btf, t.name_off()) {
        return fail(RULE, "Invalid name");
    }
    let is_union = t.kind() == Kind::Union;
    let mut last_offset = 0;
    for m in t.members() {
        if !name_off_valid(btf, m.name_off) {
            return fail(RULE, format!("Invalid member name_offset:{}", m.name_off));
        }
        if m.name_off.0 != 0 && !identifier(btf, m.name_off) {
            return fail(RULE, "Invalid name");
        }
        if m.type_id.0 == 0 || !type_id_valid(m.type_id.0) {
            return fail(RULE, "Invalid type_id");
        }
        // A later member may share the last one's offset (`char a[0];`), not precede it.
        if (is_union && m.bit_offset != 0) || last_offset > m.bit_offset {
            return fail(RULE, "Invalid member bits_offset");
        }
        if m.bit_offset.div_ceil(8) > t.size() {
            return fail(RULE, "Member bits_offset exceeds its struct size");
        }
        last_offset = m.bit_offset;
    }
    Ok(())
}

/// ENUM and ENUM64: a power-of-two size up to 8, named values.
fn enumeration(btf: &Btf, t: TypeRef<'_>) -> Verdict {
    let rule = if t.kind() == Kind::Enum {
        "btf_enum_check_meta"
    } else {
        "btf_enum64_check_meta"
    };
    if t.size() > 8 || !t.size().is_power_of_two() {
        return fail(rule, "Unexpected size");
    }
    if t.name_off().0 != 0 && !identifier(btf, t.name_off()) {
        return fail(rule, "Invalid name");
    }
    let names = t
        .enum_values()
        .map(|v| v.name_off)
        .chain(t.enum64_values().map(|v| v.name_off));
    for off in names {
        if !name_off_valid(btf, off) {
            return fail(rule, format!("Invalid name_offset:{off}"));
        }
        if !identifier(btf, off) {
            return fail(rule, "Invalid name");
        }
    }
    Ok(())
}

fn func_proto(t: TypeRef<'_>) -> Verdict {
    const RULE: &str = "btf_func_proto_check_meta";
    if t.name_off().0 != 0 {
        return fail(RULE, "Invalid name");
    }
    no_kflag(t, RULE)
}

fn func(btf: &Btf, t: TypeRef<'_>) -> Verdict {
    const RULE: &str = "btf_func_check_meta";
    if !identifier(btf, t.name_off()) {
        return fail(RULE, "Invalid name");
    }
    // vlen is the linkage: static or global; extern is for BPF objects only.
    if t.vlen() > crate::linkage::GLOBAL {
        return fail(RULE, "Invalid func linkage");
    }
    no_kflag(t, RULE)
}

fn var(btf: &Btf, t: TypeRef<'_>) -> Verdict {
    const RULE: &str = "btf_var_check_meta";
    no_vlen(t, RULE)?;
    no_kflag(t, RULE)?;
    if !identifier(btf, t.name_off()) {
        return fail(RULE, "Invalid name");
    }
    if t.type_id().0 == 0 || !type_id_valid(t.type_id().0) {
        return fail(RULE, "Invalid type_id");
    }
    let linkage = t.var_linkage().expect("a VAR record");
    if linkage != crate::linkage::STATIC && linkage != crate::linkage::GLOBAL {
        return fail(RULE, "Linkage not supported");
    }
    Ok(())
}

/// DATASEC: entries sorted, not overlapping, each inside the section.
fn datasec(btf: &Btf, t: TypeRef<'_>) -> Verdict {
    const RULE: &str = "btf_datasec_check_meta";
    let size = t.size();
    if size == 0 {
        return fail(RULE, "size == 0");
    }
    no_kflag(t, RULE)?;
    if t.name_off().0 == 0 || !is_section_name(name(btf, t.name_off())) {
        return fail(RULE, "Invalid name");
    }
    let (mut last_end, mut sum) = (0u64, 0u64);
    for v in t.datasec_vars() {
        if v.type_id.0 == 0 || !type_id_valid(v.type_id.0) {
            return fail(RULE, "Invalid type_id");
        }
        if (v.offset as u64) < last_end || v.offset >= size {
            return fail(RULE, "Invalid offset");
        }
        if v.size == 0 || v.size > size {
            return fail(RULE, "Invalid size");
        }
        // The kernel adds in 32 bits: an end past u32::MAX wraps to a small one.
        last_end = v.offset.wrapping_add(v.size) as u64;
        if last_end > size as u64 {
            return fail(RULE, "Invalid offset+size");
        }
        sum += v.size as u64;
    }
    if (size as u64) < sum {
        return fail(RULE, "Invalid btf_info size");
    }
    Ok(())
}

fn float(t: TypeRef<'_>) -> Verdict {
    const RULE: &str = "btf_float_check_meta";
    no_vlen(t, RULE)?;
    no_kflag(t, RULE)?;
    if !matches!(t.size(), 2 | 4 | 8 | 12 | 16) {
        return fail(RULE, "Invalid type_size");
    }
    Ok(())
}

fn decl_tag(btf: &Btf, t: TypeRef<'_>) -> Verdict {
    const RULE: &str = "btf_decl_tag_check_meta";
    if name(btf, t.name_off()).is_empty() {
        return fail(RULE, "Invalid value");
    }
    no_vlen(t, RULE)?;
    // kind_flag (a raw attribute, Linux 6.14+) is allowed.
    if t.decl_tag_component_idx().expect("a DECL_TAG record") < -1 {
        return fail(RULE, "Invalid component_idx");
    }
    Ok(())
}
