//! bpftool 7.8's kfunc prototypes: after the types of a whole-BTF dump, an
//! `extern` declaration of every kernel function a BPF program may call, so
//! that `vmlinux.h` alone is enough to call them.
//!
//! A kfunc is a FUNC that a DECL_TAG named `bpf_kfunc` tags as a whole
//! (component index -1); one also tagged `bpf_fastcall` gets the
//! `__bpf_fastcall` attribute. The declarations are sorted by the
//! function's name, ties (two functions of one name, or one tagged twice,
//! which is then declared twice) left in the order of their tags, as
//! glibc's stable `qsort` leaves them. Each is the function's prototype
//! written as any declaration in the header (with the names the dump gave
//! its types), between `extern ` and ` __weak __ksym;`; the block sits in
//! `#ifndef BPF_NO_KFUNC_PROTOTYPES` so a program with its own can opt out.

use std::io::{self, Write};

use super::{invalid, Dumper};
use crate::{Kind, TypeId};

const KFUNC_TAG: &[u8] = b"bpf_kfunc";
const FASTCALL_TAG: &[u8] = b"bpf_fastcall";

impl<W: Write> Dumper<'_, W> {
    /// Writes the kfunc block.
    pub(super) fn emit_kfuncs(&mut self) -> io::Result<()> {
        let mut kfuncs: Vec<(u32, &[u8])> = Vec::new();
        let mut fastcalls: Vec<u32> = Vec::new();
        for id in 1..self.btf.type_count() {
            let t = self.ty(id)?;
            if t.decl_tag_component_idx() != Some(-1) {
                continue;
            }
            let func_id = t.type_id().0;
            let func = self.btf.type_by_id(TypeId(func_id)).ok_or_else(|| {
                invalid(format!(
                    "decl tag {id} tags type {func_id}, which does not exist"
                ))
            })?;
            if func.kind() != Kind::Func {
                continue;
            }
            match self.raw_name(&t) {
                KFUNC_TAG => kfuncs.push((func_id, self.raw_name(&func))),
                FASTCALL_TAG => fastcalls.push(func_id),
                _ => {}
            }
        }
        kfuncs.sort_by(|a, b| a.1.cmp(b.1));

        self.out
            .str("\n/* BPF kfuncs */\n#ifndef BPF_NO_KFUNC_PROTOTYPES\n");
        for (func_id, name) in kfuncs {
            self.out.end_record()?;
            self.out.str("extern ");
            if fastcalls.contains(&func_id) {
                self.out.str("__bpf_fastcall ");
            }
            let proto = self.ty(func_id)?.type_id().0;
            self.emit_type_decl(proto, name, 0)?;
            self.out.str(" __weak __ksym;\n");
        }
        self.out.str("#endif\n\n");
        Ok(())
    }
}
