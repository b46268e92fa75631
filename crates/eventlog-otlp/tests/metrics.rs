//! The logger's counters as OTLP metrics, received by a real rotel through
//! its Python metrics processor: exact values in the final export at
//! shutdown, periodic exports before it, over each transport; and a
//! collector that is down costs no log record and does not wedge shutdown.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use eventlog::Metric;
use eventlog_otlp::{OtlpOutput, OtlpOutputBuilder, Protocol};
use eventlog_tests::collector::Collector;
use serde_json::Value;

/// The one point named `name` whose attributes include `attrs`.
fn point<'a>(points: &'a [Value], name: &str, attrs: &[(&str, &str)]) -> &'a Value {
    let found: Vec<&Value> = points
        .iter()
        .filter(|p| p["name"] == name && attrs.iter().all(|(k, v)| p["attributes"][*k] == *v))
        .collect();
    assert_eq!(found.len(), 1, "{name} {attrs:?} in {points:#?}");
    found[0]
}

/// The points of the last export (the one with the latest `time`).
fn last_export(points: &[Value]) -> Vec<Value> {
    let last = points
        .iter()
        .filter_map(|p| p["time"].as_u64())
        .max()
        .unwrap_or(0);
    points
        .iter()
        .filter(|p| p["time"] == last)
        .cloned()
        .collect()
}

/// An appender-like source: a counter and a gauge from a closure.
fn file_source(out: &mut Vec<Metric>) {
    out.push(
        Metric::counter("eventlog.file.lines.written", "Lines written to the file.")
            .unit("{line}")
            .value(7),
    );
    out.push(
        Metric::gauge("eventlog.file.queue.bytes", "Bytes queued for the file.")
            .unit("By")
            .value(512),
    );
}

/// `n` records through a layer of the `checkout` service exporting with `builder`.
fn emit(
    builder: OtlpOutputBuilder,
    n: u64,
) -> (OtlpOutput, eventlog_otlp::OtlpGuard, eventlog::Stats) {
    let layer = eventlog::layer().service("checkout").without_writer();
    crate::support::emit_numbered_through(layer, builder, n)
}

/// Records emitted in the final-export test.
const N: u64 = 25;

#[test]
fn the_final_export_at_shutdown_carries_the_exact_counts_over_each_transport() {
    let mut protocols = vec![Protocol::Grpc];
    if cfg!(feature = "http") {
        protocols.push(Protocol::HttpProtobuf);
    }
    for protocol in protocols {
        let collector = Collector::start();
        // The longest interval: only the final export runs.
        let (_otlp, guard, stats) = emit(
            OtlpOutput::builder()
                .protocol(protocol)
                .endpoint(collector.endpoint(protocol.as_str()))
                .metrics_interval(Duration::MAX)
                .metric_source(file_source),
            N,
        );
        let s = guard.shutdown(Duration::from_secs(30)).unwrap();
        assert_eq!(
            (s.exported, s.metric_exports, s.failed_metric_exports),
            (N, 1, 0),
            "{s:?}"
        );
        let points = collector.wait_for_metrics(Duration::from_secs(10), |p| {
            p.iter()
                .any(|p| p["name"] == "eventlog.otlp.records.exported")
        });
        let proto = protocol.as_str();
        // The layer's counters: monotonic cumulative sums.
        let emitted = point(&points, "eventlog.records.emitted", &[]);
        assert_eq!(emitted["value"], N, "{proto}");
        assert_eq!(emitted["kind"], "MetricData_Sum", "{proto}: {emitted}");
        assert_eq!(emitted["is_monotonic"], true, "{proto}");
        assert!(
            emitted["temporality"]
                .as_str()
                .unwrap()
                .contains("Cumulative"),
            "{proto}: {emitted}"
        );
        assert_eq!(emitted["unit"], "{record}");
        assert_eq!(
            emitted["description"],
            "Records built and handed to the outputs, once per record."
        );
        assert!(emitted["start"].as_u64().unwrap() <= emitted["time"].as_u64().unwrap());
        for reason in [
            "queue_full",
            "io",
            "policy",
            "shutdown",
            "rejected",
            "oversized",
        ] {
            assert_eq!(
                point(&points, "eventlog.records.dropped", &[("reason", reason)])["value"],
                0,
                "{proto} {reason}"
            );
        }
        // The output's own counters, and its queue as gauges.
        assert_eq!(
            point(&points, "eventlog.otlp.records.emitted", &[])["value"],
            N
        );
        assert_eq!(
            point(&points, "eventlog.otlp.records.exported", &[])["value"],
            N
        );
        let queue = point(&points, "eventlog.otlp.queue.records", &[]);
        assert_eq!(
            (queue["kind"].as_str(), &queue["value"]),
            (Some("MetricData_Gauge"), &Value::from(0))
        );
        assert_eq!(
            point(&points, "eventlog.otlp.queue.bytes", &[])["unit"],
            "By"
        );
        // The extra source.
        assert_eq!(
            point(&points, "eventlog.file.lines.written", &[])["value"],
            7
        );
        assert_eq!(
            point(&points, "eventlog.file.queue.bytes", &[])["value"],
            512
        );
        // Every metric of every source, each exactly once, and nothing else.
        let mut expected: Vec<Metric> = stats.snapshot().metrics();
        expected.extend(s.metrics());
        file_source(&mut expected);
        let expected: BTreeSet<&str> = expected.iter().map(|m| m.name).collect();
        let got: BTreeSet<&str> = points.iter().map(|p| p["name"].as_str().unwrap()).collect();
        assert_eq!(got, expected, "{proto}");
        // The same resource as the logs, and the eventlog scope.
        let records = collector.wait_until(Duration::from_secs(10), |r| r.len() as u64 == N);
        assert_eq!(records.len() as u64, N, "{proto}");
        assert_eq!(emitted["resource"], records[0]["resource"], "{proto}");
        assert_eq!(emitted["resource"]["service.name"], "checkout");
        assert_eq!(emitted["scope"], "eventlog");
    }
}

#[test]
fn periodic_exports_arrive_before_shutdown_and_follow_the_counts() {
    let collector = Collector::start();
    let (otlp, guard, stats) = emit(
        OtlpOutput::builder()
            .endpoint(collector.grpc_endpoint())
            .batch_delay(Duration::from_millis(5))
            .metrics_interval(Duration::from_millis(100)),
        5,
    );
    otlp.flush_within(Duration::from_secs(30)).unwrap();
    // A periodic export (not the final one: the guard is alive) shows all 5 exported.
    let points = collector.wait_for_metrics(Duration::from_secs(30), |p| {
        p.iter()
            .any(|p| p["name"] == "eventlog.otlp.records.exported" && p["value"] == 5)
    });
    // Cumulative counts only grow, export after export, up to the 5.
    let mut exported: Vec<(u64, u64)> = points
        .iter()
        .filter(|p| p["name"] == "eventlog.otlp.records.exported")
        .map(|p| (p["time"].as_u64().unwrap(), p["value"].as_u64().unwrap()))
        .collect();
    exported.sort_unstable();
    assert!(
        exported.windows(2).all(|w| w[0].1 <= w[1].1),
        "{exported:?}"
    );
    assert_eq!(exported.last().map(|e| e.1), Some(5), "{exported:?}");
    // rotel's processor may see the request before its answer reaches the
    // exporter, which then counts it: poll (bounded).
    let deadline = Instant::now() + Duration::from_secs(30);
    while otlp.stats().metric_exports == 0 {
        assert!(Instant::now() < deadline, "{:?}", otlp.stats());
        std::thread::sleep(Duration::from_millis(5));
    }
    // Cumulative: every export's points share one start time.
    let start_times: BTreeSet<u64> = points
        .iter()
        .filter(|p| p["kind"] == "MetricData_Sum")
        .filter_map(|p| p["start"].as_u64())
        .collect();
    assert_eq!(start_times.len(), 1, "{start_times:?}");
    let s = guard.shutdown(Duration::from_secs(30)).unwrap();
    assert_eq!(
        (s.exported, s.dropped(), stats.snapshot().emitted),
        (5, 0, 5)
    );
}

#[test]
fn a_collector_that_is_down_costs_no_log_record_and_does_not_wedge_shutdown() {
    let mut collector = Collector::not_started();
    let (otlp, guard, _stats) = emit(
        OtlpOutput::builder()
            .endpoint(collector.grpc_endpoint())
            .batch_delay(Duration::from_millis(5))
            .metrics_interval(Duration::from_millis(100)),
        10,
    );
    // Metrics exports fail while it is down; the records wait in their queue.
    let deadline = Instant::now() + Duration::from_secs(30);
    while otlp.stats().failed_metric_exports < 2 {
        assert!(Instant::now() < deadline, "{:?}", otlp.stats());
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(otlp.stats().queued, 10);
    collector.restart();
    otlp.flush_within(Duration::from_secs(30)).unwrap();
    let s = guard.shutdown(Duration::from_secs(30)).unwrap();
    assert_eq!((s.emitted, s.exported, s.dropped()), (10, 10, 0), "{s:?}");
    let records = collector.wait_until(Duration::from_secs(10), |r| r.len() == 10);
    let seqs: BTreeSet<u64> = records
        .iter()
        .map(|r| r["attributes"]["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, (0..10).collect());
    // After the restart a metrics export went through with the final counts.
    let points = collector.wait_for_metrics(Duration::from_secs(10), |p| {
        p.iter()
            .any(|p| p["name"] == "eventlog.otlp.records.exported" && p["value"] == 10)
    });
    assert_eq!(
        point(&last_export(&points), "eventlog.otlp.records.exported", &[])["value"],
        10
    );

    // Never up: shutdown with nothing queued returns, the final metrics
    // export counted as failed, within its own timeout.
    let dead = Collector::not_started();
    let (_otlp, guard, _stats) = emit(
        OtlpOutput::builder()
            .endpoint(dead.grpc_endpoint())
            .metrics_interval(Duration::MAX),
        0,
    );
    let s = guard.shutdown(Duration::from_millis(300)).unwrap();
    assert_eq!((s.metric_exports, s.failed_metric_exports), (0, 1), "{s:?}");
}

/// A metric source that panics (the caller's code) is left out of that
/// export and the exporter lives on; a name no collector accepts arrives
/// clamped, as `/metrics` shows it.
#[test]
fn a_panicking_source_is_left_out_and_a_hostile_name_arrives_clamped() {
    let collector = Collector::start();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let (otlp, guard, _stats) = emit(
        OtlpOutput::builder()
            .protocol(Protocol::Grpc)
            .endpoint(collector.endpoint("grpc"))
            .metrics_interval(Duration::MAX)
            .metric_source(|_: &mut Vec<Metric>| panic!("a source's bug"))
            .metric_source(|out: &mut Vec<Metric>| {
                out.push(Metric::gauge("files écrits / 2\n", "help").labeled(
                    "raison d'être",
                    "\"x\"",
                    3,
                ));
            }),
        N,
    );
    let s = guard.shutdown(Duration::from_secs(30)).unwrap();
    std::panic::set_hook(hook);
    assert_eq!((s.exported, s.metric_exports), (N, 1), "{s:?}");
    assert_eq!(
        otlp.last_error().as_deref(),
        Some("metrics export: a metric source panicked")
    );
    let points = collector.wait_for_metrics(Duration::from_secs(10), |p| {
        p.iter().any(|p| p["name"] == "files__crits_/_2_")
    });
    let clamped = point(&points, "files__crits_/_2_", &[("raison_d__tre", "\"x\"")]);
    assert_eq!(clamped["value"], 3);
    assert_eq!(point(&points, "eventlog.records.emitted", &[])["value"], N);
}
