//! Writes the hand-built seeds into `seeds/`: `cargo run --example write_seeds`
//! from `btf/fuzz`. The C-built seeds come from `seeds/src/make.sh`.

use std::path::Path;

use kbtf_btf::Endian;
use kbtf_fuzz::{fixed_base, seeds};

fn main() -> std::io::Result<()> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    let base = fixed_base();
    let split = seeds::every_kind_split(base.clone());
    let files = [
        ("blob/kinds-le.btf", base.to_bytes_endian(Endian::Little)),
        ("blob/kinds-be.btf", base.to_bytes_endian(Endian::Big)),
        ("blob/kinds-layout.btf", seeds::with_kind_layout(&base)),
        ("split/kinds-le.btf", split.to_bytes_endian(Endian::Little)),
        ("split/kinds-be.btf", split.to_bytes_endian(Endian::Big)),
        // The fixed base as a file, for pahole's --btf_base in make.sh.
        ("src/base.btf", base.to_bytes_endian(Endian::Little)),
    ];
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes)?;
    }
    // The btfids target's ELF32 and big-endian objects (ids.o is x86-64).
    use object::{Architecture as A, Endianness as E};
    for (name, arch, endian) in [
        ("btfids/i386.o", A::I386, E::Little),
        ("btfids/ppc64.o", A::PowerPc64, E::Big),
        ("btfids/ppc.o", A::PowerPc, E::Big),
    ] {
        std::fs::write(dir.join(name), seeds::btf_ids_object(arch, endian))?;
    }
    Ok(())
}
