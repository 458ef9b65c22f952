//! decl_tag_kfuncs (pahole 1.30): which functions are kfuncs, read from the
//! input's `.BTF_ids` as the linker left it.
//!
//! A `__BTF_ID__set8__*` symbol whose set flags have `BTF_SET8_KFUNCS`
//! spans a range of `.BTF_ids`; every `__BTF_ID__func__NAME__N` symbol in
//! such a range makes NAME a kfunc, with the flags word that follows its id
//! slot (`KF_FASTCALL` there adds a second tag).

use object::read::elf::{ElfFile, FileHeader, Sym};
use object::{Object, ObjectSection, ObjectSymbol, ObjectSymbolTable};

use crate::{Error, Result};

const BTF_IDS_SECTION: &str = ".BTF_ids";
const SET8_PREFIX: &[u8] = b"__BTF_ID__set8__";
const FUNC_PREFIX: &[u8] = b"__BTF_ID__func__";
/// `BTF_SET8_KFUNCS`: the set flag that marks a kfunc set.
const SET8_KFUNCS: u32 = 1 << 0;
/// `KF_FASTCALL`: the kfunc flag behind the `bpf_fastcall` tag.
pub const KF_FASTCALL: u32 = 1 << 12;
/// The kfunc returns an arena pointer (pahole 1.32's `attributes`).
pub const KF_ARENA_RET: u32 = 1 << 13;
/// Its first parameter is an arena pointer.
pub const KF_ARENA_ARG1: u32 = 1 << 14;
/// Its second parameter is an arena pointer.
pub const KF_ARENA_ARG2: u32 = 1 << 15;

/// The kfuncs of `file`: (function name, flags), in symbol table order
/// (a later symbol of the same function overrides an earlier one, as in
/// pahole). Empty without `.BTF_ids` or a symbol table.
pub fn collect<'a, H: FileHeader>(file: &ElfFile<'a, H>) -> Result<Vec<(&'a [u8], u32)>> {
    let Some(section) = file.section_by_name(BTF_IDS_SECTION) else {
        return Ok(Vec::new());
    };
    let Some(symtab) = file.symbol_table() else {
        return Ok(Vec::new());
    };
    let data = crate::input::section_data(&section)?;
    let addr = section.address();
    let little = file.is_little_endian();
    let word = |off: u64| -> Option<u32> {
        let off = usize::try_from(off).ok()?;
        let b: [u8; 4] = data.get(off..off.checked_add(4)?)?.try_into().ok()?;
        Some(if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    };
    let endian = file.endian();
    let in_section = |sym: &object::read::elf::ElfSymbol<'a, '_, H>| {
        sym.section_index() == Some(section.index())
    };
    let mut ranges = Vec::new();
    for sym in symtab.symbols().filter(|s| in_section(s)) {
        let name = sym.name_bytes().map_err(Error::from)?;
        if !name.starts_with(SET8_PREFIX) {
            continue;
        }
        let value: u64 = sym.elf_symbol().st_value(endian).into();
        let size: u64 = sym.elf_symbol().st_size(endian).into();
        let off = value.wrapping_sub(addr);
        // struct btf_id_set8 { u32 cnt; u32 flags; ... }
        if word(off.wrapping_add(4)).is_some_and(|flags| flags & SET8_KFUNCS != 0) {
            ranges.push((value, value.wrapping_add(size)));
        }
    }
    let mut kfuncs = Vec::new();
    for sym in symtab.symbols().filter(|s| in_section(s)) {
        let name = sym.name_bytes().map_err(Error::from)?;
        let Some(func) = func_name(name) else {
            continue;
        };
        let value: u64 = sym.elf_symbol().st_value(endian).into();
        if !ranges
            .iter()
            .any(|&(start, end)| start <= value && value < end)
        {
            continue;
        }
        // struct btf_id_and_flag { u32 id; u32 flags; } at the symbol.
        let flags = word(value.wrapping_sub(addr).wrapping_add(4)).ok_or_else(|| {
            Error::Elf(format!(
                "kfunc {:?}: its id pair lies outside {BTF_IDS_SECTION}",
                String::from_utf8_lossy(func)
            ))
        })?;
        kfuncs.push((func, flags));
    }
    Ok(kfuncs)
}

/// pahole's `get_func_name`: `__BTF_ID__func__vfs_close__1` -> `vfs_close`.
fn func_name(sym: &[u8]) -> Option<&[u8]> {
    let rest = sym.strip_prefix(FUNC_PREFIX)?;
    if !rest.windows(2).any(|w| w == b"__") {
        return None;
    }
    let end = rest.iter().rposition(|&c| c == b'_')?;
    (end > 0 && rest[end - 1] == b'_').then(|| &rest[..end - 1])
}

#[cfg(test)]
mod tests {
    use super::func_name;

    #[test]
    fn btf_id_symbols_name_functions() {
        assert_eq!(
            func_name(b"__BTF_ID__func__vfs_close__1"),
            Some(&b"vfs_close"[..])
        );
        assert_eq!(
            func_name(b"__BTF_ID__func__bpf__x__12"),
            Some(&b"bpf__x"[..])
        );
        assert_eq!(func_name(b"__BTF_ID__func___"), None);
        assert_eq!(func_name(b"__BTF_ID__struct__x__1"), None);
        assert_eq!(func_name(b"__BTF_ID__func__a_1__"), Some(&b"a_1"[..]));
    }
}
