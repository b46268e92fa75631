//! Fitting existing stacks: fmt, EnvFilter, per-layer filters,
//! tracing-appender, tracing-opentelemetry.

use std::io::BufRead;

use eventlog::testing::Capture;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::prelude::*;

#[test]
fn works_beside_a_fmt_layer_and_under_env_filter() {
    let events = Capture::new();
    let human = Capture::new();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new("info,noisy=warn"))
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(human.clone())
                .with_ansi(false),
        )
        .with(eventlog::layer().writer(events.clone()));
    tracing::subscriber::with_default(subscriber, || {
        tracing::info_span!("req", request_id = "r-1").in_scope(|| {
            tracing::info!(event_name = "kept", n = 1);
            tracing::debug!(event_name = "filtered");
            tracing::info!(target: "noisy", event_name = "also_filtered");
        });
    });
    let names: Vec<_> = events
        .records()
        .iter()
        .map(|r| r.event_name().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["kept"]);
    let human = human.lines();
    assert_eq!(human.len(), 1);
    assert!(human[0].contains("event_name=\"kept\""), "{human:?}");
}

#[test]
fn a_per_layer_filter_limits_only_this_layer() {
    let events = Capture::new();
    let human = Capture::new();
    let subscriber = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(human.clone())
                .with_ansi(false),
        )
        .with(
            eventlog::layer()
                .writer(events.clone())
                .with_filter(LevelFilter::WARN),
        );
    tracing::subscriber::with_default(subscriber, || {
        let _s = tracing::warn_span!("job", request_id = "r-2").entered();
        tracing::info!(event_name = "too_quiet");
        tracing::warn!(event_name = "loud_enough");
    });
    let records = events.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].event_name(), Some("loud_enough"));
    assert_eq!(records[0].get("request_id").unwrap(), "r-2");
    assert_eq!(
        human.lines().len(),
        2,
        "the fmt layer still sees everything"
    );
}

#[test]
fn writes_through_tracing_appender_non_blocking_to_a_real_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = tracing_appender::rolling::never(dir.path(), "events.jsonl");
    let (writer, guard) = tracing_appender::non_blocking(file);
    let subscriber = tracing_subscriber::registry().with(eventlog::layer().writer(writer));
    tracing::subscriber::with_default(subscriber, || {
        let _s = tracing::info_span!("batch", request_id = "r-file").entered();
        for i in 0..1000u64 {
            tracing::info!(event_name = "line_written", seq = i);
        }
    });
    drop(guard); // flushes
    let f = std::fs::File::open(dir.path().join("events.jsonl")).unwrap();
    let mut seqs = Vec::new();
    for line in std::io::BufReader::new(f).lines() {
        let v: serde_json::Value = serde_json::from_str(&line.unwrap()).unwrap();
        assert_eq!(v["request_id"], "r-file");
        seqs.push(v["metadata"]["seq"].as_u64().unwrap());
    }
    assert_eq!(seqs, (0..1000).collect::<Vec<_>>());
}

// Needs the `opentelemetry` feature; `./scripts/test` runs with all features.
#[cfg(feature = "opentelemetry")]
#[test]
fn ids_match_the_spans_tracing_opentelemetry_exports() {
    use opentelemetry::trace::TracerProvider as _;
    let exporter = opentelemetry_sdk::trace::InMemorySpanExporter::default();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer("eventlog-test"));
    let events = Capture::new();
    let layer = eventlog::layer()
        .with_opentelemetry(&otel)
        .close_events(true)
        .writer(events.clone());
    let subscriber = tracing_subscriber::registry().with(otel).with(layer);
    tracing::subscriber::with_default(subscriber, || {
        let _root = tracing::info_span!("checkout").entered();
        tracing::info!(event_name = "in_root");
        tracing::info_span!("payment").in_scope(|| tracing::info!(event_name = "in_child"));
    });
    provider.force_flush().unwrap();
    let spans = exporter.get_finished_spans().unwrap();
    let span = |name: &str| spans.iter().find(|s| s.name == name).unwrap();
    let (root, child) = (span("checkout"), span("payment"));
    let records = events.records();
    let by_name = |n: &str| records.iter().find(|r| r.event_name() == Some(n)).unwrap();
    for (record, span) in [
        ("in_root", root),
        ("in_child", child),
        ("payment_completed", child),
        ("checkout_completed", root),
    ] {
        let r = by_name(record);
        assert_eq!(
            r.str("trace_id").unwrap(),
            span.span_context.trace_id().to_string(),
            "{record}"
        );
        assert_eq!(
            r.str("span_id").unwrap(),
            span.span_context.span_id().to_string(),
            "{record}"
        );
    }
}

#[cfg(feature = "opentelemetry")]
#[test]
fn current_context_reports_opentelemetry_ids_too() {
    use opentelemetry::trace::TracerProvider as _;
    let exporter = opentelemetry_sdk::trace::InMemorySpanExporter::default();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_simple_exporter(exporter.clone())
        .build();
    let otel = tracing_opentelemetry::layer().with_tracer(provider.tracer("eventlog-test"));
    let layer = eventlog::layer()
        .with_opentelemetry(&otel)
        .writer(Capture::new());
    let subscriber = tracing_subscriber::registry().with(otel).with(layer);
    let cx = tracing::subscriber::with_default(subscriber, || {
        let _root = tracing::info_span!("outgoing_call").entered();
        eventlog::current_context().unwrap()
    });
    provider.force_flush().unwrap();
    let spans = exporter.get_finished_spans().unwrap();
    assert_eq!(
        cx.trace_id().to_string(),
        spans[0].span_context.trace_id().to_string()
    );
    assert_eq!(
        cx.span_id().to_string(),
        spans[0].span_context.span_id().to_string()
    );
}
