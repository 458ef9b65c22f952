//! The `.btf.o` that the kernel links into vmlinux: a relocatable object
//! holding only an allocated `.BTF`, which the linker script brackets with
//! `__start_BTF`/`__stop_BTF`.
//!
//! gen-btf.sh makes it by compiling an empty C file, adding `.BTF` with
//! `objcopy --add-section .BTF=... --set-section-flags .BTF=alloc,readonly`
//! and keeping only that section (`--only-section=.BTF --strip-all`). The
//! result is three section headers (null, `.BTF`, `.shstrtab`) laid out as
//! header, `.BTF` data, names, table; this writes the same bytes directly.
//! (`object::write::Object` would add a symbol table and needs an
//! `Architecture` for the machine, which not every `e_machine` maps to.)

use object::elf;

use super::elf::{elf_err, patch_section_table_fields, ElfInfo, Shdr, Writer, EI_NIDENT};
use crate::Result;

/// The names in BFD's order.
const SHSTRTAB: &[u8] = b"\0.shstrtab\0.BTF\0";
const SHSTRTAB_NAME: u32 = 1;
const BTF_NAME: u32 = 11;

/// A relocatable object of `like`'s class, byte order, machine and ABI
/// flags whose only content is `btf` as an allocated, read-only `.BTF`
/// section (alignment 1), byte for byte what gen-btf.sh's objcopy steps
/// produce. Fails only for an ELF32 target when `btf` does not fit 4 GiB.
pub fn btf_object(btf: &[u8], like: &ElfInfo) -> Result<Vec<u8>> {
    let ehsize = like.ehdr_size() as u64;
    let btf_at = ehsize;
    let names_at = btf_at + btf.len() as u64;
    let shoff = (names_at + SHSTRTAB.len() as u64).next_multiple_of(like.word_align());
    if !like.is_64 && shoff > u64::from(u32::MAX) {
        return Err(elf_err("the BTF is too large for an ELF32 object".into()));
    }
    let sections = [
        Shdr {
            name: 0,
            sh_type: 0,
            flags: 0,
            addr: 0,
            offset: 0,
            size: 0,
            link: 0,
            info: 0,
            addralign: 0,
            entsize: 0,
        },
        Shdr {
            name: BTF_NAME,
            sh_type: elf::SHT_PROGBITS.0,
            flags: elf::SHF_ALLOC.0,
            addr: 0,
            offset: btf_at,
            size: btf.len() as u64,
            link: 0,
            info: 0,
            addralign: 1,
            entsize: 0,
        },
        Shdr {
            name: SHSTRTAB_NAME,
            sh_type: elf::SHT_STRTAB.0,
            flags: 0,
            addr: 0,
            offset: names_at,
            size: SHSTRTAB.len() as u64,
            link: 0,
            info: 0,
            addralign: 1,
            entsize: 0,
        },
    ];

    let mut out = Vec::with_capacity(shoff as usize + sections.len() * like.shdr_size());
    out.extend_from_slice(&elf::ELFMAG);
    out.push(if like.is_64 {
        elf::ELFCLASS64.0
    } else {
        elf::ELFCLASS32.0
    });
    out.push(match like.endian {
        object::Endianness::Little => elf::ELFDATA2LSB.0,
        object::Endianness::Big => elf::ELFDATA2MSB.0,
    });
    out.push(elf::EV_CURRENT.0);
    out.push(like.os_abi);
    out.push(like.abi_version);
    out.resize(EI_NIDENT, 0);
    let mut w = Writer {
        out: &mut out,
        info: *like,
    };
    w.u16(elf::ET_REL.0);
    w.u16(like.machine);
    w.u32(elf::EV_CURRENT.0.into());
    w.word(0); // e_entry
    w.word(0); // e_phoff
    w.word(0); // e_shoff, patched below
    w.u32(like.flags);
    w.u16(ehsize as u16);
    w.u16(0); // e_phentsize
    w.u16(0); // e_phnum
    w.u16(like.shdr_size() as u16);
    w.u16(0); // e_shnum, patched below
    w.u16(0); // e_shstrndx, patched below
    debug_assert_eq!(out.len() as u64, ehsize);
    out.extend_from_slice(btf);
    out.extend_from_slice(SHSTRTAB);
    out.resize(shoff as usize, 0);
    let mut w = Writer {
        out: &mut out,
        info: *like,
    };
    for s in &sections {
        w.shdr(s);
    }
    patch_section_table_fields(&mut out, *like, shoff, sections.len(), 2);
    Ok(out)
}
