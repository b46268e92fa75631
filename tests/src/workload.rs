//! The per-event workload that every comparison in this project runs (the
//! `layer` and `otlp` benches, the allocation test, the `per_event` and
//! `export_cost` examples), written once so that all their figures measure
//! the same thing: an INFO event with six fields (`event_name`, a string
//! id, an f64, a string, a u64, a bool) and a message, inside two nested
//! spans with three fields each.
//!
//! ```
//! use std::sync::atomic::{AtomicUsize, Ordering};
//!
//! /// Counts the events and the spans entered around them.
//! struct Count(AtomicUsize, AtomicUsize);
//! impl tracing::Subscriber for Count {
//!     fn enabled(&self, _: &tracing::Metadata<'_>) -> bool { true }
//!     fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
//!         tracing::span::Id::from_u64(1)
//!     }
//!     fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
//!     fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
//!     fn event(&self, e: &tracing::Event<'_>) {
//!         assert_eq!(e.metadata().fields().len(), 7, "six fields and the message");
//!         self.0.fetch_add(1, Ordering::Relaxed);
//!     }
//!     fn enter(&self, _: &tracing::span::Id) { self.1.fetch_add(1, Ordering::Relaxed); }
//!     fn exit(&self, _: &tracing::span::Id) {}
//! }
//!
//! let count = std::sync::Arc::new(Count(AtomicUsize::new(0), AtomicUsize::new(0)));
//! let seen = tracing::subscriber::with_default(count.clone(), || {
//!     eventlog_tests::workload::in_two_spans(|| {
//!         eventlog_tests::workload::emit_event();
//!         eventlog_tests::workload::emit_event();
//!         "done"
//!     })
//! });
//! assert_eq!(seen, "done");
//! assert_eq!(count.0.load(Ordering::Relaxed), 2);
//! assert_eq!(count.1.load(Ordering::Relaxed), 2);
//! ```

// `#[inline]`: callers in other crates (the `per_event` example above all)
// compile these as if they were their own, as when this file was included
// with `#[path]`: moving it here left `per_event`'s count per event unchanged.

/// Emits the workload's event.
#[inline]
pub fn emit_event() {
    tracing::info!(
        event_name = "order_placed",
        order_id = "ord_1001",
        amount = 72.49,
        currency = "USD",
        items = 2u64,
        gift = false,
        "order placed"
    );
}

/// Runs `f` inside the workload's two nested spans.
#[inline]
pub fn in_two_spans<R>(f: impl FnOnce() -> R) -> R {
    let _request = tracing::info_span!(
        "request",
        request_id = "req_7f3a9b",
        user_id = "user_12345",
        session_id = "sess_9c2e41"
    )
    .entered();
    let _payment = tracing::info_span!(
        "payment",
        step = "authorize",
        attempt = 1u64,
        region = "eu-west-1"
    )
    .entered();
    f()
}
