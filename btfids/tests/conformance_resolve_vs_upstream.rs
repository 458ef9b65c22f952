//! Conformance on the Debian corpus: every file with `.BTF_ids` (the
//! vmlinux and seven modules), checked against what Debian shipped, against
//! upstream's resolve_btfids and against bpftool's view of the BTF.
//!
//! - kbtf on a shipped file (processed once by upstream: sets sorted,
//!   symbols stale) leaves `.BTF_ids` as shipped and puts every symbol at
//!   its own entry; runs 1, 2 and 3 give byte-identical files.
//! - On a "fresh" copy (ids and counts zeroed, each kfunc's flags put back
//!   in its symbol's slot, as the linker leaves it), upstream's tool
//!   restores the shipped bytes (which validates the copy) and so does kbtf.

use kbtf_testsupport::corpus;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use kbtf_btf::{Btf, BtfView};
use kbtf_btfids::{resolve, IdsElf};
use object::{Object, ObjectSection, ObjectSymbol};

const UPSTREAM: &str =
    "/usr/lib/linux-kbuild-6.12.117+deb12/tools/bpf/resolve_btfids/resolve_btfids";

/// (kind, name) -> first id, as bpftool dumps the BTF.
type Oracle = HashMap<(String, String), u32>;

/// bpftool dumps only a split BTF's own types: base ids come from the base's oracle.
fn bpftool_ids_over(file: &Path, base: &Path, base_oracle: &Oracle) -> Oracle {
    let mut map = base_oracle.clone();
    for (k, v) in bpftool_ids(file, Some(base)) {
        map.entry(k).or_insert(v);
    }
    map
}

fn bpftool_ids(file: &Path, base: Option<&Path>) -> Oracle {
    let mut cmd = Command::new("bpftool");
    if let Some(b) = base {
        cmd.arg("-B").arg(b);
    }
    let out = cmd
        .args(["btf", "dump", "file"])
        .arg(file)
        .output()
        .expect("bpftool");
    assert!(
        out.status.success(),
        "bpftool: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut map = Oracle::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Some(rest) = line.strip_prefix('[') else {
            continue;
        };
        let mut it = rest.splitn(3, ' ');
        let (Some(id), Some(kind), Some(name)) = (it.next(), it.next(), it.next()) else {
            continue;
        };
        let kind = match kind {
            "FUNC" => "func",
            "STRUCT" => "struct",
            "UNION" => "union",
            "TYPEDEF" => "typedef",
            _ => continue,
        };
        let Some(name) = name.strip_prefix('\'').and_then(|n| n.split('\'').next()) else {
            continue;
        };
        let id: u32 = id.trim_end_matches(']').parse().unwrap();
        map.entry((kind.into(), name.into())).or_insert(id);
    }
    map
}

/// An id symbol as the object crate reads it: kind, name, section offset, size.
struct Sym {
    kind: String,
    name: String,
    offset: u64,
    size: u64,
}

fn id_symbols(bytes: &[u8]) -> (Vec<u8>, u64, Vec<Sym>) {
    let file = object::File::parse(bytes).unwrap();
    let sec = file.section_by_name(".BTF_ids").unwrap();
    let mut syms = Vec::new();
    for s in file.symbols() {
        if s.section_index() != Some(sec.index()) {
            continue;
        }
        let Some(rest) = s.name().unwrap().strip_prefix("__BTF_ID__") else {
            continue;
        };
        let (kind, tail) = rest.split_once("__").unwrap();
        let name = if kind.starts_with("set") {
            tail.to_string()
        } else {
            tail[..tail.rfind("__").unwrap()].to_string()
        };
        syms.push(Sym {
            kind: kind.into(),
            name,
            offset: s.address() - sec.address(),
            size: s.size(),
        });
    }
    let range = sec.file_range().unwrap();
    (sec.data().unwrap().to_vec(), range.0, syms)
}

fn word(b: &[u8], off: u64) -> u32 {
    u32::from_le_bytes(b[off as usize..off as usize + 4].try_into().unwrap())
}

fn put(b: &mut [u8], off: u64, v: u32) {
    b[off as usize..off as usize + 4].copy_from_slice(&v.to_le_bytes());
}

/// Sets as (kind, offset, cnt) and a symbol's set8 if it is a member of one.
fn set8_of(syms: &[Sym], off: u64) -> Option<(u64, u64)> {
    syms.iter()
        .filter(|s| s.kind == "set8")
        .map(|s| (s.offset, s.offset + s.size))
        .find(|&(a, e)| off > a && off < e)
}

/// The shipped file with its ids and counts zeroed and each set8 member's
/// flags moved back into its symbol's slot.
fn fresh_copy(bytes: &[u8], oracle: &Oracle) -> Vec<u8> {
    let (sec, file_off, syms) = id_symbols(bytes);
    let mut fresh = sec.clone();
    for s in &syms {
        put(&mut fresh, s.offset, 0);
    }
    for s in syms.iter().filter(|s| s.kind == "set8") {
        let n = (s.size / 8 - 1) as usize;
        let mut taken = vec![false; n];
        for m in syms.iter().filter(|m| !m.kind.starts_with("set")) {
            if set8_of(&syms, m.offset).map(|x| x.0) != Some(s.offset) {
                continue;
            }
            let id = oracle
                .get(&(m.kind.clone(), m.name.clone()))
                .copied()
                .unwrap_or(0);
            let j = (0..n)
                .find(|&j| !taken[j] && word(&sec, s.offset + 8 + 8 * j as u64) == id)
                .unwrap_or_else(|| panic!("{} has no entry in its set", m.name));
            taken[j] = true;
            put(
                &mut fresh,
                m.offset + 4,
                word(&sec, s.offset + 8 + 8 * j as u64 + 4),
            );
        }
    }
    let mut out = bytes.to_vec();
    out[file_off as usize..][..fresh.len()].copy_from_slice(&fresh);
    out
}

/// kbtf resolving in place, reading names straight from the blobs (as the
/// CLI does); the result must not differ from resolving through the `Btf` model.
fn kbtf(bytes: &[u8], base: Option<(&Arc<Btf>, &BtfView)>) -> Vec<u8> {
    let elf = IdsElf::parse(bytes).unwrap();
    let blob = kbtf_btf::input::btf_blob(bytes).unwrap();
    let names = BtfView::parse_split(&blob, base.map(|b| b.1)).unwrap();
    let outcome = resolve(&elf, &names, &[]).unwrap();
    let btf = Btf::parse_split(&blob, base.map(|b| b.0.clone())).unwrap();
    let by_model = resolve(&elf, &btf, &[]).unwrap();
    assert!(outcome.section == by_model.section && outcome.moves == by_model.moves);
    outcome.apply(&elf)
}

fn upstream(bytes: &[u8], base: Option<&Path>, dir: &Path) -> Vec<u8> {
    let f = dir.join("upstream.elf");
    std::fs::write(&f, bytes).unwrap();
    let mut cmd = Command::new(UPSTREAM);
    if let Some(b) = base {
        cmd.arg("-b").arg(b);
    }
    let st = cmd.arg(&f).status().expect("upstream resolve_btfids");
    assert!(st.success());
    std::fs::read(&f).unwrap()
}

/// Every member symbol sits at an entry holding its own id (bpftool's) and,
/// in a set8, the flags Debian shipped for that function.
fn check_owners(bytes: &[u8], shipped: &[u8], oracle: &Oracle, what: &str) -> usize {
    let (sec, _, syms) = id_symbols(bytes);
    let mut checked = 0;
    for m in syms.iter().filter(|m| !m.kind.starts_with("set")) {
        let id = oracle
            .get(&(m.kind.clone(), m.name.clone()))
            .copied()
            .unwrap_or(0);
        assert_eq!(
            word(&sec, m.offset),
            id,
            "{what}: {} {} is not at its own id",
            m.kind,
            m.name
        );
        if let Some((a, e)) = set8_of(&syms, m.offset) {
            let shipped_flags = (a + 8..e)
                .step_by(8)
                .find(|&o| word(shipped, o) == id)
                .map(|o| word(shipped, o + 4))
                .unwrap();
            assert_eq!(
                word(&sec, m.offset + 4),
                shipped_flags,
                "{what}: flags of {}",
                m.name
            );
            checked += 1;
        }
    }
    checked
}

fn files_with_btf_ids(c: &corpus::Corpus) -> Vec<PathBuf> {
    let mut out = vec![c.vmlinux()];
    for m in c.modules() {
        let bytes = std::fs::read(&m).unwrap();
        let file = object::File::parse(&*bytes).unwrap();
        if file.section_by_name(".BTF_ids").is_some() {
            out.push(m);
        }
    }
    out
}

#[test]
fn corpus_btf_ids_identity_and_idempotence() {
    let Some(c) = corpus::Corpus::find() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let vmlinux = c.vmlinux();
    let base = Arc::new(Btf::from_file(&vmlinux).unwrap());
    let vmlinux_bytes = std::fs::read(&vmlinux).unwrap();
    let base_blob = kbtf_btf::input::btf_blob(&vmlinux_bytes).unwrap();
    let base_view = BtfView::parse(&base_blob).unwrap();
    let files = files_with_btf_ids(&c);
    let names: Vec<String> = files
        .iter()
        .skip(1)
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for want in [
        "nf_nat.ko",
        "nf_conntrack.ko",
        "nf_flow_table.ko",
        "xfrm_interface.ko",
        "tcp_dctcp.ko",
        "tcp_bbr.ko",
        "fou.ko",
    ] {
        assert!(names.iter().any(|n| n == want), "{want} has no .BTF_ids");
    }
    let base_oracle = bpftool_ids(&vmlinux, None);
    let mut members = 0;
    for path in &files {
        let is_vmlinux = path == &vmlinux;
        let (b, bpath) = if is_vmlinux {
            (None, None)
        } else {
            (Some((&base, &base_view)), Some(vmlinux.as_path()))
        };
        let shipped_bytes = std::fs::read(path).unwrap();
        let shipped = id_symbols(&shipped_bytes).0;
        let oracle = match bpath {
            Some(bp) => bpftool_ids_over(path, bp, &base_oracle),
            None => base_oracle.clone(),
        };
        let name = path.file_name().unwrap().to_string_lossy();

        let once = kbtf(&shipped_bytes, b);
        assert_eq!(
            id_symbols(&once).0,
            shipped,
            "{name}: run 1 changed .BTF_ids"
        );
        let twice = kbtf(&once, b);
        let thrice = kbtf(&twice, b);
        assert!(
            once == twice && twice == thrice,
            "{name}: runs 1, 2, 3 differ"
        );
        members += check_owners(&once, &shipped, &oracle, &name);

        let fresh = fresh_copy(&shipped_bytes, &oracle);
        assert_eq!(
            id_symbols(&upstream(&fresh, bpath, dir.path())).0,
            shipped,
            "{name}: fresh copy is not what upstream saw"
        );
        let from_fresh = kbtf(&fresh, b);
        assert_eq!(
            id_symbols(&from_fresh).0,
            shipped,
            "{name}: fresh copy not restored"
        );
        check_owners(&from_fresh, &shipped, &oracle, &name);
        assert_eq!(
            kbtf(&from_fresh, b),
            from_fresh,
            "{name}: second run on fresh input changed the file"
        );
        eprintln!("{name}: identical to Debian, idempotent");
    }
    eprintln!(
        "checked {} files with .BTF_ids ({members} set8 members)",
        files.len()
    );
}

/// Upstream's second run pairs ids with other functions' flags; kbtf's doesn't.
#[test]
fn upstream_rerun_swaps_kfunc_flags() {
    let Some(c) = corpus::Corpus::find() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let vmlinux = c.vmlinux();
    let path = c.module("nf_conntrack.ko");
    let shipped_bytes = std::fs::read(&path).unwrap();
    let shipped = id_symbols(&shipped_bytes).0;
    let oracle = bpftool_ids(&path, Some(&vmlinux));
    let again = upstream(&shipped_bytes, Some(&vmlinux), dir.path());
    let (sec, _, _) = id_symbols(&again);
    assert_ne!(sec, shipped, "upstream's second run is expected to differ");
    let id = oracle[&("func".to_string(), "bpf_ct_change_status".to_string())];
    let flags = |s: &[u8]| {
        (0..s.len() as u64 / 4 - 1)
            .find(|&w| word(s, w * 4) == id && w % 2 == 0)
            .map(|w| word(s, w * 4 + 4))
    };
    eprintln!(
        "bpf_ct_change_status flags: shipped {:#x}, after upstream's 2nd run {:#x}",
        flags(&shipped).unwrap(),
        flags(&sec).unwrap()
    );
    assert_ne!(flags(&shipped), flags(&sec));
}
