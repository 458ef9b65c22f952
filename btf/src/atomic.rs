//! Replacing a file so that readers (and a crash) see the old bytes or the
//! new ones, never a mix: write a temporary file beside it, fsync, rename.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Writes `bytes` to `path` atomically. An existing file keeps its
/// permissions; one that is read-only is refused rather than replaced.
/// Errors name the file.
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write(path, bytes).map_err(|e| e.in_file(path))
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    let existing = match fs::metadata(path) {
        Ok(meta) => Some(meta),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e.into()),
    };
    if let Some(meta) = &existing {
        if meta.permissions().readonly() {
            return Err(Error::Io(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                "file is read-only; not replacing it",
            )));
        }
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let (tmp_path, mut tmp) = create_temp_beside(&dir, path)?;
    let result = (|| -> Result<()> {
        tmp.write_all(bytes)?;
        if let Some(meta) = &existing {
            tmp.set_permissions(meta.permissions())?;
        }
        tmp.sync_all()?;
        fs::rename(&tmp_path, path)?;
        // Make the rename itself durable.
        File::open(&dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp_path);
    }
    result
}

fn create_temp_beside(dir: &Path, path: &Path) -> Result<(PathBuf, File)> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let pid = std::process::id();
    for attempt in 0..100u32 {
        let tmp = dir.join(format!(".{name}.kbtf-{pid}-{attempt}.tmp"));
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            Ok(f) => return Ok((tmp, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::Io(std::io::Error::other(
        "could not create a temporary file beside it",
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_contents_and_keeps_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("kbtf-atomic-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let f = dir.join("x.ko");
        fs::write(&f, b"old").unwrap();
        fs::set_permissions(&f, fs::Permissions::from_mode(0o640)).unwrap();
        write_file_atomic(&f, b"new").unwrap();
        assert_eq!(fs::read(&f).unwrap(), b"new");
        assert_eq!(
            fs::metadata(&f).unwrap().permissions().mode() & 0o777,
            0o640
        );
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            1,
            "no temporary file left"
        );
        fs::set_permissions(&f, fs::Permissions::from_mode(0o444)).unwrap();
        let err = write_file_atomic(&f, b"newer").unwrap_err().to_string();
        assert!(err.contains("x.ko") && err.contains("read-only"), "{err}");
        assert_eq!(fs::read(&f).unwrap(), b"new");
        fs::remove_dir_all(&dir).unwrap();
    }
}
