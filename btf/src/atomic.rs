//! Replacing a file so that readers see the old bytes or the new ones, never
//! a mix: write a temporary file beside it, rename it over the old one.
//!
//! The data is not synced before the rename unless `KBTF_FSYNC=1` asks for
//! it, which is the durability objcopy, strip and ld give the same files.
//! A build redoes the step after a crash, and syncing a freshly linked
//! vmlinux (hundreds of MB of dirty pages) made resolving its ids take
//! seconds where upstream's in-place patch takes a tenth of one. Ext4 and
//! btrfs flush a file renamed over another before the rename commits
//! anyway. Running out of space is still an error: the copy or write fails.
//!
//! The new file takes the old one's permissions and, where the caller may
//! set them, its owner and group. Two kinds of target are not replaced:
//! * a path that is not a regular file (`/dev/null`, a FIFO): written into,
//!   as pahole and objcopy do; renaming over it would replace the device;
//! * a file with more than one hard link: the temporary file is completed
//!   first, then copied into the file itself, as objcopy does.
//!   That keeps the links but is not atomic for readers.
//!
//! An interrupted write (SIGINT, SIGTERM, SIGHUP) removes its temporary file
//! when the program installed [`crate::signals::install`]. A process killed
//! between creating the temporary file and the rename
//! leaves that file behind (`.NAME.kbtf-PID-N.tmp`, beside NAME). The next
//! write of NAME removes such files whose process no longer runs
//! ([`remove_stale_temp_files`]), so at most the files of writes still in
//! flight remain.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Writes `bytes` to `path` atomically. An existing file keeps its
/// permissions; one that is read-only is refused rather than replaced.
/// Errors name the file.
/// A symlink is written through: its target is replaced, the link stays.
pub fn write_file_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    if path.as_os_str().is_empty() {
        return Err(Error::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the output file name is empty",
        )));
    }
    let target = resolve_symlinks(path).map_err(|e| Error::from(e).in_file(path))?;
    if let Some(special) = special_file(&target).map_err(|e| e.in_file(path))? {
        return write_into(&special, bytes).map_err(|e| e.in_file(path));
    }
    replace(&target, |tmp| Ok(tmp.write_all(bytes)?)).map_err(|e| e.in_file(path))
}

/// `path` itself when it exists and is not a regular file (nor a directory,
/// which is refused).
fn special_file(path: &Path) -> Result<Option<PathBuf>> {
    match fs::metadata(path) {
        Ok(meta) if meta.is_dir() => Err(Error::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "is a directory",
        ))),
        Ok(meta) if !meta.is_file() => Ok(Some(path.to_path_buf())),
        _ => Ok(None),
    }
}

/// Writes into a device or FIFO without truncating or replacing it.
fn write_into(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = OpenOptions::new().write(true).open(path)?;
    file.write_all(bytes)?;
    Ok(())
}

/// Replaces an existing file, atomically, by a copy of it with `patches`
/// (byte offset, new bytes) written over it. The copy is made by the kernel
/// (`copy_file_range`, a reflink where the file system can), so patching a
/// few bytes of a large vmlinux costs no user memory. Patches must lie
/// inside the file.
pub fn patch_file_atomic(path: &Path, patches: &[(u64, &[u8])]) -> Result<()> {
    use std::os::unix::fs::FileExt;
    let target = resolve_symlinks(path).map_err(|e| Error::from(e).in_file(path))?;
    let len = fs::metadata(&target)
        .map_err(|e| Error::from(e).in_file(path))?
        .len();
    if let Some(&(off, bytes)) = patches
        .iter()
        .find(|(off, b)| off.checked_add(b.len() as u64).is_none_or(|end| end > len))
    {
        let what = format!(
            "a patch of {} bytes at offset {off} is past the end ({len} bytes)",
            bytes.len()
        );
        return Err(Error::Io(std::io::Error::other(what)).in_file(path));
    }
    replace(&target, |tmp| {
        let copied = std::io::copy(&mut File::open(&target)?, tmp)?;
        if copied != len {
            return Err(Error::Io(std::io::Error::other(
                "the file changed while it was copied",
            )));
        }
        for &(off, bytes) in patches {
            tmp.write_all_at(bytes, off)?;
        }
        Ok(())
    })
    .map_err(|e| e.in_file(path))
}

/// The file a path names: renaming over a symlink would replace the link
/// itself (in a build tree or a shared cache, a surprise), not the file.
fn resolve_symlinks(path: &Path) -> std::io::Result<PathBuf> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => fs::canonicalize(path),
        _ => Ok(path.to_path_buf()),
    }
}

/// Writes a temporary file beside `path` with `fill`, then makes it `path`.
fn replace(path: &Path, fill: impl FnOnce(&mut File) -> Result<()>) -> Result<()> {
    // Best effort: a directory that cannot be listed fails the write below
    // with a clearer error, if at all.
    let _ = remove_stale_temp_files(path);
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
    if let Some(meta) = &existing {
        if !meta.is_file() {
            return Err(Error::Io(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "is not a regular file; not replacing it",
            )));
        }
    }
    let dir = parent_dir(path);
    let (tmp_path, mut tmp) = create_temp_beside(&dir, path)?;
    let _registered = crate::signals::register_temp(&tmp_path);
    let result = (|| -> Result<()> {
        fill(&mut tmp)?;
        if let Some(meta) = &existing {
            keep_owner(&tmp, meta);
            tmp.set_permissions(meta.permissions())?;
            if meta.nlink() > 1 {
                sync_if_asked(&tmp)?;
                return copy_into_linked(&tmp_path, path);
            }
        }
        // With KBTF_FSYNC=1 the bytes reach the disk before the name does:
        // after a crash the name holds the old file or the whole new one.
        // The directory is not synced after the rename: that would only make
        // the new name itself survive a crash (a build redoes the step).
        sync_if_asked(&tmp)?;
        fs::rename(&tmp_path, path)?;
        Ok(())
    })();
    // The rename consumed it on success; otherwise (or after copying into
    // a linked file) it goes.
    if fs::symlink_metadata(&tmp_path).is_ok() {
        let _ = fs::remove_file(&tmp_path);
    }
    result
}

/// Gives the new file the old one's owner and group, as objcopy does.
/// Best effort: only root (or the owner, for the group) may, and a file
/// written by someone else still gets its content.
fn keep_owner(tmp: &File, old: &fs::Metadata) {
    let _ = std::os::unix::fs::fchown(tmp, Some(old.uid()), Some(old.gid()));
}

/// Copies the complete temporary file into `path` in place, so
/// that every hard link to it sees the new bytes.
fn copy_into_linked(tmp_path: &Path, path: &Path) -> Result<()> {
    let mut src = File::open(tmp_path)?;
    let mut dst = OpenOptions::new().write(true).truncate(true).open(path)?;
    std::io::copy(&mut src, &mut dst)?;
    sync_if_asked(&dst)
}

/// `fdatasync` when `KBTF_FSYNC` is set to anything but `0` (see the module doc).
fn sync_if_asked(file: &File) -> Result<()> {
    static ASKED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let asked = ASKED.get_or_init(|| std::env::var_os("KBTF_FSYNC").is_some_and(|v| v != "0"));
    if *asked {
        file.sync_data()?;
    }
    Ok(())
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn temp_prefix(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(".{name}.kbtf-")
}

/// Removes the temporary files that writes of `path` left beside it when
/// their process died before renaming them (SIGKILL, OOM kill, power
/// loss). A file is stale when the process id in its name does not run on
/// this machine, as `/proc` tells; without `/proc` nothing is removed. (A
/// reused process id keeps a stale file until a later write; a process in
/// another pid namespace sharing the directory, or hidden by `/proc`'s
/// `hidepid`, may look dead, and then its rename fails rather than anything
/// being corrupted.) Returns how many
/// files were removed.
pub fn remove_stale_temp_files(path: &Path) -> Result<usize> {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return Ok(0);
    }
    let prefix = temp_prefix(path);
    let mut removed = 0;
    for entry in fs::read_dir(parent_dir(path))? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        let Some((pid, attempt)) = rest.strip_suffix(".tmp").and_then(|r| r.split_once('-')) else {
            continue;
        };
        let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if numeric(pid) && numeric(attempt) && !proc.join(pid).exists() {
            match fs::remove_file(entry.path()) {
                Ok(()) => removed += 1,
                // Another writer cleaned it up first.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(removed)
}

fn create_temp_beside(dir: &Path, path: &Path) -> Result<(PathBuf, File)> {
    let prefix = temp_prefix(path);
    let pid = std::process::id();
    for attempt in 0..100u32 {
        let tmp = dir.join(format!("{prefix}{pid}-{attempt}.tmp"));
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

    #[test]
    fn hard_links_see_the_new_bytes() {
        let dir = std::env::temp_dir().join(format!("kbtf-links-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let (f, link) = (dir.join("m.ko"), dir.join("m-link.ko"));
        fs::write(&f, b"old bytes").unwrap();
        fs::hard_link(&f, &link).unwrap();
        write_file_atomic(&f, b"new").unwrap();
        patch_file_atomic(&f, &[(0, b"N")]).unwrap();
        for p in [&f, &link] {
            assert_eq!(fs::read(p).unwrap(), b"New", "{}", p.display());
        }
        assert_eq!(fs::metadata(&f).unwrap().nlink(), 2);
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            2,
            "a temporary file left"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn owner_and_group_are_kept() {
        let dir = std::env::temp_dir().join(format!("kbtf-owner-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let f = dir.join("m.ko");
        fs::write(&f, b"old").unwrap();
        if std::os::unix::fs::chown(&f, Some(4321), Some(4322)).is_err() {
            fs::remove_dir_all(&dir).unwrap();
            kbtf_testsupport::skip("chown to another user needs root");
            return;
        }
        write_file_atomic(&f, b"new").unwrap();
        let meta = fs::metadata(&f).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (4321, 4322));
        patch_file_atomic(&f, &[(0, b"N")]).unwrap();
        let meta = fs::metadata(&f).unwrap();
        assert_eq!((meta.uid(), meta.gid()), (4321, 4322));
        assert_eq!(fs::read(&f).unwrap(), b"New");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_device_is_written_into_not_replaced() {
        let dir = std::env::temp_dir().join(format!("kbtf-dev-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let null = dir.join("null");
        let c = std::ffi::CString::new(null.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mknod with a valid path; as /dev/null (char 1:3).
        if unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) } != 0 {
            fs::remove_dir_all(&dir).unwrap();
            kbtf_testsupport::skip("mknod needs root");
            return;
        }
        write_file_atomic(&null, b"into the device").unwrap();
        use std::os::unix::fs::FileTypeExt;
        assert!(fs::metadata(&null).unwrap().file_type().is_char_device());
        let err = patch_file_atomic(&null, &[]).unwrap_err().to_string();
        assert!(err.contains("not a regular file"), "{err}");
        assert!(write_file_atomic(&dir, b"x")
            .unwrap_err()
            .to_string()
            .contains("directory"));
        assert!(write_file_atomic(Path::new(""), b"x")
            .unwrap_err()
            .to_string()
            .contains("empty"));
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            1,
            "a temporary file left"
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn removes_temp_files_of_dead_processes_only() {
        let dir = std::env::temp_dir().join(format!("kbtf-stale-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let f = dir.join("m.ko");
        fs::write(&f, b"old").unwrap();
        // pid_max is at most 2^22 on Linux: this process cannot exist.
        let dead = dir.join(".m.ko.kbtf-99999999-0.tmp");
        let live = dir.join(format!(".m.ko.kbtf-{}-7.tmp", std::process::id()));
        let other = dir.join(".n.ko.kbtf-99999999-0.tmp");
        for p in [&dead, &live, &other] {
            fs::write(p, b"partial").unwrap();
        }
        write_file_atomic(&f, b"new").unwrap();
        assert!(!dead.exists(), "stale temp file of m.ko kept");
        assert!(
            live.exists() && other.exists(),
            "removed a live or unrelated file"
        );
        assert_eq!(fs::read(&f).unwrap(), b"new");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn patches_a_copy_and_refuses_patches_past_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("vmlinux");
        fs::write(&f, b"0123456789").unwrap();
        patch_file_atomic(&f, &[(2, b"ab"), (9, b"z")]).unwrap();
        assert_eq!(fs::read(&f).unwrap(), b"01ab45678z");
        let err = patch_file_atomic(&f, &[(9, b"zz")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("vmlinux") && err.contains("past the end"),
            "{err}"
        );
        assert_eq!(fs::read(&f).unwrap(), b"01ab45678z");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }

    #[test]
    fn writes_through_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.ko");
        let link = dir.path().join("link.ko");
        fs::write(&real, b"old").unwrap();
        std::os::unix::fs::symlink("real.ko", &link).unwrap();
        write_file_atomic(&link, b"new").unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read(&real).unwrap(), b"new");
    }
}
