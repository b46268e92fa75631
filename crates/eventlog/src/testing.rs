//! Helpers for asserting, in your own tests, which events your code emitted.
//!
//! [`Capture`] is a `MakeWriter` that keeps every line in memory; its
//! accessors parse the lines and hand back [`ParsedRecord`]s, so tests
//! compare values, not substrings.
//!
//! ```
//! use tracing_subscriber::prelude::*;
//! use eventlog::testing::Capture;
//!
//! fn place_order() {
//!     tracing::info!(event_name = "order_placed", amount = 72.49, currency = "USD", items = 2);
//! }
//!
//! let capture = Capture::new();
//! let subscriber = tracing_subscriber::registry().with(eventlog::layer().writer(capture.clone()));
//! tracing::subscriber::with_default(subscriber, place_order);
//!
//! let order = capture.expect_event("order_placed");
//! assert_eq!(order.metadata("amount").unwrap(), 72.49);
//! assert_eq!(order.metadata("items").unwrap(), 2);
//! assert_eq!(order.event_type(), Some("log"));
//! ```

//!
//! # Async tests on a multi-threaded runtime
//!
//! `with_default` and `set_default` set the subscriber for the current
//! thread only, so under `#[tokio::test(flavor = "multi_thread")]` tasks
//! that run on the runtime's worker threads log to nobody and the capture
//! stays empty. Give each spawned task the test's dispatcher with
//! `tracing::instrument::WithSubscriber` (the capture is shared, so every
//! task's records land in it), or set it globally once per test binary:
//!
//! ```
//! use tracing::instrument::WithSubscriber;
//! use tracing_subscriber::prelude::*;
//!
//! # let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build()?;
//! # runtime.block_on(async {
//! // In `#[tokio::test(flavor = "multi_thread")] async fn …`:
//! let capture = eventlog::testing::Capture::new();
//! let dispatch: tracing::Dispatch =
//!     tracing_subscriber::registry().with(eventlog::layer().writer(capture.clone())).into();
//! let tasks: Vec<_> = (0..8)
//!     .map(|n| tokio::spawn(async move { tracing::info!(event_name = "job_done", n) }.with_subscriber(dispatch.clone())))
//!     .collect();
//! for task in tasks {
//!     task.await?;
//! }
//! assert_eq!(capture.events("job_done").len(), 8);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// A test helper reports failures by panicking, like `assert!`.
#![allow(clippy::panic, clippy::expect_used)]

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use tracing_subscriber::fmt::MakeWriter;

pub use crate::limit::ManualClock;
use crate::parsed::ParsedRecord;

/// An in-memory writer for tests; clones share the same buffer.
#[derive(Debug, Clone, Default)]
pub struct Capture {
    buf: Arc<Mutex<Vec<u8>>>,
}

impl Capture {
    /// An empty capture.
    pub fn new() -> Self {
        Self::default()
    }

    fn bytes(&self) -> Vec<u8> {
        self.buf
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Everything written so far, as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes()).into_owned()
    }

    /// Every line written so far, without the newlines.
    pub fn lines(&self) -> Vec<String> {
        self.text().lines().map(str::to_owned).collect()
    }

    /// Every record written so far, parsed.
    ///
    /// # Panics
    ///
    /// If a line is not one JSON object: that is a bug worth failing on.
    pub fn records(&self) -> Vec<ParsedRecord> {
        self.lines()
            .iter()
            .map(|line| {
                ParsedRecord::parse(line)
                    .unwrap_or_else(|e| panic!("line is not a record ({e}): {line}"))
            })
            .collect()
    }

    /// The records named `event_name`, in order.
    pub fn events(&self, event_name: &str) -> Vec<ParsedRecord> {
        self.records()
            .into_iter()
            .filter(|r| r.event_name() == Some(event_name))
            .collect()
    }

    /// The first record named `event_name`, if any.
    pub fn find(&self, event_name: &str) -> Option<ParsedRecord> {
        self.events(event_name).into_iter().next()
    }

    /// The first record named `event_name`.
    ///
    /// # Panics
    ///
    /// If there is none; the message lists the names that were seen.
    pub fn expect_event(&self, event_name: &str) -> ParsedRecord {
        let records = self.records();
        let seen: Vec<_> = records
            .iter()
            .map(|r| r.event_name().unwrap_or("<unnamed>").to_owned())
            .collect();
        records
            .into_iter()
            .find(|r| r.event_name() == Some(event_name))
            .unwrap_or_else(|| panic!("no `{event_name}` event; saw {seen:?}"))
    }

    /// Forgets everything captured so far.
    pub fn clear(&self) {
        self.buf
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

/// The writer [`Capture`] hands out for each line.
#[derive(Debug)]
pub struct CaptureWriter {
    buf: Arc<Mutex<Vec<u8>>>,
}

impl io::Write for CaptureWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = CaptureWriter;

    fn make_writer(&'a self) -> CaptureWriter {
        CaptureWriter {
            buf: Arc::clone(&self.buf),
        }
    }
}

/// The record type [`Capture`] used to return, now the crate's one parsed
/// record type.
///
/// ```
/// # #![allow(deprecated)]
/// let record: eventlog::testing::CapturedRecord = eventlog::ParsedRecord::parse("{}")?;
/// assert!(record.keys().is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[deprecated(note = "use `eventlog::ParsedRecord`, the same type (issue #14)")]
pub type CapturedRecord = ParsedRecord;
