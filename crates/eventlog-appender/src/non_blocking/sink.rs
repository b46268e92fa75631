//! Where the worker writes: the [`Sink`] trait, its `io::Write` adapter, and
//! what the worker and a sink both need to agree on a batch (its lines).
//!
//! ```text
//!  Worker ── write(whole lines), flush, close(deadline) ─> Sink ─┬─ WriterSink<W: io::Write>
//!                                                                └─ RollingFile
//! ```

use std::io::{self, Write};
use std::time::Instant;

/// Where the worker writes: any `io::Write`, or a [`RollingFile`](crate::RollingFile).
pub(crate) trait Sink: Send {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize>;
    fn flush(&mut self) -> io::Result<()>;
    /// Finishes background work (compression) by `deadline` (`None`: no
    /// limit); whether it did.
    fn close(&mut self, deadline: Option<Instant>) -> bool {
        let _ = deadline;
        true
    }
}

pub(super) struct WriterSink<W>(pub(super) W);

impl<W: Write + Send> Sink for WriterSink<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// Newlines in `buf`: runs once per batch on failure paths and in blocking
/// mode, so a plain loop beats a dependency.
#[allow(clippy::naive_bytecount)]
pub(crate) fn count_lines(buf: &[u8]) -> u64 {
    buf.iter().filter(|&&b| b == b'\n').count() as u64
}
