//! Outputs: where finished records go.
//!
//! ```text
//!                        ┌─> JsonOutput<MakeWriter> ─> stdout / file / non-blocking appender
//! EventLayer ─ &Record ──┼─> (eventlog-otlp) OtlpOutput ─> collector
//!                        └─> any other `Output`
//! ```
//!
//! Every output receives the same record, already redacted and checked, so
//! they always agree.

#![deny(clippy::indexing_slicing, clippy::string_slice)]

use std::cell::Cell;
use std::io::Write;

use tracing_subscriber::fmt::MakeWriter;

use crate::encode::JsonBuf;
use crate::record::Record;
use crate::reuse::{Slot, with_reused};
use crate::stats::DropReason;

/// Receives every finished record.
///
/// `emit` runs on the thread that logged the event, inside its `tracing`
/// call, so whatever it waits for, the caller waits for. [`JsonOutput`]
/// writes synchronously to its writer: with the default, stdout, a slow
/// reader of the pipe stalls the caller. Where that matters, give the layer
/// a non-blocking writer (`eventlog-appender`, `tracing-appender`) or an
/// output that queues and returns, as `eventlog-otlp`'s does. `emit` must
/// not emit `tracing` events itself (they would feed back into the layer).
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use eventlog::{DropReason, Output, Record};
/// use tracing_subscriber::prelude::*;
///
/// /// Keeps the names of the events it sees.
/// #[derive(Clone, Default)]
/// struct Names(Arc<Mutex<Vec<String>>>);
///
/// impl Output for Names {
///     fn emit(&self, record: &Record<'_>) -> Result<(), DropReason> {
///         let name = record.event_name().unwrap_or("-").to_owned();
///         self.0.lock().map_err(|_| DropReason::Shutdown)?.push(name);
///         Ok(())
///     }
/// }
///
/// let names = Names::default();
/// let layer = eventlog::layer().without_writer().output(names.clone());
/// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
///     tracing::info!(event_name = "order_placed", order_id = "o-1");
/// });
/// assert_eq!(*names.0.lock().unwrap(), ["order_placed"]);
/// ```
pub trait Output: Send + Sync + 'static {
    /// Takes one record. `Err` means the record was lost, and why; the
    /// layer counts it.
    fn emit(&self, record: &Record<'_>) -> Result<(), DropReason>;

    /// Pushes buffered records towards their destination.
    fn flush(&self) -> std::io::Result<()> {
        Ok(())
    }
}

thread_local! {
    static LINE: Slot<JsonBuf> = const { Cell::new(None) };
}

/// Lines above this size are not kept in the per-thread buffer afterwards,
/// so one huge event does not pin its memory for the thread's lifetime.
const KEEP_BUFFER_BYTES: usize = 64 * 1024;

/// Writes each record as one JSON line to a [`MakeWriter`].
///
/// The line is encoded into a reused per-thread buffer and handed to the
/// writer in a single `write_all`, so lines from several threads never
/// interleave on writers that keep writes whole (files opened for append,
/// `tracing-appender`, `eventlog-appender`).
///
/// A second JSON output beside the layer's writer (here, an audit copy):
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// let main = eventlog::testing::Capture::new();
/// let audit = eventlog::testing::Capture::new();
/// let layer = eventlog::layer()
///     .writer(main.clone())
///     .output(eventlog::JsonOutput::new(audit.clone()));
/// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
///     tracing::warn!(event_name = "access_denied", event_type = "security");
/// });
/// assert_eq!(audit.expect_event("access_denied").event_type(), Some("security"));
/// assert_eq!(main.lines(), audit.lines());
/// ```
#[derive(Debug)]
pub struct JsonOutput<M> {
    make_writer: M,
}

impl<M> JsonOutput<M>
where
    M: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    /// An output writing to `make_writer`.
    pub fn new(make_writer: M) -> Self {
        Self { make_writer }
    }

    fn write_line(&self, record: &Record<'_>, line: &mut JsonBuf) -> Result<(), DropReason> {
        line.clear();
        record.encode_json(line);
        let line = line.as_bytes();
        debug_assert!(
            serde_json::from_slice::<serde::de::IgnoredAny>(line).is_ok(),
            "eventlog wrote invalid JSON: {}",
            String::from_utf8_lossy(line)
        );
        let mut writer = self.make_writer.make_writer_for(record.metadata());
        writer.write_all(line).map_err(|e| drop_reason(e.kind()))
    }
}

/// Why a writer refused a line, in the layer's words. A non-blocking writer
/// (`eventlog-appender`'s, `tracing-appender`'s lossy one) says
/// `WouldBlock` when its queue is full, `FileTooLarge` for a line larger
/// than its whole queue and `BrokenPipe` once it is shut down (as a pipe
/// whose reader is gone does).
fn drop_reason(kind: std::io::ErrorKind) -> DropReason {
    match kind {
        std::io::ErrorKind::WouldBlock => DropReason::QueueFull,
        std::io::ErrorKind::FileTooLarge => DropReason::Oversized,
        std::io::ErrorKind::BrokenPipe => DropReason::Shutdown,
        kind => DropReason::Io(kind),
    }
}

impl<M> Output for JsonOutput<M>
where
    M: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    fn emit(&self, record: &Record<'_>) -> Result<(), DropReason> {
        // A writer that logs (re-entry) finds no buffer and gets a fresh one.
        with_reused(
            &LINE,
            |line| line.capacity() <= KEEP_BUFFER_BYTES,
            |line| self.write_line(record, line),
        )
    }

    fn flush(&self) -> std::io::Result<()> {
        self.make_writer.make_writer().flush()
    }
}
