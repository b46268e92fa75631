//! Records of the `log` crate, bridged by `tracing-log`'s `LogTracer`
//! (issue 15): they keep their own target, level, file and line, their
//! `log.*` bookkeeping fields stay out of `metadata`, and inside a span
//! they carry its ids like any event.

use std::sync::Once;

use eventlog::{Envelope, Key};
use tracing_subscriber::prelude::*;

use crate::support::run_with;

/// `LogTracer` is the process's one `log` logger: installed once for the
/// whole test binary. It hands each record to the thread's current
/// dispatcher, so every test still sees only its own.
fn bridge_log_records() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| tracing_log::LogTracer::init().unwrap());
}

fn with_location() -> eventlog::EventLayer {
    eventlog::layer().envelope(Envelope::builder().code_location(true).build().unwrap())
}

#[test]
fn a_log_record_keeps_its_target_level_file_and_line() {
    bridge_log_records();
    let mut line = 0;
    let records = run_with(with_location(), || {
        line = line!() + 1;
        log::warn!(target: "payments::gateway", "card declined for order {}", 42);
    });
    assert_eq!(records.len(), 1, "{records:?}");
    let r = &records[0];
    assert_eq!(r.str("target"), Some("payments::gateway"));
    assert_eq!(r.str("level"), Some("WARN"));
    assert_eq!(r.message(), Some("card declined for order 42"));
    assert_eq!(r.event_type(), Some("log"));
    assert!(r.str("file").unwrap().ends_with("log_records.rs"), "{r:?}");
    assert_eq!(
        r.get("line").and_then(serde_json::Value::as_u64),
        Some(u64::from(line))
    );
    // `log.target`, `log.module_path`, `log.file`, `log.line` are the
    // bridge's bookkeeping, not the event's data.
    assert!(r.get("metadata").is_none(), "{r:?}");
}

#[test]
fn a_log_record_inside_a_span_carries_its_ids_and_promoted_fields() {
    bridge_log_records();
    let records = run_with(eventlog::layer(), || {
        let _request = tracing::info_span!("checkout", request_id = "r-7").entered();
        tracing::info!(event_name = "order_placed");
        log::error!("payment provider timed out");
    });
    let placed = records
        .iter()
        .find(|r| r.event_name() == Some("order_placed"))
        .unwrap();
    let logged = records.iter().find(|r| r.event_name().is_none()).unwrap();
    assert_eq!(logged.trace_id(), placed.trace_id());
    assert!(logged.trace_id().is_some());
    assert_eq!(logged.request_id(), Some("r-7"));
    assert_eq!(
        logged.event_type(),
        Some("error"),
        "ERROR defaults to the error category"
    );
    // The module's path: `log`'s default target.
    assert_eq!(logged.str("target"), Some(module_path!()));
}

#[test]
fn the_target_key_is_renamed_or_left_out_and_tracing_events_keep_theirs() {
    bridge_log_records();
    let renamed = eventlog::layer().envelope(
        Envelope::builder()
            .rename(Key::Target, "logger")
            .build()
            .unwrap(),
    );
    let records = run_with(renamed, || {
        tracing::info!(target: "checkout::orders", event_name = "order_placed");
        log::info!(target: "legacy::billing", "invoice sent");
    });
    assert_eq!(records[0].str("logger"), Some("checkout::orders"));
    assert_eq!(records[1].str("logger"), Some("legacy::billing"));
    assert!(records.iter().all(|r| r.get("target").is_none()));

    let off = eventlog::layer().envelope(Envelope::builder().target(false).build().unwrap());
    let records = run_with(off, || log::info!("no target key"));
    assert_eq!(records.len(), 1);
    assert!(records[0].get("target").is_none(), "{:?}", records[0]);
    assert!(
        records[0].get("file").is_none(),
        "code location is off by default"
    );
}

#[test]
fn a_tracing_field_named_like_the_bridge_s_is_data() {
    // Only `tracing-log`'s callsites have bookkeeping fields.
    let records = run_with(eventlog::layer(), || {
        tracing::info!(event_name = "config_loaded", log.target = "stdout");
    });
    assert_eq!(
        records[0].metadata("log.target").and_then(|v| v.as_str()),
        Some("stdout")
    );
    assert_eq!(records[0].str("target"), Some(module_path!()));
}

#[test]
fn a_log_record_goes_through_every_output_with_a_registry_of_several_layers() {
    bridge_log_records();
    let capture = eventlog::testing::Capture::new();
    let fmt = tracing_subscriber::fmt::layer()
        .json()
        .with_writer(std::io::sink);
    let subscriber = tracing_subscriber::registry()
        .with(fmt)
        .with(eventlog::layer().writer(capture.clone()));
    tracing::subscriber::with_default(subscriber, || log::info!(target: "legacy", "hello"));
    let r = capture.records();
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].str("target"), Some("legacy"));
}

/// Issue 15: `testing::Capture` in a multi-threaded tokio test. Tasks on
/// the worker threads see the test's dispatcher only when given it
/// (`WithSubscriber`); then every record of every task is captured, with
/// its own span's ids.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn capture_sees_every_task_of_a_multi_thread_runtime_given_the_dispatcher() {
    use tracing::Instrument as _;
    use tracing::instrument::WithSubscriber as _;

    let capture = eventlog::testing::Capture::new();
    let dispatch: tracing::Dispatch = tracing_subscriber::registry()
        .with(eventlog::layer().writer(capture.clone()))
        .into();
    let tasks: Vec<_> = (0..64_u64)
        .map(|n| {
            let request = format!("r-{n}");
            // Spans, too, belong to the dispatcher they are created under.
            let span = tracing::dispatcher::with_default(
                &dispatch,
                || tracing::info_span!("job", request_id = %request),
            );
            tokio::spawn(
                async move {
                    tokio::task::yield_now().await; // may resume on another worker
                    tracing::info!(event_name = "job_done", n);
                }
                .instrument(span)
                .with_subscriber(dispatch.clone()),
            )
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let done = capture.events("job_done");
    assert_eq!(done.len(), 64);
    for r in &done {
        let n = r.metadata("n").and_then(serde_json::Value::as_u64).unwrap();
        assert_eq!(r.request_id(), Some(format!("r-{n}").as_str()));
        assert!(r.trace_id().is_some());
    }
}
