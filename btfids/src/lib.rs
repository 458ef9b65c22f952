//! `.BTF_ids` resolution and patching (the job of the kernel's resolve_btfids).
