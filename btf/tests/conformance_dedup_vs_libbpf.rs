//! kbtf's dedup against libbpf 1.1.2's `btf__dedup` (the system libbpf, through
//! `testdata/oracle/btf_dedup.c`), byte for byte, on inputs built from the
//! real corpus: vmlinux with copies of itself, split BTF of several modules
//! merged, every shipped module re-deduplicated, and small hand-made graphs.
//! Split inputs are deduplicated a second time over a base index of their
//! base (frozen candidates, as `kbtf gen` uses them), with the same result.

use kbtf_testsupport::corpus;
use kbtf_testsupport::oracle;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use kbtf_btf::base_index::{BaseIndex, BaseKey};
use kbtf_btf::dedup::{dedup, dedup_owned, BaseCandidates, DedupOptions};
use kbtf_btf::input::{btf_blob, FileBytes};
use kbtf_btf::{Btf, Info, Kind, StrOff, TypeId};

fn oracle() -> Option<&'static Path> {
    oracle::btf_dedup()
}

/// A scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("dedup_libbpf")
        .join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The corpus's vmlinux BTF, parsed once, and its raw blob on disk for the oracle.
fn vmlinux(corpus: &corpus::Corpus) -> (Arc<Btf>, PathBuf) {
    static VMLINUX: OnceLock<(Arc<Btf>, PathBuf)> = OnceLock::new();
    VMLINUX
        .get_or_init(|| {
            let bytes = FileBytes::open(&corpus.vmlinux()).unwrap();
            let blob = btf_blob(&bytes).unwrap();
            let path = scratch("base").join("vmlinux.btf");
            std::fs::write(&path, &blob[..]).unwrap();
            (Arc::new(Btf::parse(&blob).unwrap()), path)
        })
        .clone()
}

fn module(corpus: &corpus::Corpus, name: &str, base: &Arc<Btf>) -> Btf {
    let bytes = FileBytes::open(&corpus.module(name)).unwrap();
    Btf::parse_split(&btf_blob(&bytes).unwrap(), Some(base.clone())).unwrap()
}

/// Dedups `input` with libbpf and with kbtf and asserts the same bytes.
/// Returns (own types in, own types out).
fn check(oracle: &Path, what: &str, input: &Btf, base: Option<(&Arc<Btf>, &Path)>) -> (u32, u32) {
    check_all(oracle, &[(what.to_string(), input.to_bytes())], base)[0]
}

/// [`check`] for several inputs over the same base, with one oracle run.
fn check_all(
    oracle: &Path,
    inputs: &[(String, Vec<u8>)],
    base: Option<(&Arc<Btf>, &Path)>,
) -> Vec<(u32, u32)> {
    let dir = scratch(
        &inputs[0]
            .0
            .replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
    );
    let mut cmd = Command::new(oracle);
    if let Some((_, path)) = base {
        cmd.arg("-b").arg(path);
    }
    for (i, (_, blob)) in inputs.iter().enumerate() {
        let inp = dir.join(format!("{i}.in.btf"));
        std::fs::write(&inp, blob).unwrap();
        cmd.arg(inp).arg(dir.join(format!("{i}.out.btf")));
    }
    let status = cmd.status().unwrap();
    assert!(status.success(), "{}: libbpf oracle failed", inputs[0].0);

    // Split inputs are also deduplicated over a base index of their base,
    // as `kbtf gen` does: the frozen candidates must give libbpf's output too.
    let indexed = base.map(|(b, _)| {
        let key = BaseKey::of(&b.to_bytes());
        let bytes = BaseIndex::build(b, &key);
        BaseIndex::open(FileBytes::Read(bytes), (**b).clone(), &key).unwrap()
    });
    let mut counts = Vec::new();
    for (i, (what, blob)) in inputs.iter().enumerate() {
        let expected = std::fs::read(dir.join(format!("{i}.out.btf"))).unwrap();
        let base = base.map(|(b, _)| b.clone());
        let mut btf = Btf::parse_split(blob, base.clone()).unwrap();
        let stats =
            dedup(&mut btf, &DedupOptions::default()).unwrap_or_else(|e| panic!("{what}: {e}"));
        let got = btf.to_bytes();
        if got != expected {
            let theirs = Btf::parse_split(&expected, base).unwrap();
            panic!(
                "{what}: output differs from libbpf: kbtf {} types / {} string bytes, libbpf {} / {}; first differing type: {:?}",
                stats.types_after,
                stats.strings_after,
                theirs.own_ids().len(),
                theirs.own_strings().len(),
                first_difference(&btf, &theirs),
            );
        }
        let via_index = match &indexed {
            Some(index) => {
                let split = Btf::parse_split(blob, Some(index.btf().clone())).unwrap();
                let candidates = BaseCandidates::from_index(index);
                let out = dedup_owned(split, &DedupOptions::default(), Some(&candidates))
                    .unwrap_or_else(|e| panic!("{what}, over a base index: {e}"));
                assert!(
                    out.to_bytes() == expected,
                    "{what}: over a base index, output differs from libbpf"
                );
                " (also over a base index)"
            }
            None => "",
        };
        println!(
            "{what}: {} -> {} types, {} -> {} string bytes, identical to libbpf{via_index}",
            stats.types_before, stats.types_after, stats.strings_before, stats.strings_after
        );
        counts.push((stats.types_before, stats.types_after));
    }
    counts
}

fn first_difference(a: &Btf, b: &Btf) -> Option<(TypeId, Vec<u32>, Vec<u32>)> {
    a.own_ids().zip(b.own_ids()).find_map(|(x, y)| {
        let (wa, wb) = (a.get(x).unwrap().words(), b.get(y).unwrap().words());
        (wa != wb).then(|| (x, wa.to_vec(), wb.to_vec()))
    })
}

/// A base BTF holding `src`'s types in the order `order` gives (a
/// permutation of its ids), references and strings rewritten.
fn permuted(src: &Btf, order: &[u32]) -> Btf {
    let mut new_id = vec![0u32; src.type_count() as usize];
    for (i, &old) in order.iter().enumerate() {
        new_id[old as usize] = i as u32 + 1;
    }
    let mut out = Btf::new();
    for &old in order {
        let t = src.get(TypeId(old)).unwrap();
        let mut w = t.words().to_vec();
        for slot in t.info().type_id_slots() {
            w[slot] = new_id[w[slot] as usize];
        }
        for slot in t.info().str_off_slots() {
            w[slot] = out.add_str(src.str_at(StrOff(w[slot])).unwrap()).unwrap().0;
        }
        out.add_record(&w).unwrap();
    }
    out
}

#[test]
fn vmlinux_with_copies_of_itself() {
    let (Some(corpus), Some(oracle)) = (corpus::Corpus::find(), oracle()) else {
        return;
    };
    let (vmlinux, _) = vmlinux(&corpus);
    let n = vmlinux.own_ids().len() as u32;

    // Shipped vmlinux BTF alone: pahole's output, deduplicated again.
    let alone = Btf::parse(&vmlinux.to_bytes()).unwrap();
    check(oracle, "vmlinux", &alone, None);

    let mut twice = Btf::new();
    twice.add_btf(&vmlinux).unwrap();
    twice.add_btf(&vmlinux).unwrap();
    let (_, after) = check(oracle, "vmlinux x2", &twice, None);
    assert!(
        after < n + n / 50,
        "a copy should mostly vanish: {after} types for {n}"
    );

    // Every string interned in reverse order, plus unused ones, before the
    // types: the string phase must rebuild the table in use order.
    let mut restrung = Btf::new();
    let table = vmlinux.own_strings();
    for off in table.offsets().collect::<Vec<_>>().into_iter().rev() {
        restrung.add_str(table.get(off).unwrap()).unwrap();
    }
    restrung.add_str(b"kbtf: not used by any type").unwrap();
    restrung.add_btf(&vmlinux).unwrap();
    restrung.add_btf(&vmlinux).unwrap();
    check(oracle, "vmlinux x2, strings reversed", &restrung, None);

    // A reversed copy first: candidates meet in the other order.
    let reversed: Vec<u32> = (1..=n).rev().collect();
    let mut mixed = permuted(&vmlinux, &reversed);
    mixed.add_btf(&vmlinux).unwrap();
    check(oracle, "vmlinux reversed + vmlinux", &mixed, None);

    // Interleaved halves: odd ids, then even ids.
    let halves: Vec<u32> = (1..=n).step_by(2).chain((2..=n).step_by(2)).collect();
    let mut shuffled = permuted(&vmlinux, &halves);
    shuffled.add_btf(&vmlinux).unwrap();
    check(oracle, "vmlinux odd/even + vmlinux", &shuffled, None);
}

/// `DedupStats::id_map` of a split copy of the vmlinux over itself: every
/// type but VAR and DATASEC (never deduplicated) goes to the base type it
/// copies; those stay, renumbered in order after the base.
#[test]
fn id_map_of_a_split_copy_points_into_the_base() {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let (vmlinux, _) = vmlinux(&corpus);
    let mut split = Btf::new_split(vmlinux.clone());
    split.add_btf(&vmlinux).unwrap();
    let stats = dedup(&mut split, &DedupOptions::default()).unwrap();
    let n = vmlinux.own_ids().len();
    assert_eq!(stats.id_map.len(), n);
    let mut next_kept = vmlinux.type_count();
    for (i, &new) in stats.id_map.iter().enumerate() {
        let original = TypeId(i as u32 + 1);
        if matches!(
            vmlinux.get(original).unwrap().kind(),
            Kind::Var | Kind::Datasec
        ) {
            assert_eq!(new, TypeId(next_kept), "kept type {original}");
            next_kept += 1;
        } else {
            assert_eq!(new, original, "copy of type {original}");
        }
    }
    assert_eq!(next_kept, split.type_count());
}

#[test]
fn split_copy_of_vmlinux_over_vmlinux() {
    let (Some(corpus), Some(oracle)) = (corpus::Corpus::find(), oracle()) else {
        return;
    };
    let (vmlinux, path) = vmlinux(&corpus);
    let mut split = Btf::new_split(vmlinux.clone());
    split.add_btf(&vmlinux).unwrap();
    let (_, after) = check(
        oracle,
        "split vmlinux copy",
        &split,
        Some((&vmlinux, &path)),
    );
    // Only VAR and DATASEC stay (they are never deduplicated).
    let vars = vmlinux
        .own_types()
        .filter(|t| matches!(t.kind(), Kind::Var | Kind::Datasec))
        .count();
    assert_eq!(after as usize, vars);
}

#[test]
fn split_modules_merged_over_vmlinux() {
    let (Some(corpus), Some(oracle)) = (corpus::Corpus::find(), oracle()) else {
        return;
    };
    let (vmlinux, path) = vmlinux(&corpus);
    let groups: &[&[&str]] = &[
        &[
            "nf_conntrack.ko",
            "nf_nat.ko",
            "nf_tables.ko",
            "nf_conntrack.ko",
        ],
        &["nfs.ko", "nfsd.ko", "sunrpc.ko"],
        &["openvswitch.ko", "bridge.ko", "vxlan.ko", "virtio_net.ko"],
        &["xfs.ko", "btrfs.ko"],
        &["kvm.ko", "kvm-intel.ko", "kvm-amd.ko"],
    ];
    for group in groups {
        let mut split = module(&corpus, group[0], &vmlinux);
        for name in &group[1..] {
            split.add_btf(&module(&corpus, name, &vmlinux)).unwrap();
        }
        check(oracle, &group.join("+"), &split, Some((&vmlinux, &path)));
    }
    // A module's types in front of vmlinux's own, as split: module types
    // that duplicate base types merge into the base.
    let mut split = module(&corpus, "nf_conntrack.ko", &vmlinux);
    let mut copy = Btf::new_split(vmlinux.clone());
    copy.add_btf(&vmlinux).unwrap();
    split.add_btf(&copy).unwrap();
    check(
        oracle,
        "nf_conntrack + split vmlinux copy",
        &split,
        Some((&vmlinux, &path)),
    );
}

#[test]
fn many_modules_at_once() {
    let (Some(corpus), Some(oracle)) = (corpus::Corpus::find(), oracle()) else {
        return;
    };
    let (vmlinux, path) = vmlinux(&corpus);
    let mut split = Btf::new_split(vmlinux.clone());
    let mut count = 0;
    for path in corpus.modules() {
        let bytes = FileBytes::open(&path).unwrap();
        let m = Btf::parse_split(&btf_blob(&bytes).unwrap(), Some(vmlinux.clone())).unwrap();
        // Stay well below the 2^20 type id limit.
        if split.type_count() as usize + m.own_ids().len() > 900_000 {
            break;
        }
        split.add_btf(&m).unwrap();
        count += 1;
    }
    println!("merged {count} modules");
    check(
        oracle,
        &format!("{count} modules merged"),
        &split,
        Some((&vmlinux, &path)),
    );
}

#[test]
fn every_shipped_module_deduplicated_again() {
    let (Some(corpus), Some(oracle)) = (corpus::Corpus::find(), oracle()) else {
        return;
    };
    let (vmlinux, path) = vmlinux(&corpus);
    let modules = corpus.modules();
    let mut shrunk = Vec::new();
    for chunk in modules.chunks(200) {
        let inputs: Vec<(String, Vec<u8>)> = chunk
            .iter()
            .map(|m| {
                let bytes = FileBytes::open(m).unwrap();
                let name = m.file_name().unwrap().to_string_lossy().into_owned();
                (name, btf_blob(&bytes).unwrap().to_vec())
            })
            .collect();
        let counts = check_all(oracle, &inputs, Some((&vmlinux, &path)));
        for ((name, _), (before, after)) in inputs.iter().zip(counts) {
            if before != after {
                shrunk.push(format!("{name} {before}->{after}"));
            }
        }
    }
    println!(
        "{} shipped modules re-deduplicated identically to libbpf; {} of them shrink: {}",
        modules.len(),
        shrunk.len(),
        shrunk.join(", ")
    );
    assert_eq!(modules.len(), 1138);
}

/// pahole 1.24's own dedup input (captured with an LD_PRELOAD shim around
/// libbpf's `btf__dedup`), deduplicated by kbtf with its strings kept as
/// pahole's libbpf keeps them, gives the shipped `.BTF` byte for byte.
#[test]
fn pahole_dedup_input_gives_shipped_btf() {
    let (Some(corpus), Some(shim)) = (corpus::Corpus::find(), oracle::pahole_dedup_input()) else {
        return;
    };
    let (vmlinux, _) = vmlinux(&corpus);
    let dir = scratch("pahole");
    let keep = DedupOptions {
        rebuild_strings: false,
        libbpf_1_7: false,
    };
    let modules = corpus.modules();
    // A spread of modules, plus those the re-dedup test finds shrinking.
    let mut picked: Vec<PathBuf> = modules.iter().step_by(101).cloned().collect();
    for name in [
        "romfs.ko",
        "nf_conntrack.ko",
        "kvm.ko",
        "ib_core.ko",
        "nfsd.ko",
    ] {
        picked.push(corpus.module(name));
    }
    let vmlinux_elf = corpus.vmlinux();
    let mut targets: Vec<(&Path, Option<&Arc<Btf>>)> = picked
        .iter()
        .map(|m| (m.as_path(), Some(&vmlinux)))
        .collect();
    // pahole takes about 30 s over vmlinux's DWARF; its input has 4.35 million types.
    targets.push((&vmlinux_elf, None));
    for (elf, base) in &targets {
        let input = dir.join("input.btf");
        let detached = dir.join("pahole.btf");
        let _ = std::fs::remove_file(&input);
        let _ = std::fs::remove_file(&detached);
        let mut pahole = Command::new("pahole");
        pahole
            .env("LD_PRELOAD", shim)
            .env("KBTF_DEDUP_INPUT", &input);
        pahole.args(["-J", "--btf_gen_floats", "--lang_exclude=rust"]);
        if base.is_some() {
            pahole.arg("--btf_base").arg(&vmlinux_elf);
        }
        let status = pahole
            .arg("--btf_encode_detached")
            .arg(&detached)
            .arg(elf)
            .status();
        assert!(
            status.is_ok_and(|s| s.success()),
            "pahole failed on {}",
            elf.display()
        );
        let blob = std::fs::read(&input).unwrap();
        let mut btf = Btf::parse_split(&blob, base.cloned()).unwrap();
        let stats = dedup(&mut btf, &keep).unwrap();
        let bytes = FileBytes::open(elf).unwrap();
        let shipped = btf_blob(&bytes).unwrap();
        assert!(
            btf.to_bytes() == shipped[..],
            "{}: kbtf's dedup of pahole's input differs from the shipped .BTF",
            elf.display()
        );
        println!(
            "{}: pahole's dedup input {} -> {} types, identical to the shipped .BTF",
            elf.display(),
            stats.types_before,
            stats.types_after
        );
    }
    println!(
        "{} objects: kbtf dedup of pahole's input == shipped .BTF",
        targets.len()
    );
}

/// Small graphs for the cases the corpus may not reach, checked against libbpf.
#[test]
fn hand_made_graphs() {
    let Some(oracle) = oracle() else {
        return;
    };
    let cases: [(&str, Build); 6] = [
        ("fwd then struct, struct then fwd", fwds_and_structs),
        ("enum forwards", enum_forwards),
        (
            "recursive structs and anonymous duplicates",
            recursive_structs,
        ),
        ("identical arrays inside one unit", identical_arrays),
        ("unused and out-of-order strings", shuffled_strings),
        (
            "enum forward after the table grows",
            enum_forward_after_growth,
        ),
    ];
    for (what, build) in cases {
        let mut b = Btf::new();
        build(&mut b);
        check(oracle, what, &b, None);
    }
}

/// Adds one hand-made case's types to an empty base BTF.
type Build = fn(&mut Btf);

const INT: Info = Info(1 << 24);
const PTR: Info = Info(2 << 24);
const NONE: StrOff = StrOff(0);

fn s(b: &mut Btf, name: &str) -> StrOff {
    b.add_str(name.as_bytes()).unwrap()
}

fn strukt(vlen: u32) -> Info {
    Info::new(Kind::Struct, false, vlen)
}

fn fwd(union: bool) -> Info {
    Info::new(Kind::Fwd, union, 0)
}

fn fwds_and_structs(b: &mut Btf) {
    let (int, sock, bar, x) = (s(b, "int"), s(b, "sock"), s(b, "bar"), s(b, "x"));
    // Unit 1: struct bar { struct sock *x; } with sock only declared.
    b.add_type(int, INT, 4, &[32]).unwrap(); // 1
    b.add_type(sock, fwd(false), 0, &[]).unwrap(); // 2
    b.add_type(NONE, PTR, 2, &[]).unwrap(); // 3
    b.add_type(bar, strukt(1), 8, &[x.0, 3, 0]).unwrap(); // 4
                                                          // Unit 2: the same with sock defined.
    b.add_type(int, INT, 4, &[32]).unwrap(); // 5
    b.add_type(sock, strukt(1), 4, &[x.0, 5, 0]).unwrap(); // 6
    b.add_type(NONE, PTR, 6, &[]).unwrap(); // 7
    b.add_type(bar, strukt(1), 8, &[x.0, 7, 0]).unwrap(); // 8
                                                          // Unit 3: only a pointer to a declared sock (resolve_fwds).
    b.add_type(sock, fwd(false), 0, &[]).unwrap(); // 9
    b.add_type(NONE, PTR, 9, &[]).unwrap(); // 10
                                            // A union fwd of the same name does not resolve to the struct.
    b.add_type(sock, fwd(true), 0, &[]).unwrap(); // 11
}

fn enum_forwards(b: &mut Btf) {
    let (e, a, c) = (s(b, "e"), s(b, "A"), s(b, "B"));
    let en = |vlen| Info::new(Kind::Enum, false, vlen);
    b.add_type(e, en(0), 4, &[]).unwrap();
    b.add_type(e, en(1), 4, &[a.0, 0]).unwrap();
    b.add_type(e, en(0), 4, &[]).unwrap();
    b.add_type(e, Info::new(Kind::Enum64, false, 1), 8, &[c.0, 1, 1])
        .unwrap();
    b.add_type(e, en(0), 4, &[]).unwrap();
    b.add_type(e, en(1), 4, &[a.0, 0]).unwrap();
    for target in 1..=6 {
        b.add_type(NONE, PTR, target, &[]).unwrap();
    }
}

/// Two different full enums `e`, then enough other types for libbpf's hash
/// map to grow (at its 4th entry), which reverses the chain of `e`'s
/// candidates: the forward then merges into the *first* `e`, where a plain
/// newest-first order would pick the second.
fn enum_forward_after_growth(b: &mut Btf) {
    let (e, x, y) = (s(b, "e"), s(b, "X"), s(b, "Y"));
    let en = |vlen| Info::new(Kind::Enum, false, vlen);
    b.add_type(e, en(1), 4, &[x.0, 0]).unwrap(); // 1: entry 1
    b.add_type(e, en(1), 4, &[y.0, 1]).unwrap(); // 2: entry 2
    let (int, long) = (s(b, "int"), s(b, "long"));
    b.add_type(int, INT, 4, &[32]).unwrap(); // 3: entry 3
    b.add_type(long, INT, 8, &[64]).unwrap(); // 4: entry 4, the map grows
    b.add_type(e, en(0), 4, &[]).unwrap(); // 5: forward
    b.add_type(NONE, PTR, 5, &[]).unwrap();
}

fn recursive_structs(b: &mut Btf) {
    let (int, node, next, v) = (s(b, "int"), s(b, "node"), s(b, "next"), s(b, "v"));
    for _ in 0..3 {
        let at = b.type_count();
        b.add_type(int, INT, 4, &[32]).unwrap();
        // struct node { struct node *next; struct { int v; } v; }
        b.add_type(node, strukt(2), 16, &[next.0, at + 2, 0, v.0, at + 3, 64])
            .unwrap();
        b.add_type(NONE, PTR, at + 1, &[]).unwrap();
        b.add_type(NONE, strukt(1), 4, &[v.0, at, 0]).unwrap();
    }
}

fn identical_arrays(b: &mut Btf) {
    let (int, name, a, c) = (s(b, "int"), s(b, "s"), s(b, "a"), s(b, "c"));
    let arr = Info::new(Kind::Array, false, 0);
    for _ in 0..2 {
        let at = b.type_count();
        b.add_type(int, INT, 4, &[32]).unwrap();
        b.add_type(NONE, arr, 0, &[at, at, 4]).unwrap();
        // A second, identical array type, as compilers sometimes emit.
        b.add_type(NONE, arr, 0, &[at, at, 4]).unwrap();
        b.add_type(name, strukt(2), 32, &[a.0, at + 1, 0, c.0, at + 2, 128])
            .unwrap();
    }
}

fn shuffled_strings(b: &mut Btf) {
    // Strings in an order the types do not use them in, some unused, some
    // reached through the middle of another string (a suffix).
    let names: Vec<StrOff> = ["zeta", "unused", "long_name", "alpha", "name"]
        .iter()
        .map(|n| s(b, n))
        .collect();
    let suffix = StrOff(names[2].0 + 5); // "name" inside "long_name"
    b.add_type(names[3], INT, 4, &[32]).unwrap();
    b.add_type(suffix, INT, 4, &[32]).unwrap();
    b.add_type(names[4], INT, 4, &[32]).unwrap();
    b.add_type(names[0], INT, 8, &[64]).unwrap();
    b.add_type(names[2], INT, 2, &[16]).unwrap();
}

/// A loop of typedefs (no struct to break it): libbpf fails with ELOOP, and
/// so does kbtf, leaving the BTF as it was.
#[test]
fn reference_loop_is_refused_by_both() {
    let Some(oracle) = oracle() else {
        return;
    };
    let mut b = Btf::new();
    let (t1, t2) = (s(&mut b, "t1"), s(&mut b, "t2"));
    let typedef = Info::new(Kind::Typedef, false, 0);
    b.add_type(t1, typedef, 2, &[]).unwrap();
    b.add_type(t2, typedef, 1, &[]).unwrap();
    let dir = scratch("reference_loop");
    let blob = b.to_bytes();
    std::fs::write(dir.join("in.btf"), &blob).unwrap();
    let out = Command::new(oracle)
        .arg(dir.join("in.btf"))
        .arg(dir.join("out.btf"))
        .output()
        .unwrap();
    assert!(!out.status.success(), "libbpf accepted a typedef loop");
    println!("libbpf: {}", String::from_utf8_lossy(&out.stderr).trim());
    let err = dedup(&mut b, &DedupOptions::default()).unwrap_err();
    println!("kbtf: {err}");
    assert!(b.to_bytes() == blob);
}

/// Another kernel's BTF (trixie's 6.12, pahole 1.30) with a copy of itself.
#[test]
fn other_kernel_with_a_copy() {
    let (Some(trixie), Some(oracle)) = (corpus::Corpus::trixie(), oracle()) else {
        return;
    };
    let kernel = Btf::from_file(trixie.vmlinux()).unwrap();
    check(oracle, "trixie vmlinux", &kernel, None);
    let mut twice = Btf::new();
    twice.add_btf(&kernel).unwrap();
    twice.add_btf(&kernel).unwrap();
    check(oracle, "trixie vmlinux x2", &twice, None);
}

/// Differential check on odd graphs: real BTF with type references rewired
/// at random (fixed seed) to other valid ids, mostly of the kind they had.
/// libbpf and kbtf must agree: the same bytes, or both refusing.
#[test]
fn rewired_graphs_agree_with_libbpf() {
    let (Some(corpus), Some(oracle)) = (corpus::Corpus::find(), oracle()) else {
        return;
    };
    let (vmlinux, path) = vmlinux(&corpus);
    let conntrack = module(&corpus, "nf_conntrack.ko", &vmlinux);
    let same = rewired_rounds(
        oracle,
        "nf_conntrack",
        &conntrack,
        Some((&vmlinux, &path)),
        100,
    );
    assert!(same > 50, "too few graphs got through");
    let alone = Btf::parse(&vmlinux.to_bytes()).unwrap();
    let same = rewired_rounds(oracle, "vmlinux", &alone, None, 12);
    assert!(same > 6, "too few graphs got through");
}

/// Runs `rounds` rewired copies of `original`; returns how many deduped
/// identically (the others were refused by both).
fn rewired_rounds(
    oracle: &Path,
    what: &str,
    original: &Btf,
    base: Option<(&Arc<Btf>, &PathBuf)>,
    rounds: usize,
) -> usize {
    let ids: Vec<TypeId> = original.own_ids().collect();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        // xorshift64*
        seed ^= seed >> 12;
        seed ^= seed << 25;
        seed ^= seed >> 27;
        seed.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    // Ids by kind, to rewire a reference to another type of the kind it had.
    let mut by_kind: std::collections::HashMap<u8, Vec<u32>> = Default::default();
    for id in original.all_ids() {
        let kind = original.get(id).unwrap().info().raw_kind();
        by_kind.entry(kind).or_default().push(id.0);
    }
    let (mut same, mut refused) = (0, 0);
    let dir = scratch(&format!("rewired_{what}"));
    for round in 0..rounds {
        let mut btf = original.clone();
        for _ in 0..1 + round % 8 {
            let id = ids[(next() % ids.len() as u64) as usize];
            let info = btf.get(id).unwrap().info();
            if info.kind() == Kind::Func {
                continue;
            }
            let slots: Vec<usize> = info.type_id_slots().collect();
            if slots.is_empty() {
                continue;
            }
            let slot = slots[(next() % slots.len() as u64) as usize];
            let old = btf.get(id).unwrap().words()[slot];
            let target = match btf.type_by_id(TypeId(old)) {
                Some(t) if next() % 4 != 0 => {
                    let peers = &by_kind[&t.info().raw_kind()];
                    peers[(next() % peers.len() as u64) as usize]
                }
                _ => (next() % btf.type_count() as u64) as u32,
            };
            btf.record_mut(id).unwrap()[slot] = target;
        }
        let blob = btf.to_bytes();
        let Ok(mut ours) = Btf::parse_split(&blob, base.map(|(b, _)| b.clone())) else {
            continue;
        };
        std::fs::write(dir.join("in.btf"), &blob).unwrap();
        let mut cmd = Command::new(oracle);
        if let Some((_, path)) = base {
            cmd.arg("-b").arg(path);
        }
        let status = cmd
            .arg(dir.join("in.btf"))
            .arg(dir.join("out.btf"))
            .stderr(std::process::Stdio::null())
            .status()
            .unwrap();
        match (status.success(), dedup(&mut ours, &DedupOptions::default())) {
            (true, Ok(_)) => {
                let expected = std::fs::read(dir.join("out.btf")).unwrap();
                assert!(
                    ours.to_bytes() == expected,
                    "{what} round {round}: differs from libbpf"
                );
                same += 1;
            }
            (false, Err(_)) => refused += 1,
            (theirs, ours) => panic!("{what} round {round}: libbpf ok={theirs}, kbtf {ours:?}"),
        }
    }
    println!("rewired {what}: {same} identical to libbpf, {refused} refused by both");
    same
}
