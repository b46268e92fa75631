//! Several outputs, one processed record; stats; propagation between services.

use std::io;
use std::sync::{Arc, Mutex};

use eventlog::testing::Capture;
use eventlog::{DropReason, Output, Record};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;

#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<(String, Option<String>, usize)>>>);

impl Output for Seen {
    fn emit(&self, record: &Record<'_>) -> Result<(), DropReason> {
        let name = record.event_name().unwrap_or_default().to_owned();
        let request = record.correlation_value("request_id").map(str::to_owned);
        self.0
            .lock()
            .unwrap()
            .push((name, request, record.fields().len()));
        Ok(())
    }
}

#[test]
fn every_output_receives_the_same_record() {
    let json = Capture::new();
    let seen = Seen::default();
    let second_json = Capture::new();
    let layer = eventlog::layer()
        .writer(json.clone())
        .output(seen.clone())
        .output(eventlog::JsonOutput::new(second_json.clone()));
    let stats = layer.stats();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let _s = tracing::info_span!("req", request_id = "r-1").entered();
        tracing::info!(event_name = "order_placed", a = 1, b = 2);
    });
    assert_eq!(
        *seen.0.lock().unwrap(),
        [("order_placed".to_owned(), Some("r-1".to_owned()), 2)]
    );
    assert_eq!(json.lines().len(), 1);
    assert_eq!(
        json.lines(),
        second_json.lines(),
        "both JSON outputs wrote the same record"
    );
    let s = stats.snapshot();
    assert_eq!((s.emitted, s.accepted, s.dropped()), (1, 3, 0));
}

/// A writer whose every write fails, like a full disk.
#[derive(Clone, Copy)]
struct Full;

impl io::Write for Full {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::new(
            io::ErrorKind::StorageFull,
            "no space left on device",
        ))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Full {
    type Writer = Full;
    fn make_writer(&'a self) -> Full {
        Full
    }
}

#[test]
fn a_failing_writer_is_counted_not_fatal() {
    let seen = Seen::default();
    let layer = eventlog::layer().writer(Full).output(seen.clone());
    let stats = layer.stats();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for _ in 0..3 {
            tracing::info!(event_name = "still_delivered");
        }
    });
    let s = stats.snapshot();
    assert_eq!((s.emitted, s.accepted, s.dropped_io), (3, 3, 3));
    assert_eq!(
        seen.0.lock().unwrap().len(),
        3,
        "other outputs are unaffected"
    );
}

#[test]
fn two_services_share_trace_and_correlation_ids() {
    let capture = Capture::new();
    let subscriber = tracing_subscriber::registry().with(eventlog::layer().writer(capture.clone()));
    tracing::subscriber::with_default(subscriber, || {
        // Service "frontend": handles a request and calls "payments".
        let outgoing = tracing::info_span!(
            "frontend_request",
            request_id = "req-1",
            correlation_id = "corr-9"
        )
        .in_scope(|| {
            tracing::info!(event_name = "payment_requested");
            eventlog::current_context().unwrap()
        });
        assert_eq!(outgoing.request_id(), Some("req-1"));
        let headers = outgoing.headers();
        let header = |name: &str| headers.iter().find(|(k, _)| *k == name).unwrap().1.clone();
        assert_eq!(header("x-request-id"), "req-1");

        // Service "payments": continues from the headers it received.
        let _s = tracing::info_span!(
            "payments_request",
            traceparent = header("traceparent"),
            correlation_id = header("x-correlation-id"),
            request_id = header("x-request-id"),
        )
        .entered();
        tracing::info!(event_name = "payment_captured");
    });
    let records = capture.records();
    let (a, b) = (&records[0], &records[1]);
    assert_eq!(a.get("trace_id"), b.get("trace_id"));
    assert_eq!(a.get("correlation_id").unwrap(), "corr-9");
    assert_eq!(b.get("correlation_id").unwrap(), "corr-9");
    assert_eq!(b.get("request_id").unwrap(), "req-1");
    assert_ne!(a.get("span_id"), b.get("span_id"));
}

/// Issue 15: `headers()` used to send `x-user-id` and `x-session-id` to
/// whatever service was called next.
#[test]
fn headers_leave_user_and_session_ids_behind_unless_named() {
    let subscriber = tracing_subscriber::registry().with(eventlog::layer().writer(Capture::new()));
    tracing::subscriber::with_default(subscriber, || {
        let _s = tracing::info_span!(
            "request",
            request_id = "req-1",
            correlation_id = "corr-9",
            user_id = "user-7",
            session_id = "sess-3"
        )
        .entered();
        let cx = eventlog::current_context().unwrap();
        let names = |headers: Vec<(&'static str, String)>| -> Vec<&'static str> {
            headers.into_iter().map(|(name, _)| name).collect()
        };
        assert_eq!(
            names(cx.headers()),
            ["traceparent", "x-request-id", "x-correlation-id"]
        );
        assert_eq!(
            names(cx.headers_with(&["session_id", "user_id"])),
            ["traceparent", "x-session-id", "x-user-id"]
        );
        assert_eq!(names(cx.headers_with(&[])), ["traceparent"]);
    });
}

#[test]
fn current_context_is_none_outside_spans() {
    let subscriber = tracing_subscriber::registry().with(eventlog::layer().writer(Capture::new()));
    tracing::subscriber::with_default(subscriber, || {
        assert!(eventlog::current_context().is_none());
    });
}

/// A writer that holds lines until flushed, like a `BufWriter` or an
/// appender's queue: what reaches `flushed` has been flushed.
#[derive(Clone, Default)]
struct HeldUntilFlush {
    pending: Arc<Mutex<Vec<u8>>>,
    flushed: Capture,
}

impl io::Write for &HeldUntilFlush {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let held = std::mem::take(&mut *self.pending.lock().unwrap());
        self.flushed.make_writer().write_all(&held)
    }
}

impl<'a> MakeWriter<'a> for HeldUntilFlush {
    type Writer = &'a HeldUntilFlush;
    fn make_writer(&'a self) -> Self::Writer {
        self
    }
}

// Issue #13, item 9: the dead-letter output was never flushed.
#[test]
fn flush_flushes_the_dead_letter_output() {
    let (main, dead) = (HeldUntilFlush::default(), HeldUntilFlush::default());
    let layer = eventlog::layer()
        .service("checkout")
        .writer(main.clone())
        .schema(eventlog::Schema::recommended())
        .schema_policy(eventlog::Policy::dead_letter(dead.clone()));
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::info!(
            event_name = "order_placed",
            order_id = "o-1",
            amount = 1.0,
            currency = "USD"
        );
        tracing::info!(event_name = "order_placed", currency = "usd");
    });
    assert!(dead.flushed.lines().is_empty());
    let layer = dispatch.downcast_ref::<eventlog::EventLayer>().unwrap();
    layer.flush().unwrap();
    let dead_lettered = dead.flushed.records();
    assert_eq!(dead_lettered.len(), 1);
    assert!(dead_lettered[0].get("schema_errors").unwrap().is_array());
    assert_eq!(main.flushed.records().len(), 1);
}
