//! A byte buffer in front of the writer: dumps of vmlinux run to a million
//! lines, so pieces are appended without allocating and reach the writer in
//! large chunks.

use std::io::{self, Write};

/// Bytes to gather before handing them to the writer.
const CHUNK: usize = 1 << 16;

pub(super) struct Out<W: Write> {
    w: W,
    buf: Vec<u8>,
    num: itoa::Buffer,
}

impl<W: Write> Out<W> {
    pub fn new(w: W) -> Out<W> {
        Out::with_capacity(w, CHUNK + 4096)
    }

    /// A buffer of `capacity` bytes to start with: one record's worth for
    /// `Display`, which is called once per type.
    pub fn with_capacity(w: W, capacity: usize) -> Out<W> {
        Out {
            w,
            buf: Vec::with_capacity(capacity),
            num: itoa::Buffer::new(),
        }
    }

    #[inline]
    pub fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(b);
    }

    #[inline]
    pub fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    /// An integer in decimal, like printf's `%u`, `%d`, `%llu` and `%lld`.
    #[inline]
    pub fn num(&mut self, n: impl itoa::Integer) {
        self.buf.extend_from_slice(self.num.format(n).as_bytes());
    }

    /// Hands the buffer to the writer once it is full; call between records
    /// (or anywhere in a long one: the bytes are the same).
    #[inline]
    pub fn end_record(&mut self) -> io::Result<()> {
        if self.buf.len() >= CHUNK {
            self.w.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    pub fn finish(mut self) -> io::Result<()> {
        self.w.write_all(&self.buf)?;
        self.w.flush()
    }
}
