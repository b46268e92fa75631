//! Helpers for asserting, in your own tests, which events your code emitted.
//!
//! [`Capture`] is a `MakeWriter` that keeps every line in memory; its
//! accessors parse the lines and hand back [`CapturedRecord`]s, so tests
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

// A test helper reports failures by panicking, like `assert!`.
#![allow(clippy::panic, clippy::expect_used)]

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Map, Value};
use tracing_subscriber::fmt::MakeWriter;

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
    pub fn records(&self) -> Vec<CapturedRecord> {
        self.lines()
            .iter()
            .map(|line| match serde_json::from_str::<Value>(line) {
                Ok(Value::Object(map)) => CapturedRecord(map),
                Ok(other) => panic!("line is JSON but not an object: {other}"),
                Err(e) => panic!("line is not valid JSON ({e}): {line}"),
            })
            .collect()
    }

    /// The records named `event_name`, in order.
    pub fn events(&self, event_name: &str) -> Vec<CapturedRecord> {
        self.records()
            .into_iter()
            .filter(|r| r.event_name() == Some(event_name))
            .collect()
    }

    /// The first record named `event_name`, if any.
    pub fn find(&self, event_name: &str) -> Option<CapturedRecord> {
        self.events(event_name).into_iter().next()
    }

    /// The first record named `event_name`.
    ///
    /// # Panics
    ///
    /// If there is none; the message lists the names that were seen.
    pub fn expect_event(&self, event_name: &str) -> CapturedRecord {
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

/// One parsed record.
#[derive(Debug, Clone, PartialEq)]
pub struct CapturedRecord(Map<String, Value>);

impl CapturedRecord {
    /// A top-level key (`"trace_id"`, `"request_id"`, `"service"`, …).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// A top-level string key.
    pub fn str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }

    /// The `event_name`.
    pub fn event_name(&self) -> Option<&str> {
        self.str("event_name")
    }

    /// The `event_type`.
    pub fn event_type(&self) -> Option<&str> {
        self.str("event_type")
    }

    /// The `level`.
    pub fn level(&self) -> Option<&str> {
        self.str("level")
    }

    /// The `message`.
    pub fn message(&self) -> Option<&str> {
        self.str("message")
    }

    /// One of the event's own fields (inside `metadata`).
    pub fn metadata(&self, field: &str) -> Option<&Value> {
        self.get("metadata").and_then(|m| m.get(field))
    }

    /// One of the current span's fields (inside `span.fields`).
    pub fn span_field(&self, field: &str) -> Option<&Value> {
        self.get("span")
            .and_then(|s| s.get("fields"))
            .and_then(|f| f.get(field))
    }

    /// The keys in the order they were written.
    pub fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }

    /// The whole record.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }
}
