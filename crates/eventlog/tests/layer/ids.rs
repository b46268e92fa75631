//! W3C ids: generation at the root, inheritance, threads, `traceparent`.

use std::collections::HashSet;

use tracing_subscriber::prelude::*;

use crate::support::{only, run, run_with};

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[test]
fn root_spans_start_traces_and_children_inherit_them() {
    let records = run(|| {
        let root = tracing::info_span!("root");
        let _r = root.enter();
        tracing::info!(event_name = "in_root");
        let child = tracing::info_span!("child");
        let _c = child.enter();
        tracing::info!(event_name = "in_child");
        let grandchild = tracing::info_span!("grandchild");
        grandchild.in_scope(|| tracing::info!(event_name = "in_grandchild"));
    });
    let trace_ids: HashSet<_> = records.iter().map(|r| r.str("trace_id").unwrap()).collect();
    assert_eq!(trace_ids.len(), 1, "one trace: {records:#?}");
    let trace_id = *trace_ids.iter().next().unwrap();
    assert!(is_hex(trace_id, 32) && trace_id != "0".repeat(32));
    let span_ids: HashSet<_> = records.iter().map(|r| r.str("span_id").unwrap()).collect();
    assert_eq!(span_ids.len(), 3, "each span has its own id");
    assert!(span_ids.iter().all(|s| is_hex(s, 16)));
}

#[test]
fn separate_roots_are_separate_traces() {
    let records = run(|| {
        tracing::info_span!("a").in_scope(|| tracing::info!(event_name = "first"));
        tracing::info_span!("b").in_scope(|| tracing::info!(event_name = "second"));
    });
    assert_ne!(records[0].get("trace_id"), records[1].get("trace_id"));
}

#[test]
fn events_outside_spans_carry_no_ids() {
    let records = run(|| tracing::info!(event_name = "orphan"));
    assert!(records[0].get("trace_id").is_none());
    assert!(records[0].get("span_id").is_none());
    assert!(records[0].get("span").is_none());
}

#[test]
fn a_span_entered_on_another_thread_keeps_its_ids() {
    let capture = eventlog::testing::Capture::new();
    let subscriber = tracing_subscriber::registry().with(eventlog::layer().writer(capture.clone()));
    let dispatch = tracing::Dispatch::new(subscriber);
    tracing::dispatcher::with_default(&dispatch, || {
        let span = tracing::info_span!("request", request_id = "r-thread");
        span.in_scope(|| tracing::info!(event_name = "on_main"));
        let moved = span.clone();
        let d = dispatch.clone();
        std::thread::spawn(move || {
            tracing::dispatcher::with_default(&d, || {
                moved.in_scope(|| {
                    tracing::info!(event_name = "on_worker");
                    tracing::info_span!("worker_step")
                        .in_scope(|| tracing::info!(event_name = "in_worker_child"));
                });
            });
        })
        .join()
        .unwrap();
    });
    let records = capture.records();
    let main = only(&records, "on_main");
    let worker = only(&records, "on_worker");
    let child = only(&records, "in_worker_child");
    assert_eq!(main.get("trace_id"), worker.get("trace_id"));
    assert_eq!(main.get("span_id"), worker.get("span_id"));
    assert_eq!(main.get("trace_id"), child.get("trace_id"));
    assert_ne!(main.get("span_id"), child.get("span_id"));
    assert_eq!(child.get("request_id").unwrap(), "r-thread");
}

const CALLER: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

#[test]
fn a_traceparent_field_continues_the_callers_trace() {
    let records = run(|| {
        let _s = tracing::info_span!("handle", traceparent = CALLER).entered();
        tracing::info!(event_name = "continued");
        tracing::info_span!("inner").in_scope(|| tracing::info!(event_name = "continued_inner"));
    });
    for r in &records {
        assert_eq!(
            r.get("trace_id").unwrap(),
            "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        assert_ne!(
            r.get("span_id").unwrap(),
            "00f067aa0ba902b7",
            "our span is a child, not the caller"
        );
    }
    assert!(
        records[0].span_field("traceparent").is_none(),
        "consumed, not repeated in every line"
    );
}

#[test]
fn a_traceparent_recorded_later_is_picked_up() {
    let records = run(|| {
        let span = tracing::info_span!("handle", traceparent = tracing::field::Empty);
        span.record("traceparent", CALLER);
        span.in_scope(|| tracing::info!(event_name = "late"));
    });
    assert_eq!(
        records[0].get("trace_id").unwrap(),
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
}

#[test]
fn an_invalid_traceparent_is_ignored_and_counted() {
    let layer = eventlog::layer();
    let stats = layer.stats();
    let records = run_with(layer, || {
        let _s =
            tracing::info_span!("handle", traceparent = "00-zzzz-00f067aa0ba902b7-01").entered();
        tracing::info!(event_name = "not_continued");
    });
    let trace_id = records[0].str("trace_id").unwrap();
    assert!(is_hex(trace_id, 32));
    assert_ne!(trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(stats.snapshot().invalid_traceparents, 1);
}
