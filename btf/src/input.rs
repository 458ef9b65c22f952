//! Finding BTF in a file: a raw blob (pahole's `--btf_encode_detached`
//! output, `/sys/kernel/btf/*`) or the `.BTF` section of an ELF file
//! (vmlinux, a `.ko`, the BTF-only vmlinux of linux-headers).

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use std::borrow::Cow;
use std::io::Read;

use memmap2::Mmap;
use object::{CompressionFormat, Object, ObjectSection};

use crate::{Btf, Error, Result};

/// The most bytes read from a regular file that reports no size (procfs
/// and some sysfs files): far more than any BTF, and a bound on what a file
/// that never ends can make kbtf allocate.
pub const MAX_UNSIZED_READ: u64 = 1 << 30;

/// A file's bytes: mapped where the file system allows, read otherwise
/// (sysfs files may refuse mmap).
pub enum FileBytes {
    /// A read-only map of the whole file, registered so that a SIGBUS from
    /// the file shrinking names it (see [`crate::signals`]).
    Mapped(Mmap, MapRegistration),
    /// The file's bytes, read into memory.
    Read(Vec<u8>),
}

/// Keeps a map registered with the signal handler while it lives.
#[derive(Debug)]
pub struct MapRegistration(#[allow(dead_code)] crate::signals::Registration);

impl std::ops::Deref for FileBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Mapped(m, _) => m,
            FileBytes::Read(v) => v,
        }
    }
}

impl FileBytes {
    /// Maps or reads a regular file. Anything else (a FIFO, a device, a
    /// directory) is refused: kbtf reads its inputs whole, and `/dev/zero`
    /// or a pipe fed by `yes` never end.
    pub fn open(path: &Path) -> std::io::Result<FileBytes> {
        let file = open_regular(path)?;
        let len = file.metadata()?.len();
        if len > 0 {
            // SAFETY: the map is read-only; kbtf replaces files by rename,
            // never by writing into them, so its own writes cannot change it.
            // Another process truncating the file raises SIGBUS, which the
            // registration turns into an error naming the file.
            if let Ok(map) = unsafe { Mmap::map(&file) } {
                let registration = MapRegistration(crate::signals::register_map(path, &map));
                return Ok(FileBytes::Mapped(map, registration));
            }
        }
        read_capped(file, len).map(FileBytes::Read)
    }

    /// Drops the whole pages of `part` (a subslice of these bytes) from the
    /// resident set: read once, a large file's DWARF would otherwise count
    /// toward the peak RSS until the end. The mapping is read-only, so the
    /// kernel reads the pages back from the page cache, with
    /// the same bytes, if they are touched again. Does nothing for bytes that
    /// were read into memory, or for a slice that is not part of the map.
    pub fn release(&self, part: &[u8]) {
        let FileBytes::Mapped(map, _) = self else {
            return;
        };
        let (map_start, start) = (map.as_ptr() as usize, part.as_ptr() as usize);
        if start < map_start || start + part.len() > map_start + map.len() {
            return;
        }
        let page = page_size();
        // Only pages wholly inside `part`: the ones around it may hold other
        // data still in use (harmless to drop, but a wasted fault).
        let first = (start - map_start).div_ceil(page) * page;
        let end = (start - map_start + part.len()) / page * page;
        if end > first {
            // SAFETY: DONTNEED on a read-only file mapping only unmaps
            // clean page-cache pages from this process; every later read
            // sees the file's bytes as before (the same assumption `open`
            // makes: the file is not written while mapped).
            let _ = unsafe {
                map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, first, end - first)
            };
        }
    }
}

#[cfg(target_os = "linux")]
fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
        n if n > 0 => n as usize,
        _ => 4096,
    }
}

/// Elsewhere the page size is unknown here: a size no page exceeds makes
/// `release` a no-op for all but huge slices, which stays correct.
#[cfg(not(target_os = "linux"))]
fn page_size() -> usize {
    1 << 30
}

/// Reads a regular file into memory, with [`FileBytes::open`]'s rules.
pub fn read_file(path: &Path) -> std::io::Result<Vec<u8>> {
    let file = open_regular(path)?;
    let len = file.metadata()?.len();
    read_capped(file, len)
}

/// Opens `path` for reading if it is a regular file (after symlinks).
fn open_regular(path: &Path) -> std::io::Result<File> {
    use std::os::unix::fs::FileTypeExt;
    // Opening a FIFO for reading blocks until a writer comes: look first.
    let meta = std::fs::metadata(path)?;
    let ft = meta.file_type();
    let what = if ft.is_file() {
        return File::open(path);
    } else if ft.is_dir() {
        "a directory"
    } else if ft.is_fifo() {
        "a FIFO"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else if ft.is_socket() {
        "a socket"
    } else {
        "not a file"
    };
    Err(std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("is {what}, not a regular file"),
    ))
}

/// Reads a file whose size is `len`, or at most [`MAX_UNSIZED_READ`] bytes
/// of one that reports size 0.
fn read_capped(file: File, len: u64) -> std::io::Result<Vec<u8>> {
    let cap = if len > 0 { len } else { MAX_UNSIZED_READ };
    // A sparse file may claim terabytes: let the buffer grow past 64 MiB as read.
    let mut out = Vec::with_capacity(len.min(64 << 20) as usize);
    file.take(cap + 1).read_to_end(&mut out)?;
    if out.len() as u64 > cap && len == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("reports no size and holds more than {MAX_UNSIZED_READ} bytes"),
        ));
    }
    Ok(out)
}

/// Whether `bytes` start like an ELF file.
pub fn is_elf(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x7fELF")
}

/// The BTF blob in `bytes`: the bytes themselves, or an ELF file's `.BTF` section.
pub fn btf_blob(bytes: &[u8]) -> Result<Cow<'_, [u8]>> {
    if !is_elf(bytes) {
        return Ok(bytes.into());
    }
    let elf = object::File::parse(bytes)?;
    let section = elf.section_by_name(".BTF").ok_or(Error::NoBtfSection)?;
    section_data(&section)
}

/// A section's bytes, inflated if it is compressed (`SHF_COMPRESSED`).
///
/// Use this rather than object's `uncompressed_data`: that zero-fills the
/// size the compression header claims before inflating, so a file of a few
/// KB claiming a gigabyte section made kbtf commit a gigabyte (found by the
/// `elf` fuzz target). Here memory grows only with what the stream holds.
pub fn section_data<'data>(section: &impl ObjectSection<'data>) -> Result<Cow<'data, [u8]>> {
    let name = section.name().unwrap_or("?").to_owned();
    let bad = |what: String| Error::Elf(format!("compressed section {name}: {what}"));
    // object says "Invalid compressed data size or offset" for a plain
    // section whose bytes lie outside the file: name the section and its range.
    if section.data().is_err() {
        if let Some((offset, size)) = section.file_range() {
            return Err(Error::Elf(format!(
                "section {name} (offset {offset:#x}, size {size:#x}) extends past the end of the file"
            )));
        }
    }
    let compressed = section.compressed_data()?;
    let claimed = compressed.uncompressed_size;
    let data = compressed.data;
    if compressed.format == CompressionFormat::None {
        return Ok(data.into());
    }
    check_claim(&name, claimed, data.len())?;
    // The claim is checked: reserve it once rather than let the buffer
    // double its way there (twice the memory at the peak).
    let mut out = Vec::with_capacity(claimed as usize);
    // One byte past the claim shows a stream longer than its header says.
    let limit = claimed.saturating_add(1);
    let read = match compressed.format {
        CompressionFormat::None => return Ok(data.into()),
        CompressionFormat::Zlib => flate2::read::ZlibDecoder::new(data)
            .take(limit)
            .read_to_end(&mut out),
        CompressionFormat::Zstandard => ruzstd::decoding::StreamingDecoder::new(data)
            .map_err(|e| bad(format!("bad zstd frame: {e}")))?
            .take(limit)
            .read_to_end(&mut out),
        other => return Err(bad(format!("unsupported compression {other:?}"))),
    };
    read.map_err(|e| bad(e.to_string()))?;
    if out.len() as u64 != claimed {
        return Err(bad(format!(
            "its header says {claimed} bytes, the data inflates to {}{}",
            out.len(),
            if out.len() as u64 > claimed {
                " or more"
            } else {
                ""
            }
        )));
    }
    Ok(out.into())
}

/// The most a compressed section may inflate to: the BTF format's sizes
/// are 32-bit, and no section kbtf reads (`.BTF`, `.debug_*`, `.BTF_ids`) of
/// any kernel comes near.
pub const MAX_INFLATED_SECTION: u64 = 4 << 30;

/// The highest inflation ratio believed: DWARF and BTF compress about 3 to
/// 10 times, deflate cannot exceed 1032, and a claim far beyond that is a
/// header meant to make the reader allocate.
pub const MAX_INFLATION_RATIO: u64 = 1024;

fn check_claim(name: &str, claimed: u64, compressed: usize) -> Result<()> {
    let bad = |what: String| Err(Error::Elf(format!("compressed section {name}: {what}")));
    if claimed > MAX_INFLATED_SECTION {
        return bad(format!(
            "its header claims {claimed} bytes, more than the {MAX_INFLATED_SECTION} any section may hold"
        ));
    }
    // A few KB of slack: tiny sections have headers and frames to amortise.
    if claimed > (compressed as u64).saturating_mul(MAX_INFLATION_RATIO) + 4096 {
        return bad(format!(
            "its header claims {claimed} bytes from {compressed} compressed, more than {MAX_INFLATION_RATIO} times as many"
        ));
    }
    Ok(())
}

impl Btf {
    /// Reads BTF from a raw blob or an ELF file, as base BTF.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Btf> {
        Btf::from_file_split(path, None)
    }

    /// Reads BTF from a raw blob or an ELF file, as split BTF over `base`
    /// when one is given. Errors name the file.
    pub fn from_file_split(path: impl AsRef<Path>, base: Option<Arc<Btf>>) -> Result<Btf> {
        let path = path.as_ref();
        let read = || -> Result<Btf> {
            let bytes = FileBytes::open(path)?;
            Btf::parse_split(&btf_blob(&bytes)?, base)
        };
        let mut btf = read().map_err(|e| e.in_file(path))?;
        btf.source = Some(path.into());
        Ok(btf)
    }
}
