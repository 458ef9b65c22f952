//! Reading sections out of ELF files (to compare both sides' outputs) and
//! preparing a module the way kbuild sees it before BTF generation.

use std::fs::File;
use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};
use object::{Object, ObjectSection};

/// The bytes of section `name` of the ELF file at `path`, or `None` when it has none.
pub fn section(path: &Path, name: &str) -> Result<Option<Vec<u8>>> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    // SAFETY: the harness's own temp copies are not modified while mapped.
    let map = unsafe { memmap2::Mmap::map(&file) }
        .with_context(|| format!("mapping {}", path.display()))?;
    let elf = object::File::parse(&*map).with_context(|| format!("parsing {}", path.display()))?;
    let Some(sec) = elf.section_by_name(name) else {
        return Ok(None);
    };
    let data = sec
        .uncompressed_data()
        .with_context(|| format!("reading {name} of {}", path.display()))?;
    Ok(Some(data.into_owned()))
}

/// Copies `src` to `dst` without its `.BTF` section (what a module looks like
/// after linking, before Makefile.modfinal adds BTF).
pub fn copy_without_btf(src: &Path, dst: &Path) -> Result<()> {
    let out = Command::new("objcopy")
        .arg("--remove-section=.BTF")
        .arg(src)
        .arg(dst)
        .output()
        .context("running objcopy")?;
    if !out.status.success() {
        bail!(
            "objcopy --remove-section=.BTF {} failed: {}",
            src.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}
