//! Which DWARF functions get a FUNC: pahole 1.24's rule.
//!
//! A `DW_TAG_subprogram` is encoded when it is a definition (not a
//! declaration), every parameter has a name, and an `STT_FUNC` symbol of
//! exactly that name exists (no `.isra`/`.constprop` suffix matching in
//! 1.24). Each symbol name is used once: the first CU, and within it the
//! first function in table order, wins. A file without function symbols
//! falls back to the external functions.

use super::cu::Function;
use super::symbols::SymbolIndex;

/// The "already generated" flags over one file's function symbols.
pub struct FunctionFilter<'s, 'a> {
    symbols: &'s SymbolIndex<'a>,
    generated: Vec<bool>,
}

impl<'s, 'a> FunctionFilter<'s, 'a> {
    pub fn new(symbols: &'s SymbolIndex<'a>) -> Self {
        FunctionFilter {
            symbols,
            generated: vec![false; symbols.function_count()],
        }
    }

    /// Whether `f` gets a FUNC; marks its symbol as used when it does.
    pub fn select(&mut self, f: &Function<'_>) -> bool {
        if f.declaration || f.params.iter().any(|p| p.name.is_none()) {
            return false;
        }
        if !self.symbols.has_functions() {
            return f.external;
        }
        let Some(name) = f.name else { return false };
        match self.symbols.function(name) {
            Some(i) if !self.generated[i] => {
                self.generated[i] = true;
                true
            }
            _ => false,
        }
    }
}
