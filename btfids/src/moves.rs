//! Carrying symbol moves from `resolve_btfids --btf` to `--patch_btfids`.
//!
//! In gen-btf.sh's flow (kernel 7.x) the resolving run must leave the ELF
//! file alone and write the new `.BTF_ids` to `ELF.BTF_ids`, which a later
//! `--patch_btfids` copies in. The symbol moves that keep each member with
//! its entry then have to wait for the patch: kbtf writes them beside the
//! blob (`ELF.BTF_ids.moves`), and the patch applies them when the file is
//! there and was made for that very blob.
//!
//! The format is text: a header `kbtf-btfids-moves 1 <blob length> <blob FNV-1a>`,
//! then one line per move: `<from offset> <to offset> <kind> <name>`
//! (offsets in `.BTF_ids`, hexadecimal). A symbol is found by its offset and
//! name, so the file also fits the final vmlinux linked after the one resolved.

use std::fmt::Write as _;

use crate::elf::IdsElf;
use crate::patch::SymbolMove;
use crate::{Error, Result};

/// The suffix of the moves file, after the blob's path.
pub const SUFFIX: &str = ".moves";

const MAGIC: &str = "kbtf-btfids-moves 1";

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The moves file for `moves`, computed by resolving `elf` into `blob`.
pub fn encode(elf: &IdsElf, blob: &[u8], moves: &[SymbolMove]) -> String {
    let mut s = format!("{MAGIC} {} {:016x}\n", blob.len(), fnv1a(blob));
    for m in moves {
        let sym = elf.symbols.iter().find(|s| s.index == m.index);
        let (kind, name) = sym.map_or(("?".into(), "?".into()), |s| {
            (s.kind.to_string(), s.name_str().into_owned())
        });
        let from = m.from - elf.section.addr;
        let to = m.to - elf.section.addr;
        let _ = writeln!(s, "{from:x} {to:x} {kind} {name}");
    }
    s
}

/// The moves a moves file asks of `elf`, once `blob` is its `.BTF_ids`.
/// Errors if the file was made for another blob or names a symbol that is not there.
pub fn decode(text: &str, elf: &IdsElf, blob: &[u8]) -> Result<Vec<SymbolMove>> {
    let bad = |what: String| Error::Moves(what);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let expect = format!("{MAGIC} {} {:016x}", blob.len(), fnv1a(blob));
    if header != expect {
        return Err(bad(format!(
            "made for another .BTF_ids blob (header {header:?}, expected {expect:?})"
        )));
    }
    let mut moves = Vec::new();
    for line in lines {
        let mut f = line.splitn(4, ' ');
        let (Some(from), Some(to), Some(kind), Some(name)) =
            (f.next(), f.next(), f.next(), f.next())
        else {
            return Err(bad(format!("malformed line {line:?}")));
        };
        let off = |v: &str| {
            u64::from_str_radix(v, 16).map_err(|_| bad(format!("bad offset in {line:?}")))
        };
        let (from, to) = (off(from)?, off(to)?);
        if to.checked_add(4).is_none_or(|e| e > elf.section.size) {
            return Err(bad(format!("offset {to:#x} is outside .BTF_ids")));
        }
        let sym = elf
            .symbols
            .iter()
            .find(|s| s.offset == from && s.kind.as_str() == kind && s.name == name.as_bytes())
            .ok_or_else(|| bad(format!("no symbol {kind} {name} at offset {from:#x}")))?;
        moves.push(SymbolMove {
            index: sym.index,
            name: sym.display(),
            from: sym.value,
            to: elf.value_of_offset(to),
        });
    }
    Ok(moves)
}
