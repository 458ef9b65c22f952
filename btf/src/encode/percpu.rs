//! Which DWARF variables become VARs of the `.data..percpu` DATASEC:
//! pahole 1.24's rule, matching DWARF addresses with per-CPU ELF symbols.

use super::cu::{CuModel, Variable};
use super::symbols::Percpu;

/// pahole 1.30's `filter_variable_name`: prefixes of symbols that are
/// never worth a VAR.
pub fn filtered_name(name: &[u8]) -> bool {
    const SKIP: &[&[u8]] = &[
        b"__UNIQUE_ID",
        b"__tpstrtab_",
        b"__exitcall_",
        b"__gendwarfksyms_ptr_",
        b"__func_stack_frame_non_standard_",
    ];
    name.first() == Some(&b'_') && SKIP.iter().any(|p| name.starts_with(p))
}

/// A per-CPU variable to encode.
pub struct PercpuVarInfo<'a> {
    /// The ELF symbol's name (not the DWARF one).
    pub name: &'a [u8],
    /// Offset in the section and size, from the symbol.
    pub offset: u32,
    pub size: u32,
}

/// Why a selected variable cannot be encoded.
pub struct VoidVariable;

/// The per-CPU symbol `var` defines, if it is one pahole encodes.
pub fn select<'a>(
    var: &Variable<'_>,
    cu: &CuModel<'_>,
    percpu: &Percpu<'a>,
) -> Result<Option<PercpuVarInfo<'a>>, VoidVariable> {
    if var.declaration && !var.has_spec {
        return Ok(None);
    }
    if !var.global && !var.has_spec {
        return Ok(None);
    }
    let addr = var.addr;
    if addr < percpu.base_addr || addr >= percpu.base_addr.wrapping_add(percpu.size) {
        return Ok(None);
    }
    let offset = addr - percpu.base_addr;
    let Some(sym) = percpu.vars.get(&offset) else {
        return Ok(None);
    };
    // Many special DWARF variables sit at address 0, where a real per-CPU
    // variable of vmlinux may be too: there the names must agree.
    if var.addr == 0 && var.name != Some(sym.name) {
        return Ok(None);
    }
    if var.ty == 0 {
        return Err(VoidVariable);
    }
    if cu.type_size(var.ty) == 0 {
        return Ok(None);
    }
    Ok(Some(PercpuVarInfo {
        name: sym.name,
        offset: offset as u32,
        size: sym.size,
    }))
}
