//! The running kernel's BTF as it publishes it in `/sys/kernel/btf`: the
//! vmlinux BTF in `vmlinux`, and for each loaded module with BTF a split
//! BTF over it, named after the module.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::{Btf, Error, Result};

/// Where the kernel publishes its BTF.
pub const DIR: &str = "/sys/kernel/btf";

/// The running kernel's vmlinux BTF.
pub fn vmlinux() -> Result<Arc<Btf>> {
    Btf::from_file(Path::new(DIR).join("vmlinux")).map(Arc::new)
}

/// The BTF of the loaded module `name` (as `lsmod` spells it), over the
/// running kernel's `vmlinux` (from [`vmlinux`]).
pub fn module(name: &str, vmlinux: &Arc<Btf>) -> Result<Btf> {
    Btf::from_file_split(module_path(name)?, Some(vmlinux.clone()))
}

/// The names of the loaded modules that have BTF, sorted.
pub fn modules() -> Result<Vec<String>> {
    let entries = std::fs::read_dir(DIR).map_err(|e| Error::from(e).in_file(DIR))?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n != "vmlinux")
        .collect();
    names.sort();
    Ok(names)
}

/// `DIR/name`, refusing a name that would leave the directory.
fn module_path(name: &str) -> Result<PathBuf> {
    if name.is_empty() || name == "vmlinux" || name.contains('/') || name.starts_with('.') {
        return Err(Error::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{name:?} is not a module name"),
        )));
    }
    Ok(Path::new(DIR).join(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_leave_the_directory_are_refused() {
        for bad in ["", "vmlinux", "../etc/passwd", "a/b", ".hidden"] {
            assert!(module_path(bad).is_err(), "{bad}");
        }
        assert_eq!(
            module_path("nf_conntrack").unwrap(),
            Path::new("/sys/kernel/btf/nf_conntrack")
        );
    }

    /// Tests the kernel itself: whatever it runs, the BTF it publishes parses,
    /// and every module's over its vmlinux.
    #[test]
    fn the_running_kernels_btf_parses() {
        if !Path::new(DIR).join("vmlinux").exists() {
            kbtf_testsupport::skip(format!(
                "no {DIR}/vmlinux (a kernel without CONFIG_DEBUG_INFO_BTF)"
            ));
            return;
        }
        let vmlinux = vmlinux().unwrap();
        assert!(vmlinux.type_count() > 1);
        for name in modules().unwrap() {
            let module = module(&name, &vmlinux).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(module.start_id().0, vmlinux.type_count(), "{name}");
        }
    }
}
