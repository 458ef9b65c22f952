//! Choosing compilation units by source language (pahole's `--lang` and
//! `--lang_exclude`; the kernel leaves out Rust, which pahole 1.24 cannot
//! encode).

use gimli::constants as dw;

/// Which compilation units to encode, by `DW_AT_language` (pahole's
/// `--lang` / `--lang_exclude`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum LanguageFilter {
    #[default]
    /// Every unit.
    All,
    /// Only units of these `DW_LANG_*` languages.
    Only(Vec<u16>),
    /// All units but those of these `DW_LANG_*` languages.
    Exclude(Vec<u16>),
}

impl LanguageFilter {
    /// Whether a unit of language `lang` (`DW_AT_language`) is encoded.
    pub fn accepts(&self, lang: u64) -> bool {
        match self {
            LanguageFilter::All => true,
            LanguageFilter::Only(l) => l.iter().any(|&x| x as u64 == lang),
            LanguageFilter::Exclude(l) => !l.iter().any(|&x| x as u64 == lang),
        }
    }
}

/// The `DW_LANG_*` code of a language as pahole names it (`"rust"`, `"c11"`,
/// `"c++"`; case-insensitive).
pub fn language_by_name(name: &str) -> Option<u16> {
    const NAMES: &[(&str, gimli::DwLang)] = &[
        ("ada83", dw::DW_LANG_Ada83),
        ("ada95", dw::DW_LANG_Ada95),
        ("bliss", dw::DW_LANG_BLISS),
        ("c11", dw::DW_LANG_C11),
        ("c89", dw::DW_LANG_C89),
        ("c99", dw::DW_LANG_C99),
        ("c", dw::DW_LANG_C),
        ("cobol74", dw::DW_LANG_Cobol74),
        ("cobol85", dw::DW_LANG_Cobol85),
        ("c++03", dw::DW_LANG_C_plus_plus_03),
        ("c++11", dw::DW_LANG_C_plus_plus_11),
        ("c++14", dw::DW_LANG_C_plus_plus_14),
        ("c++", dw::DW_LANG_C_plus_plus),
        ("d", dw::DW_LANG_D),
        ("dylan", dw::DW_LANG_Dylan),
        ("fortran03", dw::DW_LANG_Fortran03),
        ("fortran08", dw::DW_LANG_Fortran08),
        ("fortran77", dw::DW_LANG_Fortran77),
        ("fortran90", dw::DW_LANG_Fortran90),
        ("fortran95", dw::DW_LANG_Fortran95),
        ("go", dw::DW_LANG_Go),
        ("haskell", dw::DW_LANG_Haskell),
        ("java", dw::DW_LANG_Java),
        ("julia", dw::DW_LANG_Julia),
        ("modula2", dw::DW_LANG_Modula2),
        ("modula3", dw::DW_LANG_Modula3),
        ("objc", dw::DW_LANG_ObjC),
        ("objc++", dw::DW_LANG_ObjC_plus_plus),
        ("ocaml", dw::DW_LANG_OCaml),
        ("opencl", dw::DW_LANG_OpenCL),
        ("pascal83", dw::DW_LANG_Pascal83),
        ("pli", dw::DW_LANG_PLI),
        ("python", dw::DW_LANG_Python),
        ("renderscript", dw::DW_LANG_RenderScript),
        ("rust", dw::DW_LANG_Rust),
        ("swift", dw::DW_LANG_Swift),
        ("upc", dw::DW_LANG_UPC),
    ];
    NAMES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|&(_, l)| l.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::EncodeOptions;

    #[test]
    fn languages_by_pahole_name() {
        assert_eq!(language_by_name("Rust"), Some(dw::DW_LANG_Rust.0));
        assert_eq!(language_by_name("c11"), Some(dw::DW_LANG_C11.0));
        assert_eq!(language_by_name("klingon"), None);
        let kernel = EncodeOptions::kernel().languages;
        assert!(!kernel.accepts(dw::DW_LANG_Rust.0 as u64));
        assert!(kernel.accepts(dw::DW_LANG_C11.0 as u64));
        assert!(LanguageFilter::Only(vec![dw::DW_LANG_C.0]).accepts(dw::DW_LANG_C.0 as u64));
    }
}
