//! `Btf::resolve_size` and `Btf::find_member` against pahole 1.24's layout
//! of the same corpus vmlinux (`pahole -C STRUCT`): sizes and the offsets
//! of members, some of them inside anonymous unions.

use std::process::Command;

use kbtf_btf::{Btf, Kind};
use kbtf_testsupport::corpus;

/// (struct, members whose offsets pahole prints on a line `TYPE NAME; /* OFF SIZE */`).
const CASES: &[(&str, &[&str])] = &[
    ("task_struct", &["pid", "tgid", "stack", "flags", "mm"]),
    ("sk_buff", &["len", "data_len", "protocol", "head", "data"]),
    ("inode", &["i_mode", "i_ino", "i_sb"]),
    ("file", &["f_mode", "f_op", "f_inode"]),
];

/// pahole's offset and size of `member` in its `-C` output, and the
/// struct's size.
fn pahole_layout(text: &str, member: &str) -> Option<(u64, u64)> {
    let needle = format!(" {member};");
    text.lines()
        .find(|l| l.contains(&needle) && !l.contains(':'))
        .and_then(|l| {
            let nums = l.split("/*").nth(1)?;
            let mut it = nums
                .split_whitespace()
                .filter_map(|w| w.parse::<u64>().ok());
            Some((it.next()?, it.next()?))
        })
}

#[test]
fn sizes_and_member_offsets_match_pahole() {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let vmlinux = corpus.vmlinux();
    let btf = Btf::from_file(&vmlinux).unwrap();
    let mut checked = 0;
    for &(name, members) in CASES {
        let out = match Command::new("pahole")
            .arg("-C")
            .arg(name)
            .arg(&vmlinux)
            .output()
        {
            Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
            _ => {
                kbtf_testsupport::skip_unless_ci("pahole (Debian dwarves) is missing");
                return;
            }
        };
        let size: u64 = out
            .lines()
            .find_map(|l| l.trim().strip_prefix("/* size: "))
            .and_then(|r| r.split(',').next()?.parse().ok())
            .unwrap_or_else(|| panic!("no size in pahole's {name}"));
        let id = btf
            .find_by_name_kind(name.as_bytes(), Kind::Struct)
            .unwrap();
        assert_eq!(btf.resolve_size(id).unwrap(), size, "{name}");
        for m in members {
            let (off, msize) = pahole_layout(&out, m).unwrap_or_else(|| panic!("{name}.{m}"));
            let found = btf.find_member(id, m).unwrap().unwrap();
            assert_eq!(found.bit_offset as u64, off * 8, "{name}.{m}");
            assert_eq!(btf.resolve_size(found.ty).unwrap(), msize, "{name}.{m}");
            checked += 1;
        }
    }
    println!("{checked} member offsets and sizes as pahole prints them");
}
