//! One pass over the abbreviation tables the units use, before any DIE is
//! read: whether a unit refers across units (`DW_FORM_ref_addr`, which
//! makes pahole merge all units, see `lto`), and a bound on attributes per
//! abbreviation.
//!
//! The bound matters because forms such as `DW_FORM_flag_present` take no
//! bytes in `.debug_info`: one abbreviation of 50,000 such attributes makes
//! every DIE that uses it cost 50,000 reads, and a 200 KB file ran for
//! most of a minute. Real DWARF has a few dozen attributes at most.
//!
//! Tables are scanned from each unit's offset; a malformed table ends its
//! scan (gimli reports it properly when the unit is read). Scanning stops
//! at an abbreviation already seen from another offset, so units that
//! point into the middle of one large table cost one scan of it in all.

use gimli::constants as dw;
use gimli::Reader;

use super::R;
use crate::{Error, Result};

/// The most attributes one abbreviation may have.
pub(super) const MAX_ATTRIBUTES: usize = 1024;

/// What the scan found.
pub(super) struct Scan {
    /// Some abbreviation has an attribute of form `DW_FORM_ref_addr`.
    pub uses_ref_addr: bool,
}

/// Scans the tables at `offsets` in `.debug_abbrev`.
pub(super) fn scan(section: &R<'_>, offsets: impl IntoIterator<Item = usize>) -> Result<Scan> {
    let mut seen = rustc_hash::FxHashSet::default();
    let mut out = Scan {
        uses_ref_addr: false,
    };
    for offset in offsets {
        let mut r = *section;
        if r.skip(offset).is_err() {
            continue;
        }
        // A gimli error ends this table's scan, see the module doc.
        if let Ok(Err(too_wide)) = scan_table(section, &mut r, &mut seen, &mut out) {
            return Err(too_wide);
        }
    }
    Ok(out)
}

/// Scans one table; the outer error is gimli's (malformed), the inner one
/// an abbreviation past [`MAX_ATTRIBUTES`].
fn scan_table(
    section: &R<'_>,
    r: &mut R<'_>,
    seen: &mut rustc_hash::FxHashSet<usize>,
    out: &mut Scan,
) -> gimli::Result<Result<()>> {
    loop {
        let at = section.len() - r.len();
        if !seen.insert(at) {
            return Ok(Ok(()));
        }
        let code = r.read_uleb128()?;
        if code == 0 {
            return Ok(Ok(()));
        }
        r.read_uleb128()?; // tag
        r.read_u8()?; // children
        let mut attributes = 0usize;
        loop {
            let name = r.read_uleb128()?;
            let form = r.read_uleb128()?;
            if form == dw::DW_FORM_implicit_const.0 as u64 {
                r.read_sleb128()?;
            }
            if name == 0 && form == 0 {
                break;
            }
            out.uses_ref_addr |= form == dw::DW_FORM_ref_addr.0 as u64;
            attributes += 1;
            if attributes > MAX_ATTRIBUTES {
                return Ok(Err(Error::Limit(format!(
                    ".debug_abbrev at offset {at:#x}: abbreviation {code} has more than \
                     {MAX_ATTRIBUTES} attributes (real DWARF has a few dozen)"
                ))));
            }
        }
    }
}
