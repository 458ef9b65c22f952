//! Human-readable dumps of BTF.
