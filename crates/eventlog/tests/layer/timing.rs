//! Span-close records with durations.

use std::time::Duration;

use crate::support::{only, run, run_with};

#[test]
fn closing_a_span_emits_its_duration_as_a_number() {
    let records = run_with(eventlog::layer().close_events(true), || {
        let _root = tracing::info_span!("request", request_id = "r-1").entered();
        let step = tracing::info_span!("payment", attempt = 2);
        step.in_scope(|| std::thread::sleep(Duration::from_millis(20)));
        // Idle time: alive but not entered.
        std::thread::sleep(Duration::from_millis(10));
        drop(step);
    });
    let done = only(&records, "payment_completed");
    assert_eq!(done.event_type(), Some("system_event"));
    let total = done.get("duration_ms").unwrap().as_f64().unwrap();
    let busy = done.metadata("busy_ms").unwrap().as_f64().unwrap();
    let idle = done.metadata("idle_ms").unwrap().as_f64().unwrap();
    assert!(busy >= 20.0, "busy {busy}");
    assert!(idle >= 10.0, "idle {idle}");
    assert!(
        (total - (busy + idle)).abs() < 0.01,
        "{total} != {busy} + {idle}"
    );
    assert_eq!(done.span_field("attempt").unwrap(), 2);
    assert_eq!(done.get("request_id").unwrap(), "r-1");
    let root = only(&records, "request_completed");
    assert_eq!(root.get("trace_id"), done.get("trace_id"));
    assert_ne!(root.get("span_id"), done.get("span_id"));
}

#[test]
fn close_records_are_off_by_default_and_the_suffix_is_configurable() {
    let records = run(|| tracing::info_span!("quiet").in_scope(|| {}));
    assert!(records.is_empty());
    let records = run_with(eventlog::layer().close_event_suffix("_finished"), || {
        tracing::info_span!("job").in_scope(|| {});
    });
    assert_eq!(records[0].event_name(), Some("job_finished"));
}
