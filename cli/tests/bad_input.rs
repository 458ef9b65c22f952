//! The bad-input matrix of the `kbtf` binary (issue 7, item 2): damaged
//! copies of a small corpus module (crc7.ko; tcp_dctcp.ko for `.BTF_ids`),
//! of an object compiled here, and of hand-made BTF blobs, fed to `dump`,
//! `check`, `encode`, `pahole`, `ids` and `resolve_btfids`.
//!
//! Every `Fail` case must end with a non-zero exit (not 101, not a signal),
//! one line on stderr naming the file and containing the fragment listed
//! beside the case, no panic. Every case, `Accept` ones too, must leave
//! its inputs byte for byte unchanged and no file behind (temporary or
//! output), and the base vmlinux untouched. `resolve_btfids` cases are
//! also run through the kernel's own resolve_btfids, which must agree
//! (except where it exits 0 on a file libelf cannot read:
//! [`UPSTREAM_ACCEPTS_GARBAGE`]).
//!
//! `Accept` cases say why success is right, from what the oracle does with
//! the same input (pahole 1.24, bpftool/libbpf 1.1, resolve_btfids).
//!
//! Cases are rows of [`cases`]; a new subcommand's (e.g. `kbtf gen`) is one
//! `c.push(case(name, Fail { file, msg }, Box::new(|fx, dir| args)))` each,
//! or one more name in the command list of a loop (truncations, blobs).

use kbtf_testsupport::corpus;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use object::{Object, ObjectSection, ObjectSymbol};

/// What a case must end with.
enum Expect {
    /// Failure with one stderr line containing this fragment and the file name.
    Fail {
        file: &'static str,
        msg: &'static str,
    },
    /// Success is right: the reason, from the oracle's behaviour.
    Accept(&'static str),
}
use Expect::*;

/// Lays out the case's inputs in its own directory; returns kbtf's arguments.
type Setup = Box<dyn Fn(&Fixture, &Path) -> Vec<OsString>>;

struct Case {
    name: String,
    setup: Setup,
    expect: Expect,
    /// Run under `sh -c 'ulimit -f N; exec kbtf ...'` (512-byte blocks).
    ulimit_blocks: Option<u32>,
}

/// Inputs built once: the pristine files each case copies and damages.
struct Fixture {
    _dir: tempfile::TempDir,
    /// crc7.ko, a small module with DWARF and .BTF.
    ko: Vec<u8>,
    /// tcp_dctcp.ko, a small module with .BTF_ids.
    ids_ko: Vec<u8>,
    /// A small ET_REL object compiled here with -g.
    obj: Vec<u8>,
    /// crc7.ko's raw split .BTF.
    ko_btf: Vec<u8>,
    /// The vmlinux matching the modules (base of their split BTF).
    vmlinux: PathBuf,
    /// Another kernel's vmlinux BTF, as far as crc7's split BTF can tell:
    /// the corpus vmlinux's with one more string ahead of the others.
    other_vmlinux_btf: Vec<u8>,
}

/// The kernel's resolve_btfids (Debian linux-kbuild-6.12), the oracle of
/// the `resolve_btfids` cases when installed.
const UPSTREAM_RESOLVE_BTFIDS: &str =
    "/usr/lib/linux-kbuild-6.12.117+deb12/tools/bpf/resolve_btfids/resolve_btfids";

/// Cases where upstream resolve_btfids exits 0 on a file it cannot read:
/// libelf refuses the section headers, upstream then finds no `.BTF_ids`
/// and reports "nothing to do". kbtf says what is wrong instead.
const UPSTREAM_ACCEPTS_GARBAGE: &[&str] = &[
    "e_shoff past the end: resolve_btfids",
    "e_shnum huge: resolve_btfids",
    "big-endian ELF (EI_DATA flipped): resolve_btfids",
];

const SMALL_C: &str = r#"
struct node { struct node *next; const volatile int *val; unsigned long flags[4]; };
typedef struct node node_t;
enum colour { RED, GREEN = 7 };
int count_nodes(node_t *n, enum colour c) { int k = 0; while (n) { k += c; n = n->next; } return k; }
double scale(float f, long double d) { return f * d; }
"#;

fn run_tool(cmd: &str, args: &[&str]) -> std::process::Output {
    let out = Command::new(cmd)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn tool(cmd: &str, args: &[OsString]) {
    let out = Command::new(cmd).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{cmd} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn section_bytes(elf: &[u8], name: &str) -> Vec<u8> {
    kbtf_testsupport::elf::section(elf, name).expect("the section")
}
impl Fixture {
    fn build(corpus: &corpus::Corpus) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("small.c");
        std::fs::write(&src, SMALL_C).unwrap();
        let obj_path = dir.path().join("small.o");
        run_tool(
            "gcc",
            &[
                "-g",
                "-O1",
                "-c",
                src.to_str().unwrap(),
                "-o",
                obj_path.to_str().unwrap(),
            ],
        );
        let ko = std::fs::read(corpus.module("crc7.ko")).unwrap();
        let ko_btf = section_bytes(&ko, ".BTF");
        Fixture {
            ko,
            ko_btf,
            ids_ko: std::fs::read(corpus.module("tcp_dctcp.ko")).unwrap(),
            obj: std::fs::read(&obj_path).unwrap(),
            vmlinux: corpus.vmlinux(),
            other_vmlinux_btf: other_kernel_btf(&std::fs::read(corpus.vmlinux()).unwrap()),
            _dir: dir,
        }
    }
}

/// The BTF of `vmlinux` as another build of the kernel could have it: the
/// same types, every string one string further on (`"kbtf"` comes first).
/// Split BTF made against the real one then points into the middle of
/// strings, as it does over a base from a different kernel.
fn other_kernel_btf(vmlinux: &[u8]) -> Vec<u8> {
    const EXTRA: &[u8] = b"kbtf\0";
    let mut btf = kbtf_btf::Btf::parse(&section_bytes(vmlinux, ".BTF")).unwrap();
    btf.for_each_str_off_mut(|off| {
        if *off != 0 {
            *off += EXTRA.len() as u32;
        }
    });
    let mut blob = btf.to_bytes();
    let field = |at: usize| u32::from_le_bytes(blob[at..at + 4].try_into().unwrap());
    let (hdr_len, str_off, str_len) = (field(4) as usize, field(16) as usize, field(20));
    put(&mut blob, 20, &(str_len + EXTRA.len() as u32).to_le_bytes());
    let first_string = hdr_len + str_off + 1;
    blob.splice(first_string..first_string, EXTRA.iter().copied());
    blob
}

// ---- ELF surgery (ELF64 little-endian only: all inputs here are) ----

fn put(b: &mut [u8], off: usize, v: &[u8]) {
    b[off..off + v.len()].copy_from_slice(v);
}
fn u16_at(b: &[u8], off: usize) -> usize {
    u16::from_le_bytes(b[off..off + 2].try_into().unwrap()) as usize
}
fn u64_at(b: &[u8], off: usize) -> usize {
    u64::from_le_bytes(b[off..off + 8].try_into().unwrap()) as usize
}
const E_SHOFF: usize = 0x28;
const E_SHNUM: usize = 0x3c;
const E_SHSTRNDX: usize = 0x3e;
const SH_OFFSET: usize = 0x18;
const SH_SIZE: usize = 0x20;

/// The file offset of the section header of `name`.
fn shdr(elf: &[u8], name: &str) -> usize {
    let f = object::File::parse(elf).unwrap();
    let idx = f.section_by_name(name).unwrap().index().0;
    u64_at(elf, E_SHOFF) + idx * 64
}

/// File offsets where a section starts or ends, below the file's length.
fn section_boundaries(elf: &[u8]) -> Vec<usize> {
    let shoff = u64_at(elf, E_SHOFF);
    let mut cuts = vec![0x40, shoff];
    for i in 1..u16_at(elf, E_SHNUM) {
        let h = shoff + i * 64;
        let ty = u32::from_le_bytes(elf[h + 4..h + 8].try_into().unwrap());
        let (off, size) = (u64_at(elf, h + SH_OFFSET), u64_at(elf, h + SH_SIZE));
        cuts.push(off);
        if ty != 8 {
            // SHT_NOBITS occupies no file bytes.
            cuts.push(off + size);
        }
    }
    cuts.retain(|&c| c > 0 && c < elf.len());
    cuts.sort();
    cuts.dedup();
    cuts
}

/// Sets the value of the first symbol whose name starts with `prefix`.
fn set_symbol_value(elf: &mut [u8], prefix: &str, value: u64) {
    let f = object::File::parse(&*elf).unwrap();
    let sym = f
        .symbols()
        .find(|s| s.name().is_ok_and(|n| n.starts_with(prefix)))
        .unwrap();
    let symtab = shdr(elf, ".symtab");
    let at = u64_at(elf, symtab + SH_OFFSET) + sym.index().0 * 24 + 8;
    drop(f);
    put(elf, at, &value.to_le_bytes());
}

/// Spoils the last string of `.BTF` (its NUL), as if the section were stale.
fn stale_btf(elf: &mut [u8]) {
    let h = shdr(elf, ".BTF");
    let end = u64_at(elf, h + SH_OFFSET) + u64_at(elf, h + SH_SIZE);
    elf[end - 1] = b'x';
}

/// Overwrites the first symbol named `from*` with a copy of the symbol
/// named `to`, making two symbols of that name.
fn alias_symbol(elf: &mut [u8], from: &str, to: &str) {
    let f = object::File::parse(&*elf).unwrap();
    let index = |pred: &dyn Fn(&str) -> bool| {
        f.symbols()
            .find(|s| s.name().is_ok_and(pred))
            .unwrap()
            .index()
            .0
    };
    let (a, b) = (index(&|n| n.starts_with(from)), index(&|n| n == to));
    let symtab = u64_at(elf, shdr(elf, ".symtab") + SH_OFFSET);
    drop(f);
    // The whole symbol: a second copy of the set symbol.
    let sym = elf[symtab + b * 24..symtab + b * 24 + 24].to_vec();
    put(elf, symtab + a * 24, &sym);
}

// ---- Hand-made BTF ----

const BTF_INT: u32 = 1;
const BTF_PTR: u32 = 2;
const BTF_STRUCT: u32 = 4;
const BTF_VOLATILE: u32 = 9;
const BTF_CONST: u32 = 10;

fn info(kind: u32, vlen: u32) -> u32 {
    (kind << 24) | vlen
}

/// A base BTF blob of `types` (native words) and strings "\0int\0".
fn btf_blob(types: &[u32]) -> Vec<u8> {
    let strings = b"\0int\0";
    let types: Vec<u8> = types.iter().flat_map(|w| w.to_le_bytes()).collect();
    let mut b = Vec::new();
    b.extend(0xeb9fu16.to_le_bytes());
    b.extend([1, 0]);
    for w in [
        24,
        0,
        types.len() as u32,
        types.len() as u32,
        strings.len() as u32,
    ] {
        b.extend(w.to_le_bytes());
    }
    b.extend(types);
    b.extend(strings);
    b
}

/// `int` (id 1) and a pointer to `target` (id 2).
fn int_and_ptr(name_off: u32, target: u32) -> Vec<u8> {
    btf_blob(&[
        name_off,
        info(BTF_INT, 0),
        4,
        32,
        0,
        info(BTF_PTR, 0),
        target,
    ])
}

/// A blob in the other byte order: the magic, the header's 32-bit fields
/// and every type word swapped (BTF type records are all 32-bit words);
/// strings are bytes and stay.
fn byte_swapped(b: &[u8]) -> Vec<u8> {
    let mut out = b.to_vec();
    let type_len = u32::from_le_bytes(b[12..16].try_into().unwrap()) as usize;
    out[0..2].reverse();
    for w in out[4..24 + type_len].chunks_exact_mut(4) {
        w.reverse();
    }
    out
}

// ---- The matrix ----

/// Where a raw BTF blob is cut.
#[derive(Clone, Copy, Debug)]
enum RawCut {
    /// After this many bytes of the 24-byte header.
    Header(usize),
    /// In the middle of the type section.
    TypesHalf,
    /// At the end of the type section (no strings).
    TypesEnd,
    /// Before the last NUL of the strings.
    StringsLast,
}

const RAW_BTF_CUTS: [RawCut; 7] = [
    RawCut::Header(0),
    RawCut::Header(4),
    RawCut::Header(12),
    RawCut::Header(24),
    RawCut::TypesHalf,
    RawCut::TypesEnd,
    RawCut::StringsLast,
];

impl std::fmt::Display for RawCut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self:?}")
    }
}

fn copy(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

fn os(args: &[&dyn AsRef<std::ffi::OsStr>]) -> Vec<OsString> {
    args.iter().map(|a| a.as_ref().to_owned()).collect()
}

fn case(name: impl Into<String>, expect: Expect, setup: Setup) -> Case {
    Case {
        name: name.into(),
        setup,
        expect,
        ulimit_blocks: None,
    }
}

/// A damaged ELF fed to each reader of ELF files: crc7.ko (or small.o)
/// through `damage` to `dump` and `encode`, tcp_dctcp.ko (or small.o)
/// through the same `damage` to `ids` and `resolve_btfids`.
/// `msgs` are the expected fragments of those four, in that order.
fn elf_cases(
    cases: &mut Vec<Case>,
    what: &str,
    obj_only: bool,
    damage: impl Fn(&mut Vec<u8>) + Clone + 'static,
    msgs: [Expect; 4],
) {
    let [dump, encode, ids, resolve] = msgs;
    for (cmd, expect) in [
        ("dump", dump),
        ("encode", encode),
        ("ids", ids),
        ("resolve_btfids", resolve),
    ] {
        let damage = damage.clone();
        let with_ids = matches!(cmd, "ids" | "resolve_btfids");
        cases.push(case(
            format!("{what}: {cmd}"),
            expect,
            Box::new(move |fx, dir| {
                let (name, pristine) = match (obj_only, with_ids) {
                    (true, _) => ("small.o", &fx.obj),
                    (false, false) => ("crc7.ko", &fx.ko),
                    (false, true) => ("tcp_dctcp.ko", &fx.ids_ko),
                };
                let mut b = pristine.clone();
                damage(&mut b);
                let p = copy(dir, name, &b);
                match cmd {
                    "dump" | "encode" => os(&[&cmd, &p, &"--base", &fx.vmlinux]),
                    "ids" => os(&[&cmd, &p, &"--base", &fx.vmlinux]),
                    _ => os(&[&cmd, &"-b", &fx.vmlinux, &p]),
                }
            }),
        ));
    }
}

const KO: &str = "crc7.ko";
const IDS_KO: &str = "tcp_dctcp.ko";
const BAD_SHDR: &str = "Invalid ELF section header offset/size/alignment";

const PAST_END: &str = "extends past the end of the file";
const BEYOND: &str = "is beyond the end of the file";

/// `.BTF` out of the file.
fn btf_out_of_file() -> [Expect; 4] {
    fail4(PAST_END, BEYOND)
}

/// The same failure from the four commands of [`elf_cases`].
fn fail4(ko_msg: &'static str, ids_msg: &'static str) -> [Expect; 4] {
    [
        Fail {
            file: KO,
            msg: ko_msg,
        },
        Fail {
            file: KO,
            msg: ko_msg,
        },
        Fail {
            file: IDS_KO,
            msg: ids_msg,
        },
        Fail {
            file: IDS_KO,
            msg: ids_msg,
        },
    ]
}

fn cases() -> Vec<Case> {
    let mut c = Vec::new();
    fn ko(fx: &Fixture) -> &[u8] {
        &fx.ko
    }
    fn obj(fx: &Fixture) -> &[u8] {
        &fx.obj
    }

    // Corrupt ELF headers.
    elf_cases(
        &mut c,
        "e_shoff past the end",
        false,
        |b| {
            let l = b.len() as u64;
            put(b, E_SHOFF, &(l + 64).to_le_bytes())
        },
        fail4(BAD_SHDR, BAD_SHDR),
    );
    elf_cases(
        &mut c,
        "e_shnum huge",
        false,
        |b| put(b, E_SHNUM, &0xfff0u16.to_le_bytes()),
        fail4(BAD_SHDR, BAD_SHDR),
    );
    elf_cases(
        &mut c,
        "e_shstrndx out of range",
        false,
        |b| {
            let n = u16_at(b, E_SHNUM) as u16;
            put(b, E_SHSTRNDX, &(n + 3).to_le_bytes())
        },
        fail4("Invalid ELF e_shstrndx", "Invalid ELF e_shstrndx"),
    );
    elf_cases(
        &mut c,
        ".BTF sh_size past the end",
        false,
        |b| {
            let h = shdr(b, ".BTF");
            put(b, h + SH_SIZE, &0x7fff_0000u64.to_le_bytes())
        },
        btf_out_of_file(),
    );
    elf_cases(
        &mut c,
        ".BTF sh_offset past the end",
        false,
        |b| {
            let h = shdr(b, ".BTF");
            let l = b.len() as u64;
            put(b, h + SH_OFFSET, &(l + 8).to_le_bytes())
        },
        btf_out_of_file(),
    );
    elf_cases(
        &mut c,
        ".BTF_ids sh_offset past the end",
        false,
        |b| {
            let f = object::File::parse(&**b).unwrap();
            let has_ids = f.section_by_name(".BTF_ids").is_some();
            drop(f);
            if has_ids {
                let h = shdr(b, ".BTF_ids");
                let l = b.len() as u64;
                put(b, h + SH_OFFSET, &(l + 8).to_le_bytes())
            }
        },
        [
            Accept("crc7.ko has no .BTF_ids; dump reads .BTF only"),
            Accept("crc7.ko has no .BTF_ids; encode reads DWARF only"),
            Fail {
                file: IDS_KO,
                msg: BEYOND,
            },
            Fail {
                file: IDS_KO,
                msg: BEYOND,
            },
        ],
    );
    elf_cases(
        &mut c,
        ".debug_info sh_size past the end",
        false,
        |b| {
            let h = shdr(b, ".debug_info");
            put(b, h + SH_SIZE, &0x7fff_0000u64.to_le_bytes())
        },
        [
            Accept("dump reads .BTF only, as bpftool's libbpf does"),
            Fail {
                file: KO,
                msg: PAST_END,
            },
            // ids reads no DWARF, but refuses a file with any section out of it.
            Fail {
                file: IDS_KO,
                msg: BEYOND,
            },
            // libelf refuses the file, so upstream fails; kbtf too.
            Fail {
                file: IDS_KO,
                msg: BEYOND,
            },
        ],
    );
    elf_cases(
        &mut c,
        ".symtab sh_offset past the end",
        false,
        |b| {
            let h = shdr(b, ".symtab");
            let l = b.len() as u64;
            put(b, h + SH_OFFSET, &(l + 8).to_le_bytes())
        },
        fail4("Invalid ELF symbol table data", BEYOND),
    );
    elf_cases(
        &mut c,
        "big-endian ELF (EI_DATA flipped)",
        true,
        |b| b[5] = 2,
        [0, 1, 2, 3].map(|_| Fail {
            file: "small.o",
            msg: "Invalid ELF section header entry size",
        }),
    );

    // Truncation at every section boundary, of the module and of the object.
    for (file, pristine, base) in [
        ("crc7.ko", ko as fn(&Fixture) -> &[u8], true),
        ("small.o", obj as fn(&Fixture) -> &[u8], false),
    ] {
        let fx_probe = PRISTINE_SIZES.with(|s| s.borrow().get(file).cloned());
        for cut in fx_probe.unwrap_or_default() {
            for cmd in ["dump", "encode", "pahole", "check", "gen"] {
                c.push(case(
                    format!("{file} truncated at {cut:#x}: {cmd}"),
                    Fail {
                        file,
                        msg: BAD_SHDR,
                    },
                    Box::new(move |fx, dir| {
                        let p = copy(dir, file, &pristine(fx)[..cut]);
                        let out = dir.join("out.btf");
                        if cmd == "pahole" {
                            // kbuild's spelling, with a detached output.
                            let mut a = os(&[&cmd, &"-J", &"--btf_gen_floats"]);
                            if base {
                                a.extend(os(&[&"--btf_base", &fx.vmlinux]));
                            }
                            let mut detached = OsString::from("--btf_encode_detached=");
                            detached.push(&out);
                            a.extend(os(&[&detached, &p]));
                            return a;
                        }
                        if cmd == "gen" {
                            // gen-btf.sh's spelling: module mode with a base, vmlinux mode without.
                            return match base {
                                true => os(&[&cmd, &"--btf_base", &fx.vmlinux, &p]),
                                false => os(&[&cmd, &p]),
                            };
                        }
                        let mut a = os(&[&cmd, &p]);
                        if cmd == "encode" {
                            a.extend(os(&[&"-o", &out]));
                        }
                        if base {
                            a.extend(os(&[&"--base", &fx.vmlinux]));
                        }
                        a
                    }),
                ));
            }
        }
    }

    // crc7.ko's raw split .BTF cut inside and at the end of its header, and
    // at the boundaries of its type and string sections.
    for cut in RAW_BTF_CUTS {
        c.push(case(
            format!("crc7.btf truncated at {cut}"),
            Fail {
                file: "crc7.btf",
                msg: "is truncated",
            },
            Box::new(move |fx, dir| {
                let hdr = |at: usize| {
                    u32::from_le_bytes(fx.ko_btf[at..at + 4].try_into().unwrap()) as usize
                };
                let (type_len, str_off) = (hdr(12), hdr(16));
                let at = match cut {
                    RawCut::Header(n) => n,
                    RawCut::TypesHalf => 24 + type_len / 2,
                    RawCut::TypesEnd => 24 + type_len,
                    RawCut::StringsLast => fx.ko_btf.len() - 1,
                };
                assert!(str_off >= type_len);
                let p = copy(dir, "crc7.btf", &fx.ko_btf[..at]);
                os(&[&"dump", &p, &"--base", &fx.vmlinux])
            }),
        ));
    }

    // Hand-made BTF: string offsets, type ids, cycles, vlen, byte order.
    let blob_case = |c: &mut Vec<Case>, name: &str, cmd: &'static str, b: Vec<u8>, e: Expect| {
        c.push(case(
            format!("{name}: {cmd}"),
            e,
            Box::new(move |_, dir| os(&[&cmd, &copy(dir, "bad.btf", &b)])),
        ))
    };
    // (dump's message, check's message: the kernel's words).
    let blobs: [(&str, Vec<u8>, [&'static str; 2]); 5] = [
        (
            "name offset past the strings",
            int_and_ptr(100, 1),
            [
                "string offset 100 is outside the string section",
                "Invalid name_offset:100",
            ],
        ),
        (
            "type id past the last type",
            int_and_ptr(1, 9),
            [
                "refers to type id 9, but the last type id is 2",
                "Invalid type_id",
            ],
        ),
        (
            "vlen 0xffff with no members",
            btf_blob(&[0, info(BTF_STRUCT, 0xffff), 8]),
            ["type record is truncated", "meta_needed:786420"],
        ),
        (
            "strings section past the blob",
            {
                let mut b = int_and_ptr(1, 1);
                put(&mut b, 20, &0x10000u32.to_le_bytes());
                b
            },
            [
                "string section is truncated",
                "Total section length too long",
            ],
        ),
        (
            "magic byte-swapped, rest little-endian",
            {
                let mut b = int_and_ptr(1, 1);
                b[0..2].reverse();
                b
            },
            ["BTF header is truncated", "Invalid magic"],
        ),
    ];
    for (name, blob, msgs) in blobs {
        for (cmd, msg) in ["dump", "check"].into_iter().zip(msgs) {
            let file = "bad.btf";
            blob_case(&mut c, name, cmd, blob.clone(), Fail { file, msg });
        }
    }
    // CONST -> VOLATILE -> CONST: bpftool dumps it (no resolution needed);
    // the kernel refuses it, and so must `check`.
    let cycle = btf_blob(&[0, info(BTF_CONST, 0), 2, 0, info(BTF_VOLATILE, 0), 1]);
    blob_case(
        &mut c,
        "modifier cycle",
        "dump",
        cycle.clone(),
        Accept("bpftool btf dump prints a modifier cycle without following it"),
    );
    blob_case(
        &mut c,
        "modifier cycle",
        "check",
        cycle,
        Fail {
            file: "bad.btf",
            msg: "Loop detected",
        },
    );
    blob_case(
        &mut c,
        "whole blob big-endian",
        "dump",
        byte_swapped(&int_and_ptr(1, 1)),
        Accept("libbpf and bpftool read BTF of either byte order"),
    );

    // Split BTF: missing base, mismatched base, byte-swapped module BTF.
    c.push(case(
        "missing base file",
        Fail {
            file: "no-such-vmlinux",
            msg: "No such file or directory",
        },
        Box::new(|fx, dir| {
            let p = copy(dir, "crc7.ko", &fx.ko);
            os(&[&"dump", &p, &"--base", &dir.join("no-such-vmlinux")])
        }),
    ));
    c.push(case(
        "module BTF byte-swapped, over a little-endian base",
        Accept("bpftool (libbpf 1.1) reads split BTF in the other byte order than its base"),
        Box::new(|fx, dir| {
            let p = copy(dir, "crc7.btf", &byte_swapped(&fx.ko_btf));
            os(&[&"dump", &p, &"--base", &fx.vmlinux])
        }),
    ));
    c.push(case(
        "module BTF without its base",
        Fail {
            file: "crc7.btf",
            msg: "a base BTF's strings must start with the empty string",
        },
        Box::new(|fx, dir| os(&[&"dump", &copy(dir, "crc7.btf", &fx.ko_btf)])),
    ));

    // .BTF_ids damage.
    c.push(case(
        ".BTF_ids symbol past the section: resolve_btfids",
        Fail {
            file: "tcp_dctcp.ko",
            msg: "run past the end of .BTF_ids",
        },
        Box::new(|fx, dir| {
            let mut b = fx.ids_ko.clone();
            set_symbol_value(&mut b, "__BTF_ID__", 0x10_0000);
            let p = copy(dir, "tcp_dctcp.ko", &b);
            os(&[&"resolve_btfids", &"-b", &fx.vmlinux, &p])
        }),
    ));
    c.push(case(
        ".BTF_ids symbol past the section: ids",
        Fail {
            file: "tcp_dctcp.ko",
            msg: "run past the end of .BTF_ids",
        },
        Box::new(|fx, dir| {
            let mut b = fx.ids_ko.clone();
            set_symbol_value(&mut b, "__BTF_ID__", 0x10_0000);
            os(&[&"ids", &copy(dir, "tcp_dctcp.ko", &b)])
        }),
    ));

    // Duplicate set: a second symbol named as the module's set8.
    const SET8: &str = "__BTF_ID__set8__tcp_dctcp_check_kfunc_ids";
    for (cmd, oracle) in [
        ("resolve_btfids", "defined more than once"),
        ("ids", "defined more than once"),
    ] {
        c.push(case(
            format!("duplicate .BTF_ids set: {cmd}"),
            Fail {
                file: "tcp_dctcp.ko",
                msg: oracle,
            },
            Box::new(move |fx, dir| {
                let mut b = fx.ids_ko.clone();
                alias_symbol(&mut b, "__BTF_ID__func__dctcp_init__", SET8);
                let p = copy(dir, "tcp_dctcp.ko", &b);
                if cmd == "ids" {
                    os(&[&cmd, &p])
                } else {
                    os(&[&cmd, &"-b", &fx.vmlinux, &p])
                }
            }),
        ));
    }

    // An ET_REL module whose .rela.debug_* are gone: its DWARF's offsets
    // into .debug_str/.debug_abbrev are unrelocated. pahole 1.24 prints
    // "die__process: ... expected got INVALID" yet exits 0 with a partial
    // BTF; kbtf refuses to encode it.
    c.push(case(
        "module without .rela.debug_*: encode",
        Fail {
            file: "norela.ko",
            msg: "without relocations for .debug_info",
        },
        Box::new(|fx, dir| {
            let p = copy(dir, "norela.ko", &fx.ko);
            let mut args = vec![OsString::from("--remove-section=.rela.debug_*")];
            args.push(p.clone().into());
            tool("objcopy", &args);
            os(&[
                &"encode",
                &p,
                &"--base",
                &fx.vmlinux,
                &"-o",
                &dir.join("out.btf"),
            ])
        }),
    ));

    // No .symtab (strip -s, which also drops the DWARF).
    let stripped = |fx: &Fixture, dir: &Path| {
        let p = copy(dir, "stripped.ko", &fx.ids_ko);
        tool("strip", &[OsString::from("-s"), p.clone().into()]);
        p
    };
    c.push(case(
        "no .symtab: resolve_btfids",
        Accept("resolve_btfids skips a file without symbols (\"Cannot find .BTF_ids or symbols sections\"), exit 0"),
        Box::new(move |fx, dir| os(&[&"resolve_btfids", &"-b", &fx.vmlinux, &stripped(fx, dir)])),
    ));
    c.push(case(
        "no .symtab: ids",
        Fail {
            file: "stripped.ko",
            msg: "no symbol table in the ELF file",
        },
        Box::new(move |fx, dir| os(&[&"ids", &stripped(fx, dir)])),
    ));
    c.push(case(
        "no .symtab, no DWARF: encode -o",
        Accept("pahole 1.24 exits 0 on a file without DWARF, writing nothing; so does kbtf (checked below)"),
        Box::new(move |fx, dir| {
            os(&[&"encode", &stripped(fx, dir), &"--base", &fx.vmlinux, &"-o", &dir.join("out.btf")])
        }),
    ));

    c.push(case(
        "no .symtab, no DWARF: pahole in place",
        Accept("pahole 1.24 exits 0 and leaves a file without DWARF alone; so does kbtf"),
        Box::new(move |fx, dir| {
            os(&[
                &"pahole",
                &"-J",
                &"--btf_base",
                &fx.vmlinux,
                &stripped(fx, dir),
            ])
        }),
    ));

    // Read-only target, disk full.
    c.push(case(
        "read-only module, encode in place",
        Fail {
            file: "crc7.ko",
            msg: "read-only",
        },
        Box::new(|fx, dir| {
            use std::os::unix::fs::PermissionsExt;
            // A stale .BTF, so that encoding must rewrite the file.
            let mut b = fx.ko.clone();
            stale_btf(&mut b);
            let p = copy(dir, "crc7.ko", &b);
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o444)).unwrap();
            os(&[&"encode", &p, &"--base", &fx.vmlinux])
        }),
    ));
    let mut full = case(
        "file size limit (ulimit -f): encode -o",
        Fail {
            file: "out.btf",
            msg: "File too large",
        },
        Box::new(|fx, dir| {
            let p = copy(dir, "crc7.ko", &fx.ko);
            os(&[
                &"encode",
                &p,
                &"--base",
                &fx.vmlinux,
                &"-o",
                &dir.join("out.btf"),
            ])
        }),
    );
    full.ulimit_blocks = Some(0);
    c.push(full);
    let mut full = case(
        "file size limit (ulimit -f): encode in place",
        Fail {
            file: "crc7.ko",
            msg: "File too large",
        },
        Box::new(|fx, dir| {
            let mut b = fx.ko.clone();
            stale_btf(&mut b);
            let p = copy(dir, "crc7.ko", &b);
            os(&[&"encode", &p, &"--base", &fx.vmlinux])
        }),
    );
    // 50 KiB: less than the module.
    full.ulimit_blocks = Some(100);
    c.push(full);

    // A full file system and a read-only one (a small tmpfs; skipped where
    // mounting is not allowed: as root, a mode of 0555 would not stop kbtf).
    c.push(case(
        "file system full: encode -o",
        Fail {
            file: "out.btf",
            msg: "No space left on device",
        },
        Box::new(|fx, dir| {
            let p = copy(dir, "crc7.ko", &fx.ko);
            match mount_tmpfs(dir, 64, fill_up, false) {
                Some(mnt) => os(&[
                    &"encode",
                    &p,
                    &"--base",
                    &fx.vmlinux,
                    &"-o",
                    &mnt.join("out.btf"),
                ]),
                None => Vec::new(),
            }
        }),
    ));
    c.push(case(
        "read-only directory: encode -o",
        Fail {
            file: "out.btf",
            msg: "Read-only file system",
        },
        Box::new(|fx, dir| {
            let p = copy(dir, "crc7.ko", &fx.ko);
            match mount_tmpfs(dir, 64, |_| {}, true) {
                Some(mnt) => os(&[
                    &"encode",
                    &p,
                    &"--base",
                    &fx.vmlinux,
                    &"-o",
                    &mnt.join("out.btf"),
                ]),
                None => Vec::new(),
            }
        }),
    ));
    c.push(case(
        "read-only directory: encode in place",
        Fail {
            file: "crc7.ko",
            msg: "Read-only file system",
        },
        Box::new(|fx, dir| {
            let mut b = fx.ko.clone();
            stale_btf(&mut b);
            match mount_tmpfs(dir, 512, |m| drop(copy(m, "crc7.ko", &b)), true) {
                Some(mnt) => os(&[&"encode", &mnt.join("crc7.ko"), &"--base", &fx.vmlinux]),
                None => Vec::new(),
            }
        }),
    ));
    c.push(case(
        "read-only directory: resolve_btfids in place",
        Fail {
            file: "tcp_dctcp.ko",
            msg: "Read-only file system",
        },
        Box::new(|fx, dir| {
            // Upstream's tool would rewrite this one (see the moves above).
            match mount_tmpfs(
                dir,
                1024,
                |m| drop(copy(m, "tcp_dctcp.ko", &fx.ids_ko)),
                true,
            ) {
                Some(mnt) => os(&[
                    &"resolve_btfids",
                    &"-b",
                    &fx.vmlinux,
                    &mnt.join("tcp_dctcp.ko"),
                ]),
                None => Vec::new(),
            }
        }),
    ));
    hostile_file_cases(&mut c);
    slow_dwarf_cases(&mut c);
    c
}

/// What issue 11 found by trying hostile inputs as a new user would: a
/// wrong base, files that are no regular files (in and out), compression
/// headers that lie, records wider than BTF can hold, huge `-j`.
fn hostile_file_cases(c: &mut Vec<Case>) {
    const MISFIT: &str = "the base is probably not the one this split BTF was made against";
    for cmd in ["dump", "check"] {
        c.push(case(
            format!("module over another kernel's vmlinux: {cmd}"),
            Fail {
                file: "other-vmlinux.btf",
                msg: MISFIT,
            },
            Box::new(move |fx, dir| {
                let p = copy(dir, "crc7.btf", &fx.ko_btf);
                let base = copy(dir, "other-vmlinux.btf", &fx.other_vmlinux_btf);
                os(&[&cmd, &p, &"--base", &base])
            }),
        ));
        c.push(case(
            format!("module over a base of two types: {cmd}"),
            Fail {
                file: "tiny.btf",
                msg: MISFIT,
            },
            Box::new(move |fx, dir| {
                let p = copy(dir, "crc7.btf", &fx.ko_btf);
                let base = copy(dir, "tiny.btf", &int_and_ptr(1, 1));
                os(&[&cmd, &p, &"--base", &base])
            }),
        ));
    }

    // Inputs that are no regular files: a character device that never
    // ends (/dev/zero's numbers) and a FIFO. Made here, as root; skipped
    // otherwise.
    const CHAR_DEV: &str = "is a character device, not a regular file";
    /// The arguments of a case, given the fixture, its directory and the device.
    type WithDevice = fn(&Fixture, &Path, &Path) -> Vec<OsString>;
    let zero_cases: [(&str, WithDevice); 9] = [
        ("dump", |_, _, z| os(&[&"dump", &z])),
        ("check", |_, _, z| os(&[&"check", &z])),
        ("encode", |_, _, z| os(&[&"encode", &z])),
        ("ids", |_, _, z| os(&[&"ids", &z])),
        ("dump --base", |fx, d, z| {
            os(&[&"dump", &copy(d, "crc7.btf", &fx.ko_btf), &"--base", &z])
        }),
        ("encode --base", |fx, d, z| {
            os(&[&"encode", &copy(d, "crc7.ko", &fx.ko), &"--base", &z])
        }),
        ("gen --btf_base", |fx, d, z| {
            os(&[&"gen", &"--btf_base", &z, &copy(d, "crc7.ko", &fx.ko)])
        }),
        ("gen, as the module", |fx, _, z| {
            os(&[&"gen", &"--btf_base", &fx.vmlinux, &z])
        }),
        ("pahole --btf_base", |fx, d, z| {
            os(&[
                &"pahole",
                &"-J",
                &"--btf_base",
                &z,
                &copy(d, "crc7.ko", &fx.ko),
            ])
        }),
    ];
    for (what, args) in zero_cases {
        c.push(case(
            format!("a character device as input: {what}"),
            Fail {
                file: "zero",
                msg: CHAR_DEV,
            },
            Box::new(move |fx, dir| {
                let zero = dir.join("zero");
                match mknod(&zero, libc::S_IFCHR, 1, 5) {
                    true => args(fx, dir, &zero),
                    false => Vec::new(),
                }
            }),
        ));
    }
    c.push(case(
        "a FIFO as input: dump",
        Fail {
            file: "fifo",
            msg: "is a FIFO, not a regular file",
        },
        Box::new(|_, dir| {
            let fifo = dir.join("fifo");
            match mknod(&fifo, libc::S_IFIFO, 0, 0) {
                true => os(&[&"dump", &fifo]),
                false => Vec::new(),
            }
        }),
    ));

    // Outputs that are devices: written into, as pahole does, never
    // replaced (the snapshot would show a regular file left behind).
    /// The arguments of a case, given its input object and the device.
    type IntoDevice = fn(&Path, &Path) -> Vec<OsString>;
    let device_out: [(&str, IntoDevice); 3] = [
        ("encode -o", |o, n| os(&[&"encode", &o, &"-o", &n])),
        ("pahole --btf_encode_detached", |o, n| {
            let mut detached = OsString::from("--btf_encode_detached=");
            detached.push(n);
            os(&[&"pahole", &"-J", &detached, &o])
        }),
        ("encode -j 100000 -o", |o, n| {
            os(&[&"encode", &o, &"-j", &"100000", &"-o", &n])
        }),
    ];
    for (what, args) in device_out {
        c.push(case(
            format!("a character device as output: {what}"),
            Accept("pahole writes into a device given as its output; -j is capped"),
            Box::new(move |fx, dir| {
                let null = dir.join("null");
                match mknod(&null, libc::S_IFCHR, 1, 3) {
                    true => args(&copy(dir, "small.o", &fx.obj), &null),
                    false => Vec::new(),
                }
            }),
        ));
    }
    c.push(case(
        "an empty --btf_encode_detached=",
        Fail {
            file: "--btf_encode_detached",
            msg: "needs a file name",
        },
        Box::new(|fx, dir| {
            os(&[
                &"pahole",
                &"-J",
                &"--btf_encode_detached=",
                &copy(dir, "small.o", &fx.obj),
            ])
        }),
    ));

    // Compression headers that claim far more than the stream can hold.
    for (what, claim, msg) in [
        ("5 GiB", 5u64 << 30, "any section may hold"),
        ("256 MiB", 256 << 20, "times as many"),
    ] {
        c.push(case(
            format!("compressed .debug_info claiming {what}: encode"),
            Fail {
                file: "small.o",
                msg,
            },
            Box::new(move |fx, dir| {
                let p = copy(dir, "small.o", &fx.obj);
                tool("objcopy", &os(&[&"--compress-debug-sections=zlib", &p]));
                let mut b = std::fs::read(&p).unwrap();
                // Elf64_Chdr: ch_type, ch_reserved, then ch_size.
                let at = u64_at(&b, shdr(&b, ".debug_info") + SH_OFFSET) + 8;
                put(&mut b, at, &claim.to_le_bytes());
                std::fs::write(&p, b).unwrap();
                os(&[&"encode", &p])
            }),
        ));
    }

    // Records wider than the 16 bits of vlen.
    for (what, source, msg) in [
        (
            "an enum of 70000 enumerators",
            format!(
                "enum wide {{ {} }}; enum wide w;",
                (0..70000)
                    .map(|i| format!("E{i}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "too many enumerators (70000)",
        ),
        (
            "a struct of 70000 members",
            format!(
                "struct wide {{ {} }} w;",
                (0..70000)
                    .map(|i| format!("char m{i};"))
                    .collect::<String>()
            ),
            "too many members (70000)",
        ),
    ] {
        c.push(case(
            format!("{what}: encode"),
            Fail {
                file: "wide.o",
                msg,
            },
            Box::new(move |_, dir| {
                let src = dir.join("wide.c");
                std::fs::write(&src, &source).unwrap();
                let obj = dir.join("wide.o");
                tool("gcc", &os(&[&"-g", &"-c", &src, &"-o", &obj]));
                std::fs::remove_file(&src).unwrap();
                os(&[&"encode", &obj])
            }),
        ));
    }
}

/// DWARF that is small but slow: one abbreviation of 2,000 attributes of a
/// form that takes no bytes, and more structs of one layout that are not
/// the same type than dedup compares (each in a block of its own).
fn slow_dwarf_cases(c: &mut Vec<Case>) {
    c.push(case(
        "an abbreviation of 2000 attributes: encode",
        Fail {
            file: "abbrev.o",
            msg: "has more than 1024 attributes",
        },
        Box::new(|_, dir| {
            let src = dir.join("abbrev.s");
            let unit = "\t.section .debug_abbrev,\"\",@progbits\n\t.uleb128 1\n\t.uleb128 0x11\n\
                        \t.byte 0\n\t.rept 2000\n\t.uleb128 0x3f\n\t.uleb128 0x19\n\t.endr\n\
                        \t.byte 0, 0\n\t.byte 0\n\t.section .debug_info,\"\",@progbits\n\
                        \t.long 2f - 1f\n1:\t.value 4\n\t.long 0\n\t.byte 8\n\t.uleb128 1\n2:\n";
            std::fs::write(&src, unit).unwrap();
            let obj = dir.join("abbrev.o");
            tool("as", &os(&[&"--64", &"-o", &obj, &src]));
            std::fs::remove_file(&src).unwrap();
            os(&[&"encode", &obj])
        }),
    ));
    c.push(case(
        "8200 structs s { struct tN *p; }: encode",
        Fail {
            file: "same.o",
            msg: "more than 8192 STRUCT types named 's' of the same layout",
        },
        Box::new(|_, dir| {
            let blocks: String = (0..8200)
                .map(|i| {
                    format!(
                        "{{ struct t{i}; struct s {{ struct t{i} *p; }} v = {{0}}; r += !v.p; }}\n"
                    )
                })
                .collect();
            let src = dir.join("same.c");
            std::fs::write(
                &src,
                format!("int f(void) {{ int r = 0;\n{blocks} return r; }}\n"),
            )
            .unwrap();
            let obj = dir.join("same.o");
            tool("gcc", &os(&[&"-g", &"-c", &src, &"-o", &obj]));
            std::fs::remove_file(&src).unwrap();
            os(&[&"encode", &obj])
        }),
    ));
}

/// Makes a device node or FIFO; false where that is not allowed (not root).
fn mknod(path: &Path, kind: libc::mode_t, major: u32, minor: u32) -> bool {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: mknod with a valid NUL-terminated path.
    unsafe { libc::mknod(c.as_ptr(), kind | 0o666, libc::makedev(major, minor)) == 0 }
}

thread_local! {
    /// Section boundaries of the pristine files, known before the table is built.
    static PRISTINE_SIZES: std::cell::RefCell<BTreeMap<&'static str, Vec<usize>>> =
        Default::default();
}

/// Every file under `dir` (a mounted `mnt/` included) and its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            files.extend(snapshot(&p));
        } else if p.is_file() {
            let b = std::fs::read(&p).unwrap();
            files.insert(p, b);
        }
    }
    files
}

/// Mounts a tmpfs of `kib` KiB at `dir/mnt` (read-only after `fill` ran,
/// if `read_only`); `None` where mounting is not allowed.
fn mount_tmpfs(dir: &Path, kib: u32, fill: impl FnOnce(&Path), read_only: bool) -> Option<PathBuf> {
    let mnt = dir.join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={kib}k"), "tmpfs"])
        .arg(&mnt)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        return None;
    }
    fill(&mnt);
    if read_only {
        let ro = Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&mnt)
            .status()
            .unwrap();
        assert!(ro.success());
    }
    Some(mnt)
}

/// Fills the file system of `dir` up: later writes fail with ENOSPC.
fn fill_up(dir: &Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(dir.join("filler")).unwrap();
    while f.write_all(&[0u8; 4096]).is_ok() {}
    let _ = f.sync_all();
}

/// Runs one case; returns what is wrong with the outcome, if anything.
fn run_case(fx: &Fixture, root: &Path, i: usize, c: &Case) -> Result<String, String> {
    let dir = root.join(format!("case{i}"));
    std::fs::create_dir(&dir).unwrap();
    let args = (c.setup)(fx, &dir);
    let mnt = dir.join("mnt");
    let unmount = || {
        if mnt.exists() {
            let _ = Command::new("umount").arg(&mnt).status();
        }
    };
    if args.is_empty() {
        unmount();
        return Ok("skipped: needs root (a tmpfs mount or mknod)".into());
    }
    let before = snapshot(&dir);
    let bin = env!("CARGO_BIN_EXE_kbtf");
    let out = match c.ulimit_blocks {
        None => kbtf_testsupport::kbtf_as_1_24(bin)
            .args(&args)
            .output()
            .unwrap(),
        Some(n) => Command::new("sh")
            .env("KBTF_PAHOLE_VERSION", "1.24")
            .arg("-c")
            .arg(format!("ulimit -f {n}; exec \"$0\" \"$@\""))
            .arg(bin)
            .args(&args)
            .output()
            .unwrap(),
    };
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let after = snapshot(&dir);
    // resolve_btfids cases: the kernel's own tool must agree on failing.
    let upstream_ok = (args.first().is_some_and(|a| a == "resolve_btfids")
        && Path::new(UPSTREAM_RESOLVE_BTFIDS).exists())
    .then(|| {
        Command::new(UPSTREAM_RESOLVE_BTFIDS)
            .args(&args[1..])
            .output()
            .unwrap()
            .status
            .success()
    });
    let mut problems = Vec::new();
    if stderr.contains("panicked") {
        problems.push("panicked".to_string());
    }
    if let Some(sig) = out.status.signal() {
        problems.push(format!("killed by signal {sig}"));
    }
    let code = out.status.code();
    let upstream_lax = UPSTREAM_ACCEPTS_GARBAGE.contains(&c.name.as_str());
    if upstream_ok == Some(matches!(c.expect, Fail { .. })) && !upstream_lax {
        problems.push(format!(
            "upstream resolve_btfids {}",
            if upstream_ok == Some(true) {
                "succeeds"
            } else {
                "fails"
            }
        ));
    }
    match &c.expect {
        Fail { file, msg } => {
            if matches!(code, Some(0) | Some(101)) {
                problems.push(format!("exit code {code:?}"));
            }
            let lines: Vec<&str> = stderr.lines().filter(|l| !l.is_empty()).collect();
            if lines.len() != 1 {
                problems.push(format!("{} lines on stderr", lines.len()));
            }
            if !stderr.contains(file) {
                problems.push(format!("stderr does not name {file}"));
            }
            if !stderr.contains(msg) {
                problems.push(format!("stderr lacks {msg:?}"));
            }
        }
        Accept(why) => {
            if code != Some(0) {
                problems.push(format!("exit code {code:?}, yet accepted because: {why}"));
            }
        }
    }
    // Accepted or not, none of these inputs may be rewritten or gain a
    // companion file (an accepted one needs no change, or kbtf skips it).
    for (p, b) in &before {
        if after.get(p) != Some(b) {
            problems.push(format!("{} changed", p.display()));
        }
    }
    for p in after.keys().filter(|p| !before.contains_key(*p)) {
        problems.push(format!("left {} behind", p.display()));
    }
    unmount();
    std::fs::remove_dir_all(&dir).ok();
    if problems.is_empty() {
        Ok(stderr)
    } else {
        Err(format!("{}: {stderr}", problems.join("; ")))
    }
}

#[test]
fn bad_input_matrix() {
    let Some(corpus) = corpus::Corpus::find() else {
        return;
    };
    let fx = Fixture::build(&corpus);
    PRISTINE_SIZES.with(|s| {
        let mut s = s.borrow_mut();
        s.insert("crc7.ko", section_boundaries(&fx.ko));
        s.insert("small.o", section_boundaries(&fx.obj));
    });
    let cases = cases();
    let root = tempfile::tempdir().unwrap();
    let base_meta = |m: std::fs::Metadata| (m.len(), m.modified().unwrap());
    let base_before = base_meta(std::fs::metadata(&fx.vmlinux).unwrap());
    let mut failed = Vec::new();
    let mut skipped = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        match run_case(&fx, root.path(), i, c) {
            Ok(stderr) if stderr.starts_with("skipped") => skipped.push(c.name.clone()),
            Ok(stderr) => {
                if std::env::var_os("KBTF_BAD_INPUT_VERBOSE").is_some() {
                    eprintln!("ok   {}: {}", c.name, stderr.trim());
                }
            }
            Err(e) => failed.push(format!("FAIL {}: {}", c.name, e.trim())),
        }
    }
    for f in &failed {
        eprintln!("{f}");
    }
    assert_eq!(
        base_meta(std::fs::metadata(&fx.vmlinux).unwrap()),
        base_before,
        "the base vmlinux was touched"
    );
    println!(
        "bad input: {} cases, {} failed, {} skipped (not root: no tmpfs mount or mknod): {skipped:?}",
        cases.len(),
        failed.len(),
        skipped.len(),
    );
    assert!(failed.is_empty());
}

/// An unwritable stderr (/dev/full) must not turn a reported error into a
/// panic (eprintln! panics when it cannot write: exit 101).
#[test]
fn unwritable_stderr_is_no_panic() {
    let dir = tempfile::tempdir().unwrap();
    let bad = copy(dir.path(), "bad.btf", &int_and_ptr(100, 1));
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let status = kbtf_testsupport::kbtf_as_1_24(env!("CARGO_BIN_EXE_kbtf"))
        .arg("dump")
        .arg(&bad)
        .stderr(full)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1), "{status:?}");
}

/// The other side of "a big-endian ELF": a real one (clang for s390x) is
/// no bad input. kbtf encodes it to the bytes pahole 1.24 writes.
#[test]
fn big_endian_elf_encodes_as_pahole() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("be.c"), SMALL_C).unwrap();
    let run = |cmd: &str, args: &[&str]| {
        Command::new(cmd)
            .env("KBTF_PAHOLE_VERSION", "1.24")
            .args(args)
            .current_dir(d)
            .status()
            .is_ok_and(|s| s.success())
    };
    if !run(
        "clang",
        &[
            "--target=s390x-linux-gnu",
            "-g",
            "-O1",
            "-c",
            "be.c",
            "-o",
            "be.o",
        ],
    ) {
        kbtf_testsupport::skip("clang cannot build for s390x here");
        return;
    }
    let detached = ["-J", "--btf_gen_floats", "--lang_exclude=rust"];
    assert!(run(
        "pahole",
        &[&detached[..], &["--btf_encode_detached=pahole.btf", "be.o"]].concat()
    ));
    assert!(run(
        env!("CARGO_BIN_EXE_kbtf"),
        &[
            &["pahole"][..],
            &detached[..],
            &["--btf_encode_detached=kbtf.btf", "be.o"]
        ]
        .concat()
    ));
    let (ours, theirs) = (
        std::fs::read(d.join("kbtf.btf")).unwrap(),
        std::fs::read(d.join("pahole.btf")).unwrap(),
    );
    assert_eq!(&theirs[..2], &[0xeb, 0x9f], "pahole wrote big-endian BTF");
    assert!(
        ours == theirs,
        "kbtf's BTF of a big-endian ELF differs from pahole's"
    );
}
