//! Structure-aware, seeded mutations of a valid BTF (for
//! `conformance_check_mutants_vs_kernel.rs`): a seed is taken apart into records and strings,
//! damaged where a field means something, and written back.

use std::sync::Arc;

use kbtf_btf::{Btf, Info, Kind};

use crate::kernel_oracle::Rng;

/// A valid BTF taken apart: its records (native-order words) and strings.
#[derive(Clone)]
pub struct Seed {
    pub name: String,
    records: Vec<Vec<u32>>,
    strings: Vec<u8>,
    /// The id of the first record and the offset of the first string: 1
    /// and 0, or for split BTF where its base's end.
    start: u32,
    str_base: u32,
}

impl Seed {
    pub fn new(name: impl Into<String>, blob: &[u8]) -> Seed {
        Seed::new_split(name, blob, None)
    }

    pub fn new_split(name: impl Into<String>, blob: &[u8], base: Option<&Arc<Btf>>) -> Seed {
        let name = name.into();
        let btf =
            Btf::parse_split(blob, base.cloned()).unwrap_or_else(|e| panic!("seed {name}: {e}"));
        let str_base = base.map_or(0, |b| {
            let bytes = b.to_bytes_endian(kbtf_btf::Endian::NATIVE);
            u32::from_ne_bytes(bytes[20..24].try_into().unwrap())
        });
        let records = btf.own_types().map(|t| t.words().to_vec()).collect();
        // Written back in native order, the strings are what follows the types.
        let bytes = btf.to_bytes_endian(kbtf_btf::Endian::NATIVE);
        let word = |at: usize| u32::from_ne_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        let (hdr_len, str_off, str_len) = (word(4), word(16), word(20));
        let strings = bytes[hdr_len + str_off..hdr_len + str_off + str_len].to_vec();
        Seed {
            name,
            records,
            strings,
            start: btf.start_id().0,
            str_base,
        }
    }

    /// The blob: a 24-byte header, the records, the strings.
    pub fn blob(&self) -> Vec<u8> {
        let types: Vec<u8> = self
            .records
            .iter()
            .flatten()
            .flat_map(|w| w.to_ne_bytes())
            .collect();
        let mut b = Vec::with_capacity(24 + types.len() + self.strings.len());
        b.extend_from_slice(&0xeb9f_u16.to_ne_bytes());
        b.extend_from_slice(&[1, 0]);
        for w in [24, 0, types.len(), types.len(), self.strings.len()] {
            b.extend_from_slice(&(w as u32).to_ne_bytes());
        }
        b.extend_from_slice(&types);
        b.extend_from_slice(&self.strings);
        b
    }

    /// The first id past the records.
    fn end_id(&self) -> u32 {
        self.start + self.records.len() as u32
    }

    /// The id of record `i`.
    fn id(&self, i: usize) -> u32 {
        self.start + i as u32
    }

    /// The record of an own id.
    fn index(&self, id: u32) -> Option<usize> {
        let i = id.checked_sub(self.start)? as usize;
        (i < self.records.len()).then_some(i)
    }

    fn kind(&self, i: usize) -> Kind {
        Info(self.records[i][1]).kind()
    }

    /// A record (its index) satisfying `pred`, if any does; only records
    /// whose words match their kind and vlen (an earlier mutation may have
    /// changed those).
    fn pick(&self, rng: &mut Rng, pred: impl Fn(Kind, &[u32]) -> bool) -> Option<usize> {
        let whole = |r: &[u32]| Info(r[1]).record_words(None) == Some(r.len());
        let fits: Vec<usize> = (0..self.records.len())
            .filter(|&i| whole(&self.records[i]) && pred(self.kind(i), &self.records[i]))
            .collect();
        (!fits.is_empty()).then(|| fits[rng.below(fits.len())])
    }

    /// Positions in the strings by what is there: mid-string, or the start
    /// of one (add `str_base` for a name offset).
    fn str_offsets(&self, mid: bool) -> Vec<u32> {
        let s = &self.strings;
        (1..s.len())
            .filter(|&i| s[i] != 0 && (s[i - 1] != 0) == mid)
            .map(|i| i as u32)
            .collect()
    }

    /// Appends a string, returning its offset.
    fn add_str(&mut self, s: &[u8]) -> u32 {
        let off = self.str_base + self.strings.len() as u32;
        self.strings.extend_from_slice(s);
        self.strings.push(0);
        off
    }

    fn kind_name(&self, i: usize) -> String {
        format!("[{}] {}", self.id(i), self.kind(i).name())
    }
}

/// The structure-aware mutations, by name.
pub const MUTATIONS: &[&str] = &[
    "kind",
    "kind_flag",
    "vlen small",
    "vlen absurd",
    "size",
    "type id",
    "modifier cycle",
    "name offset",
    "invalid name",
    "member offset",
    "member bitfield",
    "member order",
    "enum",
    "int",
    "array",
    "func linkage",
    "func proto",
    "var linkage",
    "datasec entry",
    "decl tag",
    "header",
    "string bytes",
    "kind reshaped",
    "record removed",
    "record duplicated",
    "deep chain",
    "nested arrays",
    "wide record",
];

/// Kinds with members of `n` words each (and that `n`).
fn member_words(kind: Kind) -> Option<usize> {
    match kind {
        Kind::Struct | Kind::Union | Kind::Enum64 | Kind::Datasec => Some(3),
        Kind::Enum | Kind::FuncProto => Some(2),
        _ => None,
    }
}

fn set_info(rec: &mut [u32], f: impl FnOnce(u32) -> u32) {
    rec[1] = f(rec[1]);
}

/// Applies mutation `m` (any but "header") to `s`: what was done, or `None`
/// (and `s` unchanged) where `s` has nothing it applies to.
pub fn mutate(s: &mut Seed, m: &str, rng: &mut Rng) -> Option<String> {
    let end = s.end_id();
    let any_id = |rng: &mut Rng| 1 + rng.below(end as usize - 1) as u32;
    let what = match m {
        "kind" => {
            let i = s.pick(rng, |_, _| true)?;
            let k = rng.below(32) as u32;
            set_info(&mut s.records[i], |v| v & !(0x1f << 24) | k << 24);
            format!("{} -> kind {k}", s.kind_name(i))
        }
        "kind_flag" => {
            let i = s.pick(rng, |_, _| true)?;
            set_info(&mut s.records[i], |v| v ^ 1 << 31);
            format!("{} kind_flag toggled", s.kind_name(i))
        }
        "vlen small" => {
            // A member more (a copy of the last) or less, or vlen 0.
            let i = s.pick(rng, |k, _| member_words(k).is_some() || k == Kind::Func)?;
            let name = s.kind_name(i);
            let rec = &mut s.records[i];
            let vlen = Info(rec[1]).vlen();
            let n = member_words(Info(rec[1]).kind()).unwrap_or(0);
            let new = match rng.below(3) {
                0 if vlen > 0 && n > 0 => {
                    let last = rec[rec.len() - n..].to_vec();
                    rec.extend(last);
                    vlen + 1
                }
                1 if vlen > 0 => {
                    rec.truncate(rec.len() - n);
                    vlen - 1
                }
                _ => {
                    rec.truncate(3 + (if n == 0 { rec.len() - 3 } else { 0 }));
                    0
                }
            };
            set_info(rec, |v| v & !0xff_ffff | new);
            format!("{name} vlen {vlen} -> {new} (records resized)")
        }
        "vlen absurd" => {
            let i = s.pick(rng, |_, _| true)?;
            let vlen = rng.pick(&[1, 2, 0xff, 0xffff, 0x1_0000, 0xff_ffff]);
            set_info(&mut s.records[i], |v| v & !0xff_ffff | vlen);
            format!("{} vlen -> {vlen:#x} (records not resized)", s.kind_name(i))
        }
        "size" => {
            let i = s.pick(rng, |k, _| k.has_size())?;
            let old = s.records[i][2];
            let new = rng.pick(&[
                0,
                1,
                2,
                3,
                5,
                8,
                16,
                old.wrapping_sub(1),
                old + 1,
                old.wrapping_mul(2),
                0x8000_0000,
                u32::MAX,
            ]);
            s.records[i][2] = new;
            format!("{} size {old} -> {new}", s.kind_name(i))
        }
        "type id" => {
            let i = s.pick(rng, |_, r| Info(r[1]).type_id_slots().next().is_some())?;
            let slots: Vec<usize> = Info(s.records[i][1]).type_id_slots().collect();
            let slot = rng.pick(&slots);
            let id = s.id(i);
            let new = match rng.below(6) {
                0 => 0,
                1 => id,
                2 => end,
                3 => end + 7,
                4 => u32::MAX,
                _ => any_id(rng),
            };
            s.records[i][slot] = new;
            format!("{} word {slot} (type id) -> {new}", s.kind_name(i))
        }
        "modifier cycle" => {
            // Follow a chain of modifiers and pointers from one of them and
            // point its last link back at its first.
            let links = |k: Kind| k.is_modifier() || k == Kind::Ptr;
            let first = s.pick(rng, |k, _| links(k))?;
            let mut last = first;
            for _ in 0..64 {
                match s.index(s.records[last][2]) {
                    Some(next) if links(s.kind(next)) && next != first => last = next,
                    _ => break,
                }
            }
            s.records[last][2] = s.id(first);
            format!(
                "{} -> {} closes a loop",
                s.kind_name(last),
                s.kind_name(first)
            )
        }
        "name offset" => {
            let i = s.pick(rng, |_, _| true)?;
            let slots: Vec<usize> = Info(s.records[i][1]).str_off_slots().collect();
            let slot = rng.pick(&slots);
            let len = s.str_base + s.strings.len() as u32;
            let mid: Vec<u32> = s.str_offsets(true).iter().map(|o| s.str_base + o).collect();
            let new = match rng.below(6) {
                0 => 0,
                1 => len,
                2 => len + 1,
                3 => 0xff_ffff,
                4 => 0x100_0000,
                _ if !mid.is_empty() => rng.pick(&mid),
                _ => 0,
            };
            s.records[i][slot] = new;
            format!("{} word {slot} (name) -> {new}", s.kind_name(i))
        }
        "invalid name" => {
            let i = s.pick(rng, |_, _| true)?;
            let slots: Vec<usize> = Info(s.records[i][1]).str_off_slots().collect();
            let slot = rng.pick(&slots);
            // KSYM_NAME_LEN is 512: the longest name the kernel takes, and one more.
            let (longest, long) = ([b'a'; 512], [b'a'; 513]);
            let names: [&[u8]; 16] = [
                b"",
                b"\x01a",
                b"a\xa0",
                b"\xc0\xdf",
                b"\xf7",
                b"a-b",
                b"1x",
                b"a b",
                b"x\x7f",
                b"\xff",
                b"\xe9t\xe9",
                b"\xd7",
                b".L1",
                b"_ok9",
                &longest,
                &long,
            ];
            let name = rng.pick(&names);
            s.records[i][slot] = s.add_str(name);
            format!(
                "{} word {slot} (name) -> {:?}",
                s.kind_name(i),
                String::from_utf8_lossy(&name[..name.len().min(8)])
            )
        }
        "member offset" | "member bitfield" => {
            let i = s.pick(rng, |k, r| {
                matches!(k, Kind::Struct | Kind::Union) && Info(r[1]).vlen() > 0
            })?;
            let rec = &mut s.records[i];
            let m_i = rng.below(Info(rec[1]).vlen() as usize);
            let at = 3 + 3 * m_i + 2;
            let old = rec[at];
            let kflag = Info(rec[1]).kind_flag();
            let (bits, off) = if kflag {
                (old >> 24, old & 0xff_ffff)
            } else {
                (0, old)
            };
            let size_bits = rec[2].wrapping_mul(8);
            let new = if m == "member offset" {
                let off = rng.pick(&[
                    0,
                    off + 1,
                    off + 8,
                    off.saturating_sub(8),
                    size_bits,
                    size_bits.wrapping_add(1),
                    0xff_ffff,
                    0x8000_0000,
                ]);
                if kflag {
                    bits << 24 | off & 0xff_ffff
                } else {
                    off
                }
            } else {
                // With kind_flag: the bitfield size; without: set kind_flag too.
                let bits = rng.pick(&[0u32, 1, 3, 8, 31, 32, 33, 64, 255]);
                if !kflag {
                    set_info(rec, |v| v | 1 << 31);
                }
                bits << 24 | off & 0xff_ffff
            };
            rec[at] = new;
            format!(
                "{} member {m_i} offset word {old:#x} -> {new:#x}{}",
                s.kind_name(i),
                if kflag { "" } else { " (kind_flag set)" }
            )
        }
        "member order" => {
            let i = s.pick(rng, |k, r| {
                matches!(
                    k,
                    Kind::Struct | Kind::Union | Kind::FuncProto | Kind::Datasec
                ) && Info(r[1]).vlen() > 1
            })?;
            let n = member_words(s.kind(i)).unwrap();
            let rec = &mut s.records[i];
            let vlen = Info(rec[1]).vlen() as usize;
            let a = rng.below(vlen);
            let b = (a + 1 + rng.below(vlen - 1)) % vlen;
            for w in 0..n {
                rec.swap(3 + a * n + w, 3 + b * n + w);
            }
            format!("{} members {a} and {b} swapped", s.kind_name(i))
        }
        "enum" => {
            let i = s.pick(rng, |k, _| matches!(k, Kind::Enum | Kind::Enum64))?;
            let name = s.kind_name(i);
            let rec = &mut s.records[i];
            match rng.below(4) {
                0 => {
                    let size = rng.pick(&[0u32, 1, 2, 3, 4, 5, 8, 16]);
                    rec[2] = size;
                    format!("{name} size -> {size}")
                }
                1 if rec.len() > 3 => {
                    rec[3] = 0;
                    format!("{name} first value anonymous")
                }
                2 if rec.len() > 3 => {
                    let v = rng.pick(&[u32::MAX, 0x8000_0000, 1 << 16]);
                    rec[4] = v;
                    format!("{name} first value -> {v:#x}")
                }
                _ => {
                    set_info(rec, |v| v ^ 1 << 31);
                    format!("{name} kind_flag (signedness) toggled")
                }
            }
        }
        "int" => {
            let i = s.pick(rng, |k, _| k == Kind::Int)?;
            let name = s.kind_name(i);
            let rec = &mut s.records[i];
            let old = rec[3];
            let new = match rng.below(3) {
                0 => old & !(0xf << 24) | rng.pick(&[0u32, 1, 2, 3, 4, 8, 0xf]) << 24,
                1 => old & !(0xff << 16) | rng.pick(&[0u32, 1, 7, 8, 64, 128, 255]) << 16,
                _ => old & !0xff | rng.pick(&[0u32, 1, 7, 8, 31, 32, 33, 64, 128, 129, 255]),
            };
            rec[3] = new;
            format!("{name} int data {old:#x} -> {new:#x}")
        }
        "array" => {
            let i = s.pick(rng, |k, _| k == Kind::Array)?;
            let name = s.kind_name(i);
            let non_int: Vec<u32> = (0..s.records.len())
                .filter(|&j| s.kind(j) != Kind::Int)
                .map(|j| s.id(j))
                .collect();
            let own = s.id(i);
            let rec = &mut s.records[i];
            match rng.below(3) {
                0 => {
                    let v = if non_int.is_empty() || rng.below(3) == 0 {
                        rng.pick(&[0, end])
                    } else {
                        rng.pick(&non_int)
                    };
                    rec[4] = v;
                    format!("{name} index type -> {v}")
                }
                1 => {
                    let other = any_id(rng);
                    let v = rng.pick(&[0, own, end, other]);
                    rec[3] = v;
                    format!("{name} element type -> {v}")
                }
                _ => {
                    let v = rng.pick(&[0u32, 1, 0x4000_0001, 0x8000_0000, u32::MAX]);
                    rec[5] = v;
                    format!("{name} nelems -> {v:#x}")
                }
            }
        }
        "func linkage" => {
            let i = s.pick(rng, |k, _| k == Kind::Func)?;
            let l = rng.pick(&[0u32, 1, 2, 3, 4, 0xffff]);
            set_info(&mut s.records[i], |v| v & !0xff_ffff | l);
            format!("{} linkage -> {l}", s.kind_name(i))
        }
        "func proto" => {
            let i = s.pick(rng, |k, _| k == Kind::FuncProto)?;
            let name = s.kind_name(i);
            let funcs: Vec<u32> = (0..s.records.len())
                .filter(|&j| matches!(s.kind(j), Kind::Func | Kind::Datasec | Kind::Var))
                .map(|j| s.id(j))
                .collect();
            let a = s.add_str(b"arg");
            let rec = &mut s.records[i];
            let vlen = Info(rec[1]).vlen() as usize;
            match rng.below(4) {
                0 if !funcs.is_empty() => {
                    let v = rng.pick(&funcs);
                    rec[2] = v;
                    format!("{name} return type -> {v}")
                }
                1 if vlen > 0 => {
                    let p = rng.below(vlen);
                    rec[3 + 2 * p + 1] = 0;
                    format!("{name} param {p} -> void (varargs)")
                }
                2 if vlen > 0 => {
                    let p = rng.below(vlen);
                    rec[3 + 2 * p] = rng.pick(&[0, a]);
                    format!("{name} param {p} name -> {}", rec[3 + 2 * p])
                }
                _ => {
                    let v = rng.pick(&[0, a]);
                    rec[0] = v;
                    format!("{name} name -> {v}")
                }
            }
        }
        "var linkage" => {
            let i = s.pick(rng, |k, _| k == Kind::Var)?;
            let l = rng.pick(&[0u32, 1, 2, 3, u32::MAX]);
            s.records[i][3] = l;
            format!("{} linkage -> {l:#x}", s.kind_name(i))
        }
        "datasec entry" => {
            let i = s.pick(rng, |k, _| k == Kind::Datasec)?;
            let name = s.kind_name(i);
            let rec = &mut s.records[i];
            let vlen = Info(rec[1]).vlen() as usize;
            if vlen == 0 || rng.below(5) == 0 {
                let v = rng.pick(&[0u32, 1, rec[2].saturating_sub(1), u32::MAX]);
                rec[2] = v;
                format!("{name} size -> {v}")
            } else {
                let e = rng.below(vlen);
                let at = 3 + 3 * e;
                let (ty, off, size) = (rec[at], rec[at + 1], rec[at + 2]);
                match rng.below(3) {
                    0 => {
                        let other = any_id(rng);
                        let v = rng.pick(&[0, end, other]);
                        rec[at] = v;
                        format!("{name} entry {e} type {ty} -> {v}")
                    }
                    1 => {
                        let v = rng.pick(&[0, off + 1, off + size, rec[2], u32::MAX]);
                        rec[at + 1] = v;
                        format!("{name} entry {e} offset {off} -> {v}")
                    }
                    _ => {
                        let v = rng.pick(&[0, 1, size + 1, size.saturating_sub(1), u32::MAX]);
                        rec[at + 2] = v;
                        format!("{name} entry {e} size {size} -> {v}")
                    }
                }
            }
        }
        "decl tag" => {
            let i = s.pick(rng, |k, _| k == Kind::DeclTag)?;
            let name = s.kind_name(i);
            let tvlen = s
                .index(s.records[i][2])
                .map_or(0, |t| Info(s.records[t][1]).vlen());
            if rng.below(4) == 0 {
                let v = any_id(rng);
                s.records[i][2] = v;
                format!("{name} target -> {v}")
            } else {
                let v = rng.pick(&[
                    u32::MAX,
                    u32::MAX - 1,
                    0,
                    1,
                    tvlen.saturating_sub(1),
                    tvlen,
                    0x7fff_ffff,
                ]);
                s.records[i][3] = v;
                format!("{name} component_idx -> {}", v as i32)
            }
        }
        "kind reshaped" => reshape(s, rng),
        "record removed" => {
            let i = s.pick(rng, |_, _| true)?;
            let name = s.kind_name(i);
            s.records.remove(i);
            let removed = s.id(i);
            renumber(s, |id| if id > removed { id - 1 } else { id });
            format!("{name} removed, later ids renumbered")
        }
        "record duplicated" => {
            let i = s.pick(rng, |_, _| true)?;
            let copy = s.records[i].clone();
            s.records.insert(i + 1, copy);
            let copied = s.id(i);
            renumber(s, |id| if id > copied { id + 1 } else { id });
            format!("{} duplicated, later ids renumbered", s.kind_name(i))
        }
        "deep chain" => {
            // 16 to 40 types in a row (the kernel's walk goes 32 deep), each
            // on the one before or the one after, ending at an existing
            // type; their head is taken by a new PTR or an existing type id
            // slot. Modifiers only (half of them without type tags, which
            // must come first), or mixed with structs, unions, arrays and
            // pointers (all of 8 bytes at most, so sizes stay valid).
            let len = rng.pick(&[16usize, 31, 32, 33, 34, 40]);
            let forward = rng.below(2) == 0;
            let target = any_id(rng);
            let name = s.add_str(b"t");
            let int = s.pick(rng, |k, r| {
                k == Kind::Int && r[2] <= 8 && r[3] & 0xff == r[2] * 8
            });
            let mut kinds = vec![Kind::Const, Kind::Volatile, Kind::Restrict, Kind::Typedef];
            match rng.below(3) {
                0 => {}
                1 => kinds.push(Kind::TypeTag),
                _ => {
                    kinds.extend([Kind::Struct, Kind::Union, Kind::Ptr]);
                    if int.is_some() {
                        kinds.push(Kind::Array);
                    }
                }
            }
            let first = s.end_id();
            for k in 0..len as u32 {
                let next = match (forward, k) {
                    (true, k) if k + 1 < len as u32 => first + k + 1,
                    (false, k) if k > 0 => first + k - 1,
                    _ => target,
                };
                let kind = rng.pick(&kinds);
                let info = Info::new(kind, false, (kind.has_size() as u32) & 1).0;
                s.records.push(match kind {
                    Kind::Struct | Kind::Union => vec![name, info, 8, name, next, 0],
                    Kind::Array => vec![0, info, 0, next, s.id(int.unwrap_or(0)), 1],
                    Kind::TypeTag | Kind::Typedef => vec![name, info, next],
                    _ => vec![0, info, next],
                });
            }
            let prev = if forward {
                first
            } else {
                first + len as u32 - 1
            };
            let (len, target) = (
                format!("{len} {}", if forward { "forward" } else { "backward" }),
                format!("{target}] ({})", kinds.len()),
            );
            let taker = s.pick(rng, |_, r| Info(r[1]).type_id_slots().next().is_some());
            match taker {
                Some(i) if rng.below(2) == 0 => {
                    let slots: Vec<usize> = Info(s.records[i][1]).type_id_slots().collect();
                    let slot = rng.pick(&slots);
                    s.records[i][slot] = prev;
                    format!(
                        "{len} types to [{target}, their head in {} word {slot}",
                        s.kind_name(i)
                    )
                }
                _ => {
                    s.records
                        .push(vec![0, Info::new(Kind::Ptr, false, 0).0, prev]);
                    format!("{len} types to [{target}, their head under a new PTR")
                }
            }
        }
        "nested arrays" => {
            // 16 to 40 arrays, each of the one before, the first of an INT,
            // as the member of a new struct of about their size.
            let int = s.pick(rng, |k, r| k == Kind::Int && r[2] > 0)?;
            let depth = rng.pick(&[16usize, 31, 32, 33, 40]);
            let (mut elem, mut size) = (s.id(int), s.records[int][2] as u64);
            for _ in 0..depth {
                let n = rng.pick(&[1u32, 1, 1, 2]);
                s.records.push(vec![
                    0,
                    Info::new(Kind::Array, false, 0).0,
                    0,
                    elem,
                    s.id(int),
                    n,
                ]);
                elem = s.end_id() - 1;
                size *= n as u64;
            }
            let st = (size as u32).wrapping_add(rng.pick(&[0, 0, u32::MAX, 4]));
            let m = s.add_str(b"m");
            s.records
                .push(vec![0, Info::new(Kind::Struct, false, 1).0, st, m, elem, 0]);
            format!("{depth} nested arrays of {size} bytes in a struct of {st}")
        }
        "wide record" => {
            // Up to and past the 16-bit vlen, by repeating the last member.
            let i = s.pick(rng, |k, r| {
                member_words(k).is_some() && Info(r[1]).vlen() > 0
            })?;
            let n = member_words(s.kind(i)).unwrap();
            let vlen = rng.pick(&[0xfffeu32, 0xffff, 0x1_0000]);
            let rec = &mut s.records[i];
            let last = rec[rec.len() - n..].to_vec();
            while rec.len() < 3 + n * vlen as usize {
                rec.extend_from_slice(&last);
            }
            set_info(rec, |v| v & !0xff_ffff | vlen);
            format!(
                "{} vlen -> {vlen:#x} (last member repeated)",
                s.kind_name(i)
            )
        }
        "string bytes" => string_bytes(s, rng),
        other => unreachable!("mutation {other}"),
    };
    Some(what)
}

/// Maps every type id of every record (where the record is whole).
fn renumber(s: &mut Seed, f: impl Fn(u32) -> u32) {
    for rec in &mut s.records {
        for slot in Info(rec[1]).type_id_slots() {
            if let Some(w) = rec.get_mut(slot) {
                *w = f(*w);
            }
        }
    }
}

/// A record turned into another kind, with the words that kind needs (the
/// old ones where there are enough, else small numbers, ids and names).
fn reshape(s: &mut Seed, rng: &mut Rng) -> String {
    let i = rng.below(s.records.len());
    let old = s.records[i].clone();
    let kind = Kind::from_raw(1 + rng.below(19) as u8);
    let vlen = match kind {
        Kind::Func => rng.below(3) as u32,
        k if member_words(k).is_some() => Info(old[1]).vlen().clamp(1, 4),
        _ => 0,
    };
    let extra = match kind {
        Kind::Int | Kind::Var | Kind::DeclTag => 1,
        Kind::Array => 3,
        k => member_words(k).unwrap_or(0) * vlen as usize,
    };
    let names: Vec<u32> = s
        .str_offsets(false)
        .iter()
        .map(|o| s.str_base + o)
        .collect();
    let end = s.end_id();
    let mut rec = vec![
        old[0],
        Info::new(kind, Info(old[1]).kind_flag(), vlen).0,
        old[2],
    ];
    for w in 0..extra {
        let v = match old.get(3 + w) {
            Some(&v) if rng.below(4) != 0 => v,
            _ => match rng.below(4) {
                0 => rng.pick(&[0, 1, 8, 32]),
                1 if !names.is_empty() => rng.pick(&names),
                _ => 1 + rng.below(end as usize - 1) as u32,
            },
        };
        rec.push(v);
    }
    let what = format!("{} reshaped into {}", s.kind_name(i), kind.name());
    s.records[i] = rec;
    what
}

/// One header field changed.
pub fn header(b: &mut Vec<u8>, rng: &mut Rng) -> String {
    let set = |b: &mut Vec<u8>, at: usize, v: u32| b[at..at + 4].copy_from_slice(&v.to_ne_bytes());
    let get = |b: &[u8], at: usize| u32::from_ne_bytes(b[at..at + 4].try_into().unwrap());
    match rng.below(4) {
        0 => {
            // A longer header, its tail zero or not, or a shorter hdr_len.
            let len = rng.pick(&[0u32, 4, 8, 16, 20, 23, 25, 28, 32]);
            if len > 24 {
                let tail = rng.below(2) as u8;
                let mut t = vec![0u8; len as usize - 24];
                t[0] = tail;
                b.splice(24..24, t);
            }
            set(b, 4, len);
            format!("hdr_len -> {len}")
        }
        1 if rng.below(4) == 0 => {
            // The whole header in the other byte order (the kernel reads its own).
            for at in [4, 8, 12, 16, 20] {
                let v = get(b, at);
                set(b, at, v.swap_bytes());
            }
            b[..2].reverse();
            "header in the other byte order".into()
        }
        1 => {
            let (at, v) = rng.pick(&[(0usize, 0xeb9eu32), (2, 2), (2, 0), (3, 1)]);
            if at == 0 {
                b[..2].copy_from_slice(&(v as u16).to_ne_bytes());
            } else {
                b[at] = v as u8;
            }
            format!("header byte {at} -> {v:#x}")
        }
        _ => {
            let at = rng.pick(&[8usize, 12, 16, 20]);
            let field = ["type_off", "type_len", "str_off", "str_len"][(at - 8) / 4];
            let old = get(b, at);
            let v = rng.pick(&[
                0,
                old.wrapping_add(1),
                old.wrapping_sub(1),
                old.wrapping_add(4),
                old.wrapping_sub(4),
                old.wrapping_add(12),
                u32::MAX,
            ]);
            set(b, at, v);
            format!("{field} {old} -> {v}")
        }
    }
}

/// The string section's bytes damaged (the header still describes them).
fn string_bytes(s: &mut Seed, rng: &mut Rng) -> String {
    let seed = s.clone();
    let what = match rng.below(4) {
        0 => {
            let last = s.strings.len() - 1;
            s.strings[last] = b'x';
            "no trailing NUL".to_string()
        }
        1 => {
            s.strings[0] = b'x';
            "first byte not NUL".to_string()
        }
        _ => {
            let names = s.str_offsets(false);
            let mids = s.str_offsets(true);
            let pool = if rng.below(2) == 0 || mids.is_empty() {
                names
            } else {
                mids
            };
            if pool.is_empty() {
                s.strings.pop();
                return "no trailing NUL (string dropped)".into();
            }
            let at = rng.pick(&pool) as usize;
            let c = rng.pick(&[b'-', b' ', 0xff, 0x80, b'\t', 0, b'9', b'.', b'@']);
            let old = s.strings[at];
            s.strings[at] = c;
            let start = s.strings[..at]
                .iter()
                .rposition(|&c| c == 0)
                .map_or(0, |p| p + 1);
            let end = s.strings[at + 1..]
                .iter()
                .position(|&c| c == 0)
                .map_or(s.strings.len(), |p| at + 1 + p);
            format!(
                "string byte {at} {:?} -> {c:#04x} in {:?}",
                old as char,
                String::from_utf8_lossy(&seed.strings[start..end])
            )
        }
    };
    what
}
