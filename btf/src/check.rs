//! Checks BTF against the rules the Linux kernel enforces when it loads BTF
//! (`kernel/bpf/btf.c`), so that a bad BTF is found before a kernel refuses it.
//!
//! The kernel checks in phases and stops at the first failure:
//! 1. the header and the layout of its sections (`btf_parse_hdr`,
//!    `btf_check_sec_info`), then the string section (`btf_parse_str_sec`);
//! 2. each record on its own, in id order (`btf_check_meta` and the per-kind
//!    `*_check_meta`): flags, names, vlen, sizes, offsets;
//! 3. the references between records (`btf_check_all_types`: the per-kind
//!    `*_resolve`, `*_check_member`, `btf_func_proto_check`,
//!    `btf_func_check`): loops, sizes, members that fit;
//! 4. the order of type tags and modifiers (`btf_check_type_tags`).
//!
//! [`check_blob`] runs all four on a blob; [`check`] runs 2 to 4 on a parsed
//! [`Btf`]. Like the kernel, a later phase only runs when the earlier ones
//! found nothing, since its rules assume them. Within a phase every type is
//! checked, with at most one finding per type, so the first finding is the one
//! the kernel would report (when the BTF has a single fault) and the rest
//! show how far the damage goes.
//!
//! The rules are those of the kernel that takes BTF through `BPF_BTF_LOAD`
//! (Linux 6.18): a split BTF is checked as the kernel checks module BTF over
//! vmlinux, its references into the base taken as already checked. Messages
//! are worded as in the kernel's verifier log so the two can be compared.

mod meta;
mod resolve;

use std::fmt;
use std::sync::Arc;

use crate::{Btf, Error, TypeId};

/// One broken rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The type the rule fails on; `None` for header and section rules.
    pub id: Option<TypeId>,
    /// The kernel function that enforces the rule, e.g. `"btf_struct_check_meta"`.
    pub rule: &'static str,
    /// What is wrong, in the words of the kernel's verifier log
    /// (e.g. `"Member exceeds struct_size"`).
    pub message: String,
}

impl Finding {
    fn blob(rule: &'static str, message: impl Into<String>) -> Finding {
        Finding {
            id: None,
            rule,
            message: message.into(),
        }
    }

    fn at(id: TypeId, rule: &'static str, message: impl Into<String>) -> Finding {
        Finding {
            id: Some(id),
            rule,
            message: message.into(),
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.id {
            Some(id) => write!(f, "[{id}] {} ({})", self.message, self.rule),
            None => write!(f, "{} ({})", self.message, self.rule),
        }
    }
}

/// The largest blob `BPF_BTF_LOAD` takes (`BTF_MAX_SIZE`).
pub const MAX_LOAD_SIZE: usize = 16 << 20;
/// The highest string offset a record may use (`BTF_MAX_NAME_OFFSET`).
pub const MAX_NAME_OFFSET: u32 = 0xff_ffff;
/// `BTF_INFO_MASK`: the `info` bits the kernel knows (16-bit vlen, 5-bit kind, kflag).
pub const INFO_MASK: u32 = 0x9f00_ffff;
/// The longest name the kernel takes (`KSYM_NAME_LEN`).
pub const MAX_NAME_LEN: usize = 512;

/// Checks a blob: its header and sections, then (if those are sound) its
/// types as [`check`] does. `base` makes it split BTF over that base.
pub fn check_blob(blob: &[u8], base: Option<&Arc<Btf>>) -> Vec<Finding> {
    let findings = check_sections(blob, base.is_some());
    if !findings.is_empty() {
        return findings;
    }
    let basic;
    let blob = match basic_header(blob) {
        Some(b) => {
            basic = b;
            &basic[..]
        }
        None => blob,
    };
    // Dangling ids and string offsets are the checks' to report, in the
    // kernel's order (after every record's own rules), not the parser's.
    match Btf::parse_split_unresolved(blob, base.cloned()) {
        Ok(btf) => check(&btf),
        Err(e) => record_failure(blob, base, e),
    }
}

/// The blob with the 24-byte header the kernel reads, when its `hdr_len`
/// differs: the kernel takes any `hdr_len` (even one not a multiple of 4,
/// which kbtf's parser refuses) whose bytes past the known fields are zero,
/// and reads fields past a short one as zero. Called once
/// [`check_sections`] found the header sound.
fn basic_header(blob: &[u8]) -> Option<Vec<u8>> {
    let known = crate::header::HDR_LEN_BASIC as usize;
    let hdr_len = u32::from_ne_bytes([blob[4], blob[5], blob[6], blob[7]]) as usize;
    if hdr_len == known {
        return None;
    }
    let mut basic = vec![0u8; known];
    let copied = hdr_len.min(known);
    basic[..copied].copy_from_slice(&blob[..copied]);
    basic[4..8].copy_from_slice(&(known as u32).to_ne_bytes());
    basic.extend_from_slice(&blob[hdr_len..]);
    Some(basic)
}

/// The parser stopped at a record it cannot size (an unknown kind, or one
/// running past the type section). The kernel checks each record before it
/// looks at the next, so the records before that one are checked first, then
/// that record's common part, in the kernel's order.
fn record_failure(blob: &[u8], base: Option<&Arc<Btf>>, e: Error) -> Vec<Finding> {
    let at = match &e {
        Error::UnknownKind { offset, .. } | Error::BadType { offset, .. } => *offset,
        Error::Truncated { what, offset, .. } if *what == "type record" => *offset,
        _ => return vec![parse_finding(e)],
    };
    // The same blob with its type section ending where the bad record starts.
    let hdr_len = u32::from_ne_bytes([blob[4], blob[5], blob[6], blob[7]]) as usize;
    let type_off = u32::from_ne_bytes([blob[8], blob[9], blob[10], blob[11]]) as usize;
    let mut prefix = blob.to_vec();
    let type_len = (at - hdr_len - type_off) as u32;
    prefix[12..16].copy_from_slice(&type_len.to_ne_bytes());
    let Ok(before) = Btf::parse_split_unresolved(&prefix, base.cloned()) else {
        return vec![parse_finding(e)];
    };
    let findings = meta::check_records(&before);
    if !findings.is_empty() {
        return findings;
    }
    let id = TypeId(before.type_count());
    let section_end =
        hdr_len + type_off + u32::from_ne_bytes([blob[12], blob[13], blob[14], blob[15]]) as usize;
    let left = section_end - at;
    let fail = |msg: String| vec![Finding::at(id, "btf_check_meta", msg)];
    if left < 12 {
        return fail(format!("meta_left:{left} meta_needed:12"));
    }
    let word = |i: usize| {
        let b = &blob[at + 4 * i..at + 4 * i + 4];
        u32::from_ne_bytes([b[0], b[1], b[2], b[3]])
    };
    let (name_off, info) = (word(0), word(1));
    if info & !INFO_MASK != 0 {
        return fail(format!("Invalid btf_info:{info:x}"));
    }
    let kind = crate::Info(info).raw_kind();
    if kind == 0 || kind > crate::MAX_KNOWN_KIND {
        return fail(format!("Invalid kind:{kind}"));
    }
    if name_off > MAX_NAME_OFFSET || before.str_at(crate::StrOff(name_off)).is_none() {
        return fail(format!("Invalid name_offset:{name_off}"));
    }
    match e {
        Error::Truncated { need, .. } => {
            fail(format!("meta_left:{} meta_needed:{}", left - 12, need - 12))
        }
        e => vec![parse_finding(e)],
    }
}

/// Checks the records of a parsed BTF (its own; a split BTF's base is taken
/// as checked) against the per-record, reference and type-tag rules. Type
/// ids and string offsets that do not resolve are reported, not trusted.
pub fn check(btf: &Btf) -> Vec<Finding> {
    let findings = meta::check_records(btf);
    if !findings.is_empty() {
        return findings;
    }
    let findings = resolve::check_references(btf);
    if !findings.is_empty() {
        return findings;
    }
    resolve::check_type_tags(btf)
}

/// The header, section layout and string section rules.
fn check_sections(blob: &[u8], split: bool) -> Vec<Finding> {
    let fail = |rule, msg: &str| vec![Finding::blob(rule, msg)];
    if !split && blob.len() > MAX_LOAD_SIZE {
        return fail(
            "btf_parse",
            &format!("BTF of {} bytes is over BTF_MAX_SIZE", blob.len()),
        );
    }
    // The kernel reads the header in its own byte order only.
    let word = |at: usize| -> u32 {
        blob.get(at..at + 4)
            .map_or(0, |b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
    };
    if blob.len() < 8 {
        return fail("btf_parse_hdr", "hdr_len not found");
    }
    let hdr_len = word(4) as usize;
    if blob.len() < hdr_len {
        return fail("btf_parse_hdr", "btf_header not found");
    }
    let known = crate::header::HDR_LEN_BASIC as usize;
    if hdr_len > known && blob[known..hdr_len].iter().any(|&b| b != 0) {
        return fail("btf_parse_hdr", "Unsupported btf_header");
    }
    // The kernel copies min(hdr_len, 24) bytes into a zeroed header: fields
    // past a short hdr_len (even the magic) read as zero.
    let mut hdr = [0u8; 24];
    let copied = hdr_len.min(known);
    hdr[..copied].copy_from_slice(&blob[..copied]);
    let field = |at: usize| u32::from_ne_bytes([hdr[at], hdr[at + 1], hdr[at + 2], hdr[at + 3]]);
    if u16::from_ne_bytes([hdr[0], hdr[1]]) != crate::header::MAGIC {
        return fail("btf_parse_hdr", "Invalid magic");
    }
    if hdr[2] != crate::header::VERSION {
        return fail("btf_parse_hdr", "Unsupported version");
    }
    if hdr[3] != 0 {
        return fail("btf_parse_hdr", "Unsupported flags");
    }
    if !split && blob.len() == hdr_len {
        return fail("btf_parse_hdr", "No data");
    }
    let (type_off, type_len, str_off, str_len) = (field(8), field(12), field(16), field(20));
    if let Some(msg) = section_layout(
        (blob.len() - hdr_len) as u32,
        [(type_off, type_len), (str_off, str_len)],
    ) {
        return fail("btf_check_sec_info", msg);
    }
    // The strings: last in the blob, NUL-terminated, "" first in a base.
    let data = &blob[hdr_len..];
    if str_off as usize + str_len as usize != data.len() {
        return fail("btf_parse_str_sec", "String section is not at the end");
    }
    let strs = &data[str_off as usize..];
    if !(split && strs.is_empty())
        && (strs.is_empty()
            || strs.len() - 1 > MAX_NAME_OFFSET as usize
            || strs.last() != Some(&0)
            || (!split && strs[0] != 0))
    {
        return fail("btf_parse_str_sec", "Invalid string section");
    }
    if type_off % 4 != 0 {
        return fail("btf_parse_type_sec", "Unaligned type_off");
    }
    if !split && type_len == 0 {
        return fail("btf_parse_type_sec", "No type found");
    }
    Vec::new()
}

/// The sections, sorted by offset, must tile the data after the header: no
/// gap, no overlap, nothing after them.
fn section_layout(data_len: u32, mut secs: [(u32, u32); 2]) -> Option<&'static str> {
    // The kernel orders them by the sign of the wrapped 32-bit difference of
    // offsets (then of lengths), so an offset near u32::MAX sorts first; and
    // its heap sort leaves two sections in place only when the first compares
    // strictly less.
    let cmp = |x: (u32, u32), y: (u32, u32)| match x.0.wrapping_sub(y.0) as i32 {
        0 => x.1.wrapping_sub(y.1) as i32,
        d => d,
    };
    if cmp(secs[0], secs[1]) >= 0 {
        secs.swap(0, 1);
    }
    let mut total = 0u32;
    for (off, len) in secs {
        if data_len < off {
            return Some("Invalid section offset");
        }
        if total < off {
            return Some("Unsupported section found");
        }
        if total > off {
            return Some("Section overlap found");
        }
        if data_len - total < len {
            return Some("Total section length too long");
        }
        total += len;
    }
    (total != data_len).then_some("Unsupported section found")
}

/// kbtf's parser refuses some BTF before the checks can look at it; those
/// refusals are findings too, worded as the kernel's where it has one.
fn parse_finding(e: Error) -> Finding {
    match e {
        Error::UnknownKind { id, kind, .. } => {
            Finding::at(id, "btf_check_meta", format!("Invalid kind:{kind}"))
        }
        Error::BadType { id, .. } => Finding::at(id, "btf_check_meta", "Invalid kind:0"),
        Error::StrOffOutOfRange { id, off, .. } => {
            Finding::at(id, "btf_check_meta", format!("Invalid name_offset:{off}"))
        }
        Error::TypeIdOutOfRange { id, .. } => Finding::at(id, "btf_resolve", "Invalid type_id"),
        Error::Invalid { id, what } => Finding::at(id, "btf_func_check", what),
        e => Finding::blob("kbtf parser", e.to_string()),
    }
}

/// `[A-Za-z_.][A-Za-z0-9_.]*`, at most [`MAX_NAME_LEN`] bytes, with the
/// kernel's `ctype`, which counts Latin-1 letters as letters.
pub(crate) fn is_identifier(name: &[u8]) -> bool {
    let letter = |c: u8| c.is_ascii_alphabetic() || (c >= 0xc0 && c != 0xd7 && c != 0xf7);
    let ok = |c: u8, first: bool| {
        (if first {
            letter(c)
        } else {
            letter(c) || c.is_ascii_digit()
        }) || c == b'_'
            || c == b'.'
    };
    match name.split_first() {
        Some((&c, rest)) => {
            name.len() <= MAX_NAME_LEN && ok(c, true) && rest.iter().all(|&c| ok(c, false))
        }
        None => false,
    }
}

/// A DATASEC name: any printable characters (the kernel's `isprint`, Latin-1
/// included), at least one, at most [`MAX_NAME_LEN`].
pub(crate) fn is_section_name(name: &[u8]) -> bool {
    let printable = |c: u8| (0x20..0x7f).contains(&c) || c >= 0xa0;
    !name.is_empty() && name.len() <= MAX_NAME_LEN && name.iter().all(|&c| printable(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_must_tile_the_data() {
        assert_eq!(section_layout(10, [(0, 4), (4, 6)]), None);
        assert_eq!(section_layout(10, [(4, 6), (0, 4)]), None);
        assert_eq!(
            section_layout(10, [(0, 4), (5, 5)]),
            Some("Unsupported section found")
        );
        assert_eq!(
            section_layout(10, [(0, 5), (4, 6)]),
            Some("Section overlap found")
        );
        assert_eq!(
            section_layout(10, [(0, 4), (4, 4)]),
            Some("Unsupported section found")
        );
        assert_eq!(
            section_layout(10, [(0, 4), (11, 0)]),
            Some("Invalid section offset")
        );
        // 0xffff_fff0 - 0 wraps to a negative difference: it sorts first.
        assert_eq!(
            section_layout(10, [(0, 4), (0xffff_fff0, 0)]),
            Some("Invalid section offset")
        );
        assert_eq!(
            section_layout(10, [(0, 4), (4, 7)]),
            Some("Total section length too long")
        );
    }

    #[test]
    fn names() {
        assert!(is_identifier(b"task_struct"));
        assert!(is_identifier(b"_x.y1"));
        assert!(is_identifier(b".L1"));
        assert!(!is_identifier(b"1x"));
        assert!(!is_identifier(b"a-b"));
        assert!(!is_identifier(b""));
        assert!(is_identifier(&[b'a'; MAX_NAME_LEN]));
        assert!(!is_identifier(&[b'a'; MAX_NAME_LEN + 1]));
        assert!(is_section_name(b".data..percpu"));
        assert!(is_section_name(b"?x y"));
        assert!(!is_section_name(b""));
        assert!(!is_section_name(b"a\tb"));
    }
}
