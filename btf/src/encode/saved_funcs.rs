//! pahole 1.30's functions: saved while the units are encoded, emitted
//! after the last one.
//!
//! Each unit's definitions that match an ELF function (exactly, or by the
//! name before the dot with optimized_func) are saved with their prototype
//! in BTF ids and their strings already interned. At the end the saved
//! functions are sorted by ELF name with glibc's `qsort` (see
//! [`super::elf_functions`] for the comparator), neighbours that name the
//! same function are compared, and the first of each run is emitted:
//! FUNC_PROTO, FUNC, its kfunc tags, its decl tags. With consistent_func a
//! run whose prototypes disagree, or that passes a parameter in an
//! unexpected register, is dropped.

use super::cu::Function;
use super::elf_functions::ElfFunctions;
use crate::{Btf, Kind, StrOff, TypeId};

/// One saved definition (`struct btf_encoder_func_state`).
#[derive(Clone, Debug)]
pub struct SavedFunc {
    /// Its entry in the ELF function table.
    pub elf: usize,
    pub ret: u32,
    /// (name, type) of each parameter; varargs as a last nameless void one.
    pub params: Vec<(StrOff, u32)>,
    /// Decl tags: (value, component index).
    pub annots: Vec<(StrOff, i32)>,
    pub unexpected_reg: bool,
    pub inconsistent_proto: bool,
    pub die: u64,
    /// pahole 1.32: the DWARF address, and what the DWARF loader found.
    pub addr: u64,
    pub optimized_parms: bool,
    pub reordered_parm: bool,
    /// pahole 1.32: a symbol at `addr` has a `.isra` or `.constprop` suffix.
    pub optimized_symbol: bool,
}

impl SavedFunc {
    /// pahole 1.32's `skip_optimized_parms` (true signatures off; the
    /// signature changes it also looks at are clang's only).
    fn skip_optimized(&self) -> bool {
        self.optimized_parms && self.optimized_symbol
    }
}

/// The ELF function a DWARF function is saved under, and whether it was
/// found by its prefix only (then the DWARF name becomes the entry's alias).
pub fn lookup(
    table: &ElfFunctions<'_>,
    f: &Function<'_>,
    optimized: bool,
) -> Option<(usize, bool)> {
    if f.declaration || f.params.iter().any(|p| p.name.is_none()) {
        return None;
    }
    // Without function symbols pahole 1.30 encodes no functions at all.
    if table.is_empty() {
        return None;
    }
    let name = f.name?;
    if let Some(i) = table.find_exact(name) {
        return Some((i, false));
    }
    if table.suffix_cnt > 0 && optimized {
        return table.find_prefix(name).map(|i| (i, true));
    }
    None
}

/// Sorts the saved functions and returns those to emit, in order.
pub fn select(
    mut saved: Vec<SavedFunc>,
    table: &ElfFunctions<'_>,
    btf: &Btf,
    consistent_func: bool,
) -> Vec<SavedFunc> {
    super::glibc::qsort(&mut saved, &mut |a, b| table.cmp(a.elf, b.elf));
    let mut out = Vec::new();
    let mut i = 0;
    while i < saved.len() {
        let mut j = i + 1;
        while j < saved.len() && table.same_function(saved[i].elf, saved[j].elf) {
            let (a, b) = (&saved[i], &saved[j]);
            let unexpected = a.unexpected_reg | b.unexpected_reg;
            let mut inconsistent = a.inconsistent_proto | b.inconsistent_proto;
            let reordered = table.grouped && (a.reordered_parm | b.reordered_parm);
            if !unexpected && !inconsistent && !reordered && !funcs_match(btf, a, b) {
                inconsistent = true;
            }
            for k in [i, j] {
                saved[k].unexpected_reg = unexpected;
                saved[k].inconsistent_proto = inconsistent;
                if table.grouped {
                    saved[k].reordered_parm = reordered;
                }
            }
            j += 1;
        }
        if !table.grouped {
            let state = &saved[i];
            if !consistent_func || (!state.unexpected_reg && !state.inconsistent_proto) {
                out.push(state.clone());
            }
            i = j;
            continue;
        }
        // pahole 1.32's btf_encoder__add_saved_funcs.
        let entry = &table.entries[saved[i].elf];
        let canonical = if j - i > 1 {
            let at_symbol = |s: &SavedFunc| entry.syms.iter().any(|&(_, a)| a == s.addr);
            saved[i..j]
                .iter()
                .find(|s| at_symbol(s) && !s.skip_optimized())
                .or_else(|| saved[i..j].iter().find(|s| at_symbol(s)))
                .unwrap_or(&saved[i])
        } else {
            &saved[i]
        };
        let state = &saved[i];
        let skip = state.unexpected_reg
            || (consistent_func && state.inconsistent_proto)
            || state.reordered_parm
            || canonical.skip_optimized()
            || entry.ambiguous;
        if !skip {
            out.push(canonical.clone());
        }
        i = j;
    }
    out
}

/// pahole's `funcs__match`: parameter count, return and parameter types.
fn funcs_match(btf: &Btf, a: &SavedFunc, b: &SavedFunc) -> bool {
    a.params.len() == b.params.len()
        && types_match(btf, a.ret, b.ret)
        && a.params
            .iter()
            .zip(&b.params)
            .all(|(p, q)| types_match(btf, p.1, q.1))
}

/// The kind a FWD stands for.
fn fwd_kind(words: &[u32]) -> Kind {
    let info = crate::Info(words[1]);
    match info.kind() {
        Kind::Fwd if info.kind_flag() => Kind::Union,
        Kind::Fwd => Kind::Struct,
        k => k,
    }
}

/// pahole 1.30's `types__match` on two ids of one BTF: modifiers and
/// pointers followed, named types compared by name, a `const` on one side
/// only skipped. Its FUNC_PROTO case compares the return types once per
/// parameter and never the parameters: so is this.
fn types_match(btf: &Btf, id1: u32, id2: u32) -> bool {
    let (mut id1, mut id2) = (id1, id2);
    // Chains end at a named type or void; the bound only guards bad input.
    for _ in 0..btf.type_count() + 1 {
        if id1 == id2 {
            return true;
        }
        if id1 == 0 || id2 == 0 {
            return false;
        }
        let (Ok(t1), Ok(t2)) = (btf.get(TypeId(id1)), btf.get(TypeId(id2))) else {
            return false;
        };
        let (w1, w2) = (t1.words(), t2.words());
        let (k1, k2) = (fwd_kind(w1), fwd_kind(w2));
        if k1 != k2 {
            if k1 == Kind::Const {
                id1 = w1[2];
                continue;
            }
            if k2 == Kind::Const {
                id2 = w2[2];
                continue;
            }
            return false;
        }
        let names = || btf.str_at(StrOff(w1[0])) == btf.str_at(StrOff(w2[0]));
        match k1 {
            Kind::Int => return w1[2] == w2[2] && w1[3] == w2[3] && names(),
            Kind::Float => return w1[2] == w2[2] && names(),
            Kind::Typedef | Kind::Struct | Kind::Union | Kind::Enum | Kind::Enum64 => {
                return names()
            }
            Kind::Ptr | Kind::Volatile | Kind::Const | Kind::Restrict | Kind::TypeTag => {
                id1 = w1[2];
                id2 = w2[2];
            }
            Kind::Array => {
                // name, info, 0, type, index type, nelems
                if w1[5] != w2[5] {
                    return false;
                }
                id1 = w1[3];
                id2 = w2[3];
            }
            Kind::FuncProto => {
                let vlen = crate::Info(w1[1]).vlen();
                if vlen != crate::Info(w2[1]).vlen() {
                    return false;
                }
                return types_match(btf, w1[2], w2[2]);
            }
            _ => return false,
        }
    }
    false
}
