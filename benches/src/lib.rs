//! Shared helpers of the benches: where the corpus is.
