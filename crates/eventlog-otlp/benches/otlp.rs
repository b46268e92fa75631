//! Caller-side cost and export throughput of eventlog-otlp, side by side
//! with `opentelemetry-appender-tracing` 0.33 in one run.
//!
//! ```text
//! cargo bench -p eventlog-otlp --bench otlp --all-features
//! ```
//!
//! Workload (the core bench's): an INFO event with six fields and a
//! message, inside two nested spans with three fields each. Contenders in
//! the `caller` group:
//!
//! - `floor`: a registry with a layer that does nothing;
//! - `bridge_noop`: the OpenTelemetry tracing bridge into a do-nothing processor;
//! - `bridge_span_attrs_batch`: the bridge with `experimental_span_attributes`
//!   (span fields copied, as ours does) into the SDK `BatchLogProcessor`
//!   (defaults: queue 2048, batch 512) with an exporter that discards;
//! - `eventlog_otlp_grpc` / `eventlog_otlp_http`: the eventlog layer with
//!   only this output, exporting to a real collector (rotel, blackhole
//!   exporter) with the defaults; the export threads and rotel share the
//!   machine's cores with the caller, so on 2 cores this includes their
//!   competition;
//! - `eventlog_null_output`: the eventlog layer handing each record to an
//!   output that does nothing (record building, default redaction): the
//!   core's share;
//! - `eventlog_otlp_caller_only`: the gRPC output again, but the timed
//!   loop emits chunks of 2048 and the output is flushed between chunks,
//!   untimed: the caller's own cost (core layer + copy + enqueue) with no
//!   export work competing for the cores, and nothing dropped.
//!
//! Drops are printed next to every figure: in a tight loop every contender
//! produces faster than anything can export.
//!
//! Then `throughput`: records/s from the first `emit` until the collector
//! acknowledged the last one, with a budget large enough that nothing
//! drops, checked against rotel's own counter.
//!
//! Last, `burst`: the criterion loop emits for seconds, so every contender
//! drops most of it and the tables above cannot show what each side's
//! *default* budget absorbs. Here one thread emits a fixed burst (10,000,
//! 100,000 and 500,000 events: the `caller` group's event in its two spans)
//! once, into a fresh pipeline with default settings: the bridge + span
//! attributes + `BatchLogProcessor` into the discarding exporter, and
//! eventlog-otlp over gRPC and HTTP/protobuf to a fresh rotel; and, since
//! a discarding exporter never makes the batch queue wait on a network,
//! the same bridge configuration exporting to rotel over HTTP/protobuf
//! with `opentelemetry-otlp` (`bridge_span_attrs_batch_otlp_http`). Reported:
//! the burst's wall time per event on the caller's thread, the time until
//! everything was exported or dropped (shutdown returned), and what was
//! delivered and dropped. For eventlog-otlp, delivered + dropped must equal
//! emitted exactly, and rotel's own accepted counter must equal what the
//! output says it exported plus its drop-report records.
//!
//! Under `cargo test --benches` everything runs once, small (bursts of 1,000).

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::cast_precision_loss,
    missing_docs,
    unreachable_pub
)]

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{BenchmarkGroup, Criterion, measurement::WallTime};
use eventlog_otlp::{OtlpOutput, Protocol};
use eventlog_tests::collector::Collector;
use eventlog_tests::workload::{emit_event, in_two_spans};
use opentelemetry_appender_tracing::layer::{OpenTelemetryTracingBridge, TracingSpanAttributes};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{
    BatchLogProcessor, LogBatch, LogExporter, LogProcessor, SdkLogRecord, SdkLoggerProvider,
};
use tracing::Subscriber;
use tracing_subscriber::Layer;
use tracing_subscriber::prelude::*;

struct Nothing;

impl<S: Subscriber> Layer<S> for Nothing {}

#[derive(Debug)]
struct NoopProcessor;

impl LogProcessor for NoopProcessor {
    fn emit(&self, _: &mut SdkLogRecord, _: &opentelemetry::InstrumentationScope) {}
    fn force_flush(&self) -> OTelSdkResult {
        Ok(())
    }
    fn shutdown_with_timeout(&self, _: Duration) -> OTelSdkResult {
        Ok(())
    }
}

/// An eventlog output that does nothing.
struct NullOutput;

impl eventlog::Output for NullOutput {
    fn emit(&self, record: &eventlog::Record<'_>) -> Result<(), eventlog::DropReason> {
        black_box(record);
        Ok(())
    }
}

/// Discards what it is given, counting it.
#[derive(Debug, Clone, Default)]
struct DiscardExporter(Arc<AtomicU64>);

impl LogExporter for DiscardExporter {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        self.0
            .fetch_add(batch.iter().count() as u64, Ordering::Relaxed);
        Ok(())
    }
}

/// Runs the workload under `subscriber` inside the two nested spans,
/// counting iterations into `emitted`.
fn in_spans<S>(g: &mut BenchmarkGroup<'_, WallTime>, id: &str, subscriber: S, emitted: &AtomicU64)
where
    S: Subscriber + Send + Sync + 'static,
{
    tracing::subscriber::with_default(subscriber, || {
        in_two_spans(|| {
            g.bench_function(id, |b| {
                b.iter_custom(|iters| {
                    emitted.fetch_add(iters, Ordering::Relaxed);
                    let start = Instant::now();
                    for _ in 0..iters {
                        emit_event();
                    }
                    black_box(start.elapsed())
                });
            });
        });
    });
}

fn eventlog_layer() -> eventlog::EventLayer {
    eventlog::layer()
        .service("checkout")
        .environment("bench")
        .version("1.0.0")
        .without_writer()
}

/// The caller's own cost, with no export work competing for the cores:
/// records are emitted in chunks of 2048 (timed), and after each chunk the
/// output is flushed to the collector (not timed), so the export threads
/// are idle while the caller is measured and memory is recycled as in
/// steady state. Nothing is dropped.
fn bench_caller_only(g: &mut BenchmarkGroup<'_, WallTime>, collector: &Collector) {
    const CHUNK: u64 = 2048;
    let (otlp, guard) = OtlpOutput::builder()
        .endpoint(collector.grpc_endpoint())
        .build()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(eventlog_layer().output(otlp.clone()));
    tracing::subscriber::with_default(subscriber, || {
        in_two_spans(|| {
            g.bench_function("eventlog_otlp_caller_only", |b| {
                b.iter_custom(|iters| {
                    let mut timed = Duration::ZERO;
                    let mut left = iters;
                    while left > 0 {
                        let n = left.min(CHUNK);
                        let start = Instant::now();
                        for _ in 0..n {
                            emit_event();
                        }
                        timed += start.elapsed();
                        left -= n;
                        assert_eq!(
                            otlp.flush_within(Duration::from_secs(30)),
                            Ok(()),
                            "collector too slow"
                        );
                    }
                    timed
                });
            });
        });
    });
    let report = guard.shutdown(Duration::from_secs(30)).unwrap();
    assert_eq!(report.dropped(), 0, "{report:?}");
}

/// One contender's drop line.
struct Drops {
    id: &'static str,
    emitted: u64,
    dropped: u64,
}

fn bench_caller(c: &mut Criterion, collector: &Collector) -> Vec<Drops> {
    let mut drops = Vec::new();
    let mut g = c.benchmark_group("caller");
    let none = AtomicU64::new(0);
    in_spans(
        &mut g,
        "floor",
        tracing_subscriber::registry().with(Nothing),
        &none,
    );

    let provider = SdkLoggerProvider::builder()
        .with_log_processor(NoopProcessor)
        .build();
    let bridge = OpenTelemetryTracingBridge::new(&provider);
    in_spans(
        &mut g,
        "bridge_noop",
        tracing_subscriber::registry().with(bridge),
        &none,
    );
    let _ = provider.shutdown();

    let exported = DiscardExporter::default();
    let provider = SdkLoggerProvider::builder()
        .with_log_processor(BatchLogProcessor::builder(exported.clone()).build())
        .build();
    let bridge = OpenTelemetryTracingBridge::builder(&provider)
        .with_tracing_span_attributes(TracingSpanAttributes::all())
        .build();
    let emitted = AtomicU64::new(0);
    in_spans(
        &mut g,
        "bridge_span_attrs_batch",
        tracing_subscriber::registry().with(bridge),
        &emitted,
    );
    let _ = provider.shutdown();
    let emitted = emitted.load(Ordering::Relaxed);
    drops.push(Drops {
        id: "bridge_span_attrs_batch",
        emitted,
        dropped: emitted.saturating_sub(exported.0.load(Ordering::Relaxed)),
    });

    let mut protocols = vec![(
        "eventlog_otlp_grpc",
        Protocol::Grpc,
        collector.grpc_endpoint(),
    )];
    if cfg!(feature = "http") {
        protocols.push((
            "eventlog_otlp_http",
            Protocol::HttpProtobuf,
            collector.http_endpoint(),
        ));
    }
    for (id, protocol, endpoint) in protocols {
        let (otlp, guard) = OtlpOutput::builder()
            .protocol(protocol)
            .endpoint(endpoint)
            .build()
            .unwrap();
        let counted = AtomicU64::new(0);
        in_spans(
            &mut g,
            id,
            tracing_subscriber::registry().with(eventlog_layer().output(otlp)),
            &counted,
        );
        let report = match guard.shutdown(Duration::from_secs(120)) {
            Ok(stats) => stats,
            Err(e) => panic!("{id}: shutdown: {e}"),
        };
        drops.push(Drops {
            id,
            emitted: report.emitted,
            dropped: report.dropped(),
        });
    }
    // The core layer (record building, redaction) handing each record to an
    // output that does nothing: what eventlog costs before this crate's share.
    in_spans(
        &mut g,
        "eventlog_null_output",
        tracing_subscriber::registry().with(eventlog_layer().output(NullOutput)),
        &none,
    );

    bench_caller_only(&mut g, collector);
    g.finish();
    drops
}

/// Records/s from the first emit until the collector acknowledged the last.
fn throughput(records: u64) {
    println!(
        "\n| throughput | concurrent exports | records | seconds | records/s | exported | rotel accepted |"
    );
    println!("|---|---|---|---|---|---|---|");
    let mut runs = Vec::new();
    for concurrency in [1, 2, 4] {
        runs.push(("grpc", Protocol::Grpc, concurrency));
        if cfg!(feature = "http") {
            runs.push(("http/protobuf", Protocol::HttpProtobuf, concurrency));
        }
    }
    for (name, protocol, concurrency) in runs {
        let mut collector = Collector::start_counting();
        let endpoint = collector.endpoint(protocol.as_str());
        let (otlp, guard) = OtlpOutput::builder()
            .protocol(protocol)
            .endpoint(endpoint)
            .max_queue_bytes(2 << 30)
            .concurrent_exports(concurrency)
            .build()
            .unwrap();
        let layer = eventlog_layer().output(otlp);
        let start = Instant::now();
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            let _outer =
                tracing::info_span!("request", request_id = "req_7f3a9b", user_id = "user_12345")
                    .entered();
            for _ in 0..records {
                emit_event();
            }
        });
        let report = guard
            .shutdown(Duration::from_secs(300))
            .expect("throughput run lost records");
        let secs = start.elapsed().as_secs_f64();
        collector.stop();
        let accepted = collector.accepted();
        println!(
            "| {name} | {concurrency} | {records} | {secs:.2} | {:.0} | {} | {accepted} |",
            records as f64 / secs,
            report.exported
        );
        assert_eq!(report.exported, records);
        assert_eq!(accepted, records, "rotel's own count");
    }
}

/// One fixed burst into one fresh pipeline, after shutdown.
struct Burst {
    contender: &'static str,
    emitted: u64,
    /// The caller's wall time for the whole burst.
    caller: Duration,
    /// From the first emit until shutdown returned (everything exported
    /// or dropped).
    drained: Duration,
    delivered: u64,
    dropped: u64,
    /// rotel's own count of accepted records, and how many of them were
    /// drop reports (ours only).
    accepted: Option<(u64, u64)>,
}

/// Emits `events` in a tight loop on this thread inside the workload's
/// spans; returns when the first emit started and how long the burst took.
fn emit_burst(events: u64) -> (Instant, Duration) {
    in_two_spans(|| {
        let start = Instant::now();
        for _ in 0..events {
            emit_event();
        }
        (start, start.elapsed())
    })
}

/// A burst through the bridge + span attributes + `BatchLogProcessor` with
/// its defaults into `exporter`: the caller's time, and the time until the
/// provider had shut down.
fn bridge_burst<E>(exporter: E, events: u64) -> (Duration, Duration)
where
    E: LogExporter + 'static,
{
    let provider = SdkLoggerProvider::builder()
        .with_log_processor(BatchLogProcessor::builder(exporter).build())
        .build();
    let bridge = OpenTelemetryTracingBridge::builder(&provider)
        .with_tracing_span_attributes(TracingSpanAttributes::all())
        .build();
    let (start, caller) =
        tracing::subscriber::with_default(tracing_subscriber::registry().with(bridge), || {
            emit_burst(events)
        });
    if let Err(e) = provider.shutdown_with_timeout(Duration::from_secs(120)) {
        panic!("bridge: shutdown: {e}");
    }
    (caller, start.elapsed())
}

/// The bridge + span attributes + `BatchLogProcessor` with its defaults,
/// into the discarding exporter; dropped is what never reached it.
fn burst_bridge(events: u64) -> Burst {
    let exported = DiscardExporter::default();
    let (caller, drained) = bridge_burst(exported.clone(), events);
    let delivered = exported.0.load(Ordering::Relaxed);
    assert!(
        delivered <= events,
        "bridge exported {delivered} of {events}"
    );
    Burst {
        contender: "bridge_span_attrs_batch",
        emitted: events,
        caller,
        drained,
        delivered,
        dropped: events - delivered,
        accepted: None,
    }
}

/// The same bridge + `BatchLogProcessor` defaults, but exporting to a fresh
/// rotel over HTTP/protobuf with `opentelemetry-otlp`, as a deployment
/// would: the discarding exporter never makes its queue wait on a network.
/// Delivered is rotel's own count; the processor's drop count is private.
#[cfg(feature = "http")]
fn burst_bridge_otlp_http(events: u64) -> Burst {
    use opentelemetry_otlp::WithExportConfig;

    let mut collector = Collector::start_counting();
    let exporter = opentelemetry_otlp::LogExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_endpoint(collector.http_endpoint())
        .build()
        .unwrap();
    let (caller, drained) = bridge_burst(exporter, events);
    collector.stop();
    let accepted = collector.accepted();
    assert!(accepted <= events, "rotel accepted {accepted} of {events}");
    Burst {
        contender: "bridge_span_attrs_batch_otlp_http",
        emitted: events,
        caller,
        drained,
        delivered: accepted,
        dropped: events - accepted,
        accepted: Some((accepted, 0)),
    }
}

/// eventlog-otlp with its defaults, exporting to a fresh rotel.
fn burst_eventlog(contender: &'static str, protocol: Protocol, events: u64) -> Burst {
    let mut collector = Collector::start_counting();
    let endpoint = collector.endpoint(protocol.as_str());
    let (otlp, guard) = OtlpOutput::builder()
        .protocol(protocol)
        .endpoint(endpoint)
        .build()
        .unwrap();
    let layer = eventlog_layer().output(otlp);
    let (start, caller) =
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            emit_burst(events)
        });
    let report = match guard.shutdown(Duration::from_secs(120)) {
        Ok(stats) => stats,
        Err(e) => panic!("{contender}: shutdown: {e}"),
    };
    let drained = start.elapsed();
    collector.stop();
    let accepted = collector.accepted();
    assert_eq!(report.emitted, events, "{contender}: {report:?}");
    assert_eq!(
        report.exported + report.dropped(),
        events,
        "{contender}: delivered + dropped != emitted: {report:?}"
    );
    assert_eq!(
        accepted,
        report.exported + report.drop_reports,
        "{contender}: rotel's own count vs {report:?}"
    );
    Burst {
        contender,
        emitted: events,
        caller,
        drained,
        delivered: accepted - report.drop_reports,
        dropped: report.dropped(),
        accepted: Some((accepted, report.drop_reports)),
    }
}

/// Fixed bursts with each side's default settings: what the default budget
/// absorbs when a program emits `events` at once.
fn bursts(sizes: &[u64]) {
    let mut runs = Vec::new();
    for &events in sizes {
        runs.push(burst_bridge(events));
        runs.push(burst_eventlog("eventlog_otlp_grpc", Protocol::Grpc, events));
        if cfg!(feature = "http") {
            runs.push(burst_eventlog(
                "eventlog_otlp_http",
                Protocol::HttpProtobuf,
                events,
            ));
        }
        #[cfg(feature = "http")]
        runs.push(burst_bridge_otlp_http(events));
    }
    println!(
        "\n| burst (defaults) | events | burst ns/event | until drained | delivered | dropped | rotel accepted (drop reports) |"
    );
    println!("|---|---|---|---|---|---|---|");
    for r in runs {
        let accepted = r
            .accepted
            .map_or("-".to_owned(), |(a, reports)| format!("{a} ({reports})"));
        println!(
            "| {} | {} | {:.0} | {:.3} s | {} | {} ({:.1} %) | {accepted} |",
            r.contender,
            r.emitted,
            r.caller.as_nanos() as f64 / r.emitted as f64,
            r.drained.as_secs_f64(),
            r.delivered,
            r.dropped,
            r.dropped as f64 * 100.0 / r.emitted as f64,
        );
    }
}

fn criterion_dir() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return Some(PathBuf::from(home));
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return Some(PathBuf::from(target).join("criterion"));
    }
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.parent()?.join("criterion"))
}

fn median_ns(group: &str, id: &str) -> Option<f64> {
    let path = criterion_dir()?
        .join(group)
        .join(id)
        .join("new")
        .join("estimates.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    v["median"]["point_estimate"].as_f64()
}

fn print_caller(drops: &[Drops]) {
    let base = median_ns("caller", "bridge_span_attrs_batch");
    println!("\n| contender | median | vs bridge + span attrs + batch | emitted | dropped |");
    println!("|---|---|---|---|---|");
    for id in [
        "floor",
        "bridge_noop",
        "bridge_span_attrs_batch",
        "eventlog_otlp_grpc",
        "eventlog_otlp_http",
        "eventlog_null_output",
        "eventlog_otlp_caller_only",
    ] {
        let Some(ns) = median_ns("caller", id) else {
            continue;
        };
        let ratio = base.map_or("-".to_owned(), |b| format!("{:.2}×", ns / b));
        let (emitted, dropped) =
            drops
                .iter()
                .find(|d| d.id == id)
                .map_or(("-".to_owned(), "-".to_owned()), |d| {
                    let pct = if d.emitted == 0 {
                        0.0
                    } else {
                        d.dropped as f64 * 100.0 / d.emitted as f64
                    };
                    (d.emitted.to_string(), format!("{} ({pct:.1} %)", d.dropped))
                });
        println!("| {id} | {ns:.0} ns | {ratio} | {emitted} | {dropped} |");
    }
}

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    let collector = Collector::start_counting();
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30)
        .configure_from_args();
    let drops = bench_caller(&mut c, &collector);
    drop(collector);
    c.final_summary();
    if benching {
        print_caller(&drops);
        // Set EVENTLOG_OTLP_BENCH_CALLER_ONLY=1 to skip the throughput and
        // burst runs (~1 min).
        if std::env::var_os("EVENTLOG_OTLP_BENCH_CALLER_ONLY").is_none() {
            throughput(500_000);
            bursts(&[10_000, 100_000, 500_000]);
        }
    } else {
        throughput(2_000);
        bursts(&[1_000]);
    }
}
