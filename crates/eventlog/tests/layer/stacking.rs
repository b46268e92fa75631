//! Stacks users build: several eventlog layers, per-layer filters, `fmt`,
//! `EnvFilter`, all in one registry. Each layer writes its own output, and
//! filtering what a layer writes never changes the ids its records carry.
//!
//! Regressions of issue #13, items 2 and 3 (reproduced on `dab172c`).

use eventlog::ParsedRecord;
use eventlog::testing::Capture;
use tracing_subscriber::filter::{EnvFilter, LevelFilter, filter_fn};
use tracing_subscriber::prelude::*;

use crate::support::{assert_no_duplicate_keys, only};

fn parsed(capture: &Capture) -> Vec<ParsedRecord> {
    for line in capture.lines() {
        assert_no_duplicate_keys(&line);
    }
    capture.records()
}

/// The workload every stack runs: a request span with a child, an INFO and
/// a WARN event in the child, a late `Span::record` of `user_id`, and an
/// event outside any span.
fn workload() {
    let request = tracing::info_span!(
        "request",
        request_id = "r-1",
        user_id = tracing::field::Empty
    );
    let entered_request = request.enter();
    let child = tracing::info_span!("payment", attempt = 1);
    let entered_child = child.enter();
    tracing::info!(event_name = "payment_started");
    request.record("user_id", "u-9");
    tracing::warn!(event_name = "payment_retried", reason = "timeout");
    drop(entered_child);
    drop(entered_request);
    tracing::error!(event_name = "outside_any_span");
}

/// Runs the workload under an unfiltered eventlog layer and `second`
/// (which writes to `second_output`); both outputs, parsed.
fn beside_an_unfiltered_layer<L>(
    second: L,
    second_output: &Capture,
) -> (Vec<ParsedRecord>, Vec<ParsedRecord>)
where
    L: tracing_subscriber::Layer<
            tracing_subscriber::layer::Layered<eventlog::EventLayer, tracing_subscriber::Registry>,
        > + Send
        + Sync
        + 'static,
{
    let all = Capture::new();
    let subscriber = tracing_subscriber::registry()
        .with(eventlog::layer().writer(all.clone()))
        .with(second);
    tracing::subscriber::with_default(subscriber, workload);
    (parsed(&all), parsed(second_output))
}

/// Asserts the records of one output: the names written, and that every
/// record inside the request has its ids and promoted fields.
fn assert_output(records: &[ParsedRecord], names: &[&str]) {
    let got: Vec<_> = records
        .iter()
        .filter_map(ParsedRecord::event_name)
        .collect();
    assert_eq!(got, names);
    for r in records {
        if r.event_name() == Some("outside_any_span") {
            assert_eq!(r.get("trace_id"), None);
            continue;
        }
        assert_eq!(r.str("trace_id").map(str::len), Some(32), "{r:?}");
        assert_eq!(r.str("span_id").map(str::len), Some(16), "{r:?}");
        assert_eq!(r.str("request_id"), Some("r-1"), "{r:?}");
        assert_eq!(r.get("span").unwrap()["name"], "payment");
    }
    if let Some(retried) = records
        .iter()
        .find(|r| r.event_name() == Some("payment_retried"))
    {
        assert_eq!(retried.str("user_id"), Some("u-9"));
    }
}

/// The ids two outputs gave the same event agree.
fn assert_same_ids(a: &[ParsedRecord], b: &[ParsedRecord], name: &str) {
    let (a, b) = (only(a, name), only(b, name));
    assert_eq!(a.get("trace_id"), b.get("trace_id"));
    assert_eq!(a.get("span_id"), b.get("span_id"));
}

const ALL: [&str; 3] = ["payment_started", "payment_retried", "outside_any_span"];

#[test]
fn two_eventlog_layers_in_one_registry_do_not_panic() {
    let (a, b) = (Capture::new(), Capture::new());
    let subscriber = tracing_subscriber::registry()
        .with(eventlog::layer().writer(a.clone()))
        .with(eventlog::layer().service("second").writer(b.clone()));
    tracing::subscriber::with_default(subscriber, workload);
    let (a, b) = (parsed(&a), parsed(&b));
    assert_output(&a, &ALL);
    assert_output(&b, &ALL);
    assert_eq!(only(&b, "payment_started").str("service"), Some("second"));
    assert_eq!(only(&a, "payment_started").get("service"), None);
    for name in &ALL[..2] {
        assert_same_ids(&a, &b, name);
    }
}

#[test]
fn three_layers_with_different_envelopes_and_redaction_each_write_their_own() {
    let (plain, renamed, unredacted) = (Capture::new(), Capture::new(), Capture::new());
    let envelope = eventlog::Envelope::builder()
        .rename(eventlog::Key::TraceId, "traceId")
        .promote("attempt")
        .span_block(false)
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry()
        .with(eventlog::layer().close_events(true).writer(plain.clone()))
        .with(eventlog::layer().envelope(envelope).writer(renamed.clone()))
        .with(
            eventlog::layer()
                .redactor(eventlog::Redactor::none())
                .writer(unredacted.clone()),
        );
    tracing::subscriber::with_default(subscriber, || {
        let _s = tracing::info_span!("login", attempt = 2, password = "hunter2").entered();
        tracing::info!(event_name = "user_login_attempt", token = "t0ps3cret");
    });
    let (plain, renamed, unredacted) = (parsed(&plain), parsed(&renamed), parsed(&unredacted));
    let p = only(&plain, "user_login_attempt");
    let r = only(&renamed, "user_login_attempt");
    let u = only(&unredacted, "user_login_attempt");
    assert_eq!(p.metadata("token").unwrap(), "[REDACTED]");
    assert_eq!(p.span_field("password").unwrap(), "[REDACTED]");
    assert_eq!(u.metadata("token").unwrap(), "t0ps3cret");
    assert_eq!(u.span_field("password").unwrap(), "hunter2");
    assert_eq!(r.str("attempt"), Some("2"));
    assert_eq!(r.get("span"), None);
    assert_eq!(r.get("traceId"), p.get("trace_id"));
    assert_eq!(u.get("trace_id"), p.get("trace_id"));
    // Only the first layer asked for close records.
    assert!(
        plain
            .iter()
            .any(|x| x.event_name() == Some("login_completed"))
    );
    assert!(
        !renamed
            .iter()
            .any(|x| x.event_name() == Some("login_completed"))
    );
}

#[test]
fn a_per_layer_event_filter_keeps_the_ids_of_filtered_records() {
    let warn = Capture::new();
    let (all, warn) = beside_an_unfiltered_layer(
        eventlog::layer()
            .writer(warn.clone())
            .with_event_filter(LevelFilter::WARN),
        &warn,
    );
    assert_output(&all, &ALL);
    assert_output(&warn, &["payment_retried", "outside_any_span"]);
    assert_same_ids(&all, &warn, "payment_retried");
}

#[test]
fn a_per_layer_event_filter_alone_keeps_the_ids() {
    // The layer is the only one: nothing else creates the INFO spans.
    let warn = Capture::new();
    let subscriber = tracing_subscriber::registry().with(
        eventlog::layer()
            .writer(warn.clone())
            .with_event_filter(LevelFilter::WARN),
    );
    tracing::subscriber::with_default(subscriber, workload);
    assert_output(&parsed(&warn), &["payment_retried", "outside_any_span"]);
}

#[test]
fn current_context_works_under_a_per_layer_event_filter() {
    let subscriber = tracing_subscriber::registry().with(
        eventlog::layer()
            .writer(Capture::new())
            .with_event_filter(LevelFilter::ERROR),
    );
    tracing::subscriber::with_default(subscriber, || {
        let _request = tracing::info_span!("request", request_id = "r-5").entered();
        let cx = eventlog::current_context().expect("the span is in context");
        assert_eq!(cx.request_id(), Some("r-5"));
    });
}

#[test]
fn an_event_filter_writes_close_records_only_for_spans_it_enables() {
    let capture = Capture::new();
    let subscriber = tracing_subscriber::registry().with(
        eventlog::layer()
            .close_events(true)
            .writer(capture.clone())
            .with_event_filter(LevelFilter::WARN),
    );
    tracing::subscriber::with_default(subscriber, || {
        let _info = tracing::info_span!("quiet").entered();
        let _warn = tracing::warn_span!("loud").entered();
        tracing::warn!(event_name = "inside");
    });
    let records = parsed(&capture);
    let names: Vec<_> = records
        .iter()
        .filter_map(ParsedRecord::event_name)
        .collect();
    assert_eq!(names, ["inside", "loud_completed"]);
    // The filtered-out span still gave its ids to the record beneath it.
    assert_eq!(
        only(&records, "inside").get("trace_id"),
        only(&records, "loud_completed").get("trace_id")
    );
}

#[test]
fn an_env_filter_with_span_directives_works_as_an_event_filter() {
    let capture = Capture::new();
    let subscriber = tracing_subscriber::registry().with(
        eventlog::layer()
            .writer(capture.clone())
            .with_event_filter(EnvFilter::new("warn,[checkout]=debug")),
    );
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!(event_name = "outside_dropped");
        tracing::info_span!("checkout", request_id = "r-2").in_scope(|| {
            tracing::debug!(event_name = "inside_kept");
        });
        tracing::info_span!("browse").in_scope(|| {
            tracing::info!(event_name = "browse_dropped");
            tracing::warn!(event_name = "browse_warned");
        });
    });
    let records = parsed(&capture);
    let names: Vec<_> = records
        .iter()
        .filter_map(ParsedRecord::event_name)
        .collect();
    assert_eq!(names, ["inside_kept", "browse_warned"]);
    assert_eq!(only(&records, "inside_kept").str("request_id"), Some("r-2"));
    assert!(only(&records, "browse_warned").get("span_id").is_some());
}

#[test]
fn a_plain_with_filter_still_writes_and_does_not_panic() {
    // Documented: a plain per-layer filter hides the spans it rejects, so
    // records beneath them have no span context. It must still work.
    let warn = Capture::new();
    let (all, warn) = beside_an_unfiltered_layer(
        eventlog::layer()
            .writer(warn.clone())
            .with_filter(LevelFilter::WARN),
        &warn,
    );
    assert_output(&all, &ALL);
    let names: Vec<_> = warn.iter().filter_map(ParsedRecord::event_name).collect();
    assert_eq!(names, ["payment_retried", "outside_any_span"]);
}

#[test]
fn a_span_filtered_out_for_the_first_layer_gets_its_ids_from_the_second() {
    let (a, b) = (Capture::new(), Capture::new());
    let only_payment = filter_fn(|meta| !meta.is_span() || meta.name() == "payment");
    let subscriber = tracing_subscriber::registry()
        .with(
            eventlog::layer()
                .writer(a.clone())
                .with_filter(only_payment),
        )
        .with(eventlog::layer().writer(b.clone()));
    tracing::subscriber::with_default(subscriber, workload);
    let (a, b) = (parsed(&a), parsed(&b));
    assert_output(&b, &ALL);
    // Layer a never saw `request`, so no request_id, but the ids agree.
    let started = only(&a, "payment_started");
    assert_eq!(started.get("request_id"), None);
    assert_same_ids(&a, &b, "payment_started");
}

#[test]
fn eventlog_layers_beside_fmt_and_env_filter_and_a_per_layer_filter() {
    let (a, b) = (Capture::new(), Capture::new());
    let human = Capture::new();
    let subscriber = tracing_subscriber::registry()
        .with(EnvFilter::new("info"))
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_writer(human.clone())
                .with_filter(LevelFilter::WARN),
        )
        .with(eventlog::layer().writer(a.clone()))
        .with(
            eventlog::layer()
                .writer(b.clone())
                .with_event_filter(filter_fn(|meta| meta.level() <= &tracing::Level::WARN)),
        );
    tracing::subscriber::with_default(subscriber, || {
        workload();
        tracing::debug!(event_name = "below_env_filter");
    });
    assert_output(&parsed(&a), &ALL);
    assert_output(&parsed(&b), &["payment_retried", "outside_any_span"]);
    // fmt wrote its own two lines, as JSON.
    let fmt_lines = human.lines();
    assert_eq!(fmt_lines.len(), 2, "{fmt_lines:?}");
    for line in fmt_lines {
        serde_json::from_str::<serde_json::Value>(&line).unwrap();
    }
}

#[test]
fn stacked_layers_work_on_every_thread() {
    let (a, b) = (Capture::new(), Capture::new());
    let subscriber = tracing_subscriber::registry()
        .with(eventlog::layer().writer(a.clone()))
        .with(
            eventlog::layer()
                .writer(b.clone())
                .with_event_filter(LevelFilter::WARN),
        );
    let dispatch = tracing::Dispatch::new(subscriber);
    std::thread::scope(|s| {
        for _ in 0..4 {
            let dispatch = dispatch.clone();
            s.spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    for _ in 0..250 {
                        workload();
                    }
                });
            });
        }
    });
    let (a, b) = (parsed(&a), parsed(&b));
    assert_eq!(a.len(), 3000);
    assert_eq!(b.len(), 2000);
    for r in a
        .iter()
        .chain(&b)
        .filter(|r| r.event_name() != Some("outside_any_span"))
    {
        assert_eq!(r.str("request_id"), Some("r-1"));
    }
}
