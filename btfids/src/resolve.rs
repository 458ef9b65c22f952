//! Resolving names to BTF type ids, as upstream does: walk every type id
//! from 1 (base types included), consider FUNC, STRUCT, UNION and TYPEDEF,
//! and give each name the first id with its name and kind. Later matches
//! are "multiple IDs" warnings.

use hashbrown::HashMap;
use rustc_hash::FxBuildHasher;

use kbtf_btf::Kind;

use crate::elf::IdSymbol;
use crate::names::{NameFilter, TypeNames};
use crate::symbol::IdKind;

/// The id each symbol's name resolves to (0: unresolved, or a set), and the warnings.
#[derive(Clone, Debug, Default)]
pub struct Resolved {
    /// Parallel to the symbols resolved.
    pub ids: Vec<u32>,
    /// Upstream's warnings (unresolved symbols, several ids).
    pub warnings: Vec<String>,
}

const KINDS: [IdKind; 4] = [IdKind::Struct, IdKind::Union, IdKind::Typedef, IdKind::Func];

fn slot_of(kind: Kind) -> Option<usize> {
    match kind {
        Kind::Struct => Some(0),
        Kind::Union => Some(1),
        Kind::Typedef => Some(2),
        Kind::Func => Some(3),
        _ => None,
    }
}

/// Resolves the names of `symbols` against `btf` (and its base).
pub fn resolve_names(symbols: &[IdSymbol], btf: &dyn TypeNames) -> kbtf_btf::Result<Resolved> {
    // Per kind: name -> index of the unique name; its id.
    let mut names: [HashMap<&[u8], usize, FxBuildHasher>; 4] = Default::default();
    let mut unique: Vec<(IdKind, &[u8], u32)> = Vec::new();
    // Upstream counts symbols, not names, and stops looking at a kind once
    // that many names were resolved; this decides which duplicates warn.
    let mut remaining = [0usize; 4];
    let mut of_symbol = Vec::with_capacity(symbols.len());
    for sym in symbols {
        let Some(k) = KINDS.iter().position(|&k| k == sym.kind) else {
            of_symbol.push(None);
            continue;
        };
        remaining[k] += 1;
        let next = unique.len();
        let u = *names[k].entry(&sym.name).or_insert(next);
        if u == next {
            unique.push((sym.kind, &sym.name, 0));
        }
        of_symbol.push(Some(u));
    }

    let mut warnings = Vec::new();
    if !unique.is_empty() {
        let filter = NameFilter::new(
            &[Kind::Struct, Kind::Union, Kind::Typedef, Kind::Func],
            Some(unique.iter().map(|u| u.1)),
        );
        btf.visit(&filter, &mut |id, kind, name| {
            let Some(k) = slot_of(kind) else { return true };
            if remaining[k] == 0 {
                return true;
            }
            let Some(&u) = names[k].get(name) else {
                return true;
            };
            let entry = &mut unique[u];
            if entry.2 != 0 {
                warnings.push(format!(
                    "multiple IDs found for '{}': {}, {} - using {}",
                    String::from_utf8_lossy(name),
                    entry.2,
                    id,
                    entry.2
                ));
            } else {
                entry.2 = id;
                remaining[k] -= 1;
            }
            remaining.iter().any(|&r| r != 0)
        })?;
    }
    Ok(Resolved {
        ids: of_symbol
            .into_iter()
            .map(|u| u.map_or(0, |u| unique[u].2))
            .collect(),
        warnings,
    })
}
