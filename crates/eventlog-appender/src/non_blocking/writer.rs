//! The caller's side: [`NonBlocking`], the cloneable writer handle, and
//! [`LineWriter`], the per-event writer its [`MakeWriter`] hands out.
//!
//! ```text
//!  tracing event ── make_writer ─> LineWriter (a reused per-thread buffer)
//!                                    │ a whole line at once, or the rest on drop / flush
//!                                    ▼
//!  write, write!, send ──────────> Shared::enqueue ─> queued, or dropped and counted
//! ```

use std::cell::Cell;
use std::fmt;
use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

use crate::error::GuardError;
use crate::non_blocking::queue::{MAX_KEPT_LINE_BUFFER, Shared};
use crate::stats::{LineDropReason, WriterStats};

/// The non-blocking writer handle: cheap to clone, safe to share.
///
/// Implements [`MakeWriter`] (each event gets a [`LineWriter`] that queues its
/// line whole) and [`io::Write`] (each `write` call, and each `write!` /
/// `writeln!`, is queued whole, so lines from several threads never mix). The
/// caller never does I/O: it copies the line into the queue, or, when the
/// queue is full, waits or drops according to [`Backpressure`](crate::Backpressure).
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let (writer, guard) = eventlog_appender::RollingFile::builder()
///     .directory(dir.path())
///     .build_non_blocking()?;
/// let subscriber = tracing_subscriber::fmt().json().with_writer(writer.clone()).finish();
/// tracing::subscriber::with_default(subscriber, || tracing::info!(order_id = 7, "order placed"));
/// guard.flush()?;
/// assert_eq!(writer.stats().snapshot().lines_written, 1);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct NonBlocking {
    pub(super) shared: Arc<Shared>,
    pub(super) flush_timeout: Duration,
}

impl fmt::Debug for NonBlocking {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NonBlocking")
            .field("capacity", &self.shared.capacity)
            .field("backpressure", &self.shared.backpressure)
            .finish_non_exhaustive()
    }
}

impl NonBlocking {
    /// The live counters (shared with the guard and the rolling file).
    pub fn stats(&self) -> WriterStats {
        self.shared.stats.clone()
    }

    /// Queues `line` whole (or counts it dropped), exactly like `io::Write::write`
    /// but without needing `&mut`.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (writer, guard) = eventlog_appender::NonBlocking::builder().build(Vec::new())?;
    /// writer.send(b"one\n");
    /// let stats = guard.shutdown(std::time::Duration::from_secs(5))?;
    /// assert_eq!((stats.lines_queued, stats.lines_written, stats.bytes_written), (1, 1, 4));
    /// # Ok(()) }
    /// ```
    pub fn send(&self, line: &[u8]) {
        let _ = self.shared.enqueue(line);
    }
}

impl Write for NonBlocking {
    /// Queues all of `buf` as one unit and reports it written; if it was
    /// dropped, the drop is counted in [`WriterStats`].
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let _ = self.shared.enqueue(buf);
        Ok(buf.len())
    }

    /// Formats into a per-thread buffer first, so `write!` and `writeln!`
    /// (which call `write` once per piece) still queue one whole unit.
    fn write_fmt(&mut self, args: fmt::Arguments<'_>) -> io::Result<()> {
        let mut line = self.make_writer();
        line.write_fmt(args)
    }

    /// Waits until everything queued so far is written (up to the flush
    /// timeout); `TimedOut` or `BrokenPipe` (worker stopped) otherwise.
    fn flush(&mut self) -> io::Result<()> {
        self.shared.flush(self.flush_timeout).map_err(|e| {
            let kind = match e {
                GuardError::Timeout { .. } => io::ErrorKind::TimedOut,
                _ => io::ErrorKind::BrokenPipe,
            };
            io::Error::new(kind, e)
        })
    }
}

thread_local! {
    /// One reusable line buffer per thread, so a steady stream of events allocates nothing.
    static LINE_BUFFER: Cell<Vec<u8>> = const { Cell::new(Vec::new()) };
}

/// The per-event writer [`NonBlocking`] hands to `tracing-subscriber`.
///
/// It collects one event's output in a reused per-thread buffer and queues it
/// whole when dropped (or on `flush`), so concurrent events never interleave
/// and a line is never split.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::io::Write;
/// use tracing_subscriber::fmt::MakeWriter;
///
/// let (writer, guard) = eventlog_appender::NonBlocking::builder().build(Vec::new())?;
/// {
///     let mut line = writer.make_writer();
///     line.write_all(b"{\"a\":")?;
///     line.write_all(b"1}\n")?;
/// } // queued here, as one line
/// let stats = guard.shutdown(std::time::Duration::from_secs(5))?;
/// assert_eq!((stats.lines_written, stats.bytes_written), (1, 8));
/// # Ok(()) }
/// ```
pub struct LineWriter<'a> {
    writer: &'a NonBlocking,
    buf: Vec<u8>,
}

impl fmt::Debug for LineWriter<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LineWriter")
            .field("buffered", &self.buf.len())
            .finish()
    }
}

impl Write for LineWriter<'_> {
    /// Buffers `buf` until the line is complete. A whole line written in one
    /// call (what `write_all` of a formatted event does) is queued at once,
    /// and a drop is reported to the caller as an error — `WouldBlock` for a
    /// full queue, `FileTooLarge` for a line larger than the queue,
    /// `BrokenPipe` after shutdown — so a layer above (eventlog's JSON
    /// output) can count it in its own stats. It is counted here either way.
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.buf.is_empty() && buf.last() == Some(&b'\n') {
            self.writer.shared.enqueue(buf).map_err(drop_error)?;
            return Ok(buf.len());
        }
        self.buf.extend_from_slice(buf);
        Ok(buf.len())
    }

    /// Queues what was written so far; it does not wait for the disk.
    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let queued = self.writer.shared.enqueue(&self.buf);
        self.buf.clear();
        queued.map_err(drop_error)
    }
}

/// The `io::Error` a dropped line is reported as. `eventlog`'s `JsonOutput`
/// reads the kind back as its own `DropReason` (`QueueFull`, `Oversized`,
/// `Shutdown`), so both crates count a loss under the same name.
fn drop_error(reason: LineDropReason) -> io::Error {
    let kind = match reason {
        LineDropReason::QueueFull => io::ErrorKind::WouldBlock,
        LineDropReason::Oversized => io::ErrorKind::FileTooLarge,
        LineDropReason::Shutdown => io::ErrorKind::BrokenPipe,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, format!("line dropped: {}", reason.as_str()))
}

impl Drop for LineWriter<'_> {
    fn drop(&mut self) {
        let _ = self.flush();
        let buf = std::mem::take(&mut self.buf);
        if buf.capacity() <= MAX_KEPT_LINE_BUFFER {
            // Fails only during thread teardown, when the buffer is simply freed.
            let _ = LINE_BUFFER.try_with(|slot| slot.set(buf));
        }
    }
}

impl<'a> MakeWriter<'a> for NonBlocking {
    type Writer = LineWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        LineWriter {
            writer: self,
            buf: LINE_BUFFER.try_with(Cell::take).unwrap_or_default(),
        }
    }
}
