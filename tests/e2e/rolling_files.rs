//! The eventlog layer writing through eventlog-appender's non-blocking,
//! rotating, compressed files: every record lands once, intact, redacted.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use eventlog_appender::{Backpressure, NonBlockingBuilder, RollingFile};
use eventlog_tests::files::read_lines;
use tracing_subscriber::prelude::*;

const THREADS: usize = 3;
const REQUESTS: usize = 300;
const CARD: &str = "4111 1111 1111 1111";
const PASSWORD: &str = "correct-horse-battery";
const EMITTED: u64 = 20_000;

#[test]
fn records_from_many_threads_land_once_each_through_rotation_and_compression() {
    let dir = tempfile::tempdir().unwrap();
    let (writer, guard) = RollingFile::builder()
        .directory(dir.path())
        .prefix("events")
        .max_bytes(64 * 1024)
        .compress(true)
        .keep(10_000)
        .non_blocking(NonBlockingBuilder::new().backpressure(Backpressure::BLOCK))
        .build_non_blocking()
        .unwrap();
    let appender_stats = writer.stats();
    let layer = eventlog::layer()
        .service("e2e")
        .schema(eventlog::Schema::recommended())
        .writer(writer);
    let stats = layer.stats();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));

    let handles: Vec<_> = (0..THREADS)
        .map(|t| {
            let dispatch = dispatch.clone();
            std::thread::spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    for r in 0..REQUESTS {
                        let request_id = format!("req-{t}-{r}");
                        let _s = tracing::info_span!("checkout", request_id = %request_id, user_id = "u-1").entered();
                        tracing::info!(
                            event_name = "user_login_attempt",
                            result = "failure",
                            password = PASSWORD,
                            seq = r as u64,
                            thread = t as u64,
                        );
                        tracing::error!(
                            event_name = "payment_failed",
                            error_type = "card_declined",
                            "card {CARD} declined"
                        );
                    }
                });
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    drop(dispatch);
    let final_stats = guard.shutdown(Duration::from_secs(30)).unwrap();

    let (lines, compressed) = read_lines(dir.path());
    let expected = THREADS * REQUESTS * 2;
    assert_eq!(lines.len(), expected, "every record exactly once");
    assert!(
        compressed >= 2,
        "size rotation produced compressed files ({compressed})"
    );
    assert_eq!(final_stats.lines_written, expected as u64);
    assert_eq!(
        appender_stats.snapshot().dropped_queue_full,
        0,
        "block mode drops nothing"
    );
    let s = stats.snapshot();
    assert_eq!(
        (s.emitted, s.accepted, s.dropped(), s.violations),
        (expected as u64, expected as u64, 0, 0)
    );

    let mut traces: HashMap<String, HashSet<String>> = HashMap::new();
    let mut seqs: HashSet<(u64, u64)> = HashSet::new();
    for line in &lines {
        assert!(
            !line.contains(PASSWORD) && !line.contains(CARD),
            "secret leaked: {line}"
        );
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let request = v["request_id"].as_str().unwrap().to_owned();
        traces
            .entry(request)
            .or_default()
            .insert(v["trace_id"].as_str().unwrap().to_owned());
        if v["event_name"] == "user_login_attempt" {
            assert_eq!(v["metadata"]["password"], "[REDACTED]");
            let key = (
                v["metadata"]["thread"].as_u64().unwrap(),
                v["metadata"]["seq"].as_u64().unwrap(),
            );
            assert!(seqs.insert(key), "duplicate {key:?}");
        } else {
            assert_eq!(v["message"], "card ****-****-****-1111 declined");
        }
    }
    assert_eq!(seqs.len(), THREADS * REQUESTS);
    assert_eq!(traces.len(), THREADS * REQUESTS);
    assert!(
        traces.values().all(|t| t.len() == 1),
        "one trace per request"
    );
}

#[test]
fn drops_in_lossy_mode_are_counted_by_both_and_reported_in_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let layer = eventlog::layer().service("e2e");
    let drop_reporter = layer.drop_reporter("file");
    let (writer, guard) = RollingFile::builder()
        .directory(dir.path())
        .prefix("lossy")
        .non_blocking(
            NonBlockingBuilder::new()
                .capacity(2 * 1024)
                .backpressure(Backpressure::DROP_NEWEST)
                .self_report(move |r, out| {
                    drop_reporter.write(r.reason.as_str(), r.count, r.total, out);
                }),
        )
        .build_non_blocking()
        .unwrap();
    let appender_stats = writer.stats();
    let layer = layer.writer(writer);
    let stats = layer.stats();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for seq in 0..EMITTED {
            tracing::info!(
                event_name = "burst_line",
                seq,
                padding = "x".repeat(100).as_str()
            );
        }
    });
    guard.shutdown(Duration::from_secs(30)).unwrap();

    let (lines, _) = read_lines(dir.path());
    let records: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let delivered = records
        .iter()
        .filter(|r| r["event_name"] == "burst_line")
        .count() as u64;
    let reports: Vec<_> = records
        .iter()
        .filter(|r| r["event_name"] == eventlog::DROP_REPORT_EVENT)
        .collect();
    let layer_dropped = stats.snapshot().dropped_queue_full;
    let appender_dropped = appender_stats.snapshot().dropped_queue_full;
    assert!(
        layer_dropped > 0,
        "a 2 KiB queue must overflow under a 20 000-line burst"
    );
    assert_eq!(
        layer_dropped, appender_dropped,
        "the layer sees every drop the appender counts"
    );
    assert_eq!(
        delivered + layer_dropped,
        EMITTED,
        "delivered + dropped = emitted"
    );
    assert_eq!(stats.snapshot().accepted, delivered);
    assert!(
        !reports.is_empty(),
        "the file itself says lines were dropped"
    );
    let reported: u64 = reports
        .iter()
        .map(|r| r["metadata"]["dropped"].as_u64().unwrap())
        .sum();
    assert_eq!(reported, appender_dropped);
}

/// Issue 14 (one vocabulary): a line the appender refuses is counted by the
/// layer under the appender's reason (`oversized`, `shutdown`), not as an
/// I/O error, and the appender's self-report is written in the layer's
/// envelope, with its service and renamed keys.
#[test]
fn the_layer_counts_appender_losses_under_the_same_reason_and_reports_them_in_its_envelope() {
    let dir = tempfile::tempdir().unwrap();
    let envelope = eventlog::Envelope::builder()
        .rename(eventlog::Key::Timestamp, "@timestamp")
        .build()
        .unwrap();
    let layer = eventlog::layer()
        .service("e2e")
        .envelope(envelope)
        .max_value_bytes(usize::MAX);
    let reporter = layer.drop_reporter("file");
    let (writer, guard) = RollingFile::builder()
        .directory(dir.path())
        .prefix("events")
        .non_blocking(
            NonBlockingBuilder::new()
                .capacity(4096)
                .backpressure(Backpressure::BLOCK)
                .self_report(move |r, out| {
                    reporter.write(r.reason.as_str(), r.count, r.total, out);
                }),
        )
        .build_non_blocking()
        .unwrap();
    let layer = layer.writer(writer.clone());
    let stats = layer.stats();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let big = "x".repeat(8192);
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::info!(event_name = "order_placed", n = 1, "order placed");
        tracing::info!(event_name = "order_placed", body = big.as_str());
        tracing::info!(event_name = "order_placed", n = 2);
    });
    let appender = guard.shutdown(Duration::from_secs(10)).unwrap();
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::info!(event_name = "order_placed", n = 3);
    });
    let s = stats.snapshot();
    assert_eq!((s.emitted, s.accepted), (4, 2), "{s:?}");
    assert_eq!(
        (s.dropped_oversized, s.dropped_shutdown, s.dropped_io),
        (1, 1, 0),
        "{s:?}"
    );
    assert_eq!((appender.dropped_oversized, appender.self_reports), (1, 1));

    let (lines, _) = read_lines(dir.path());
    let records: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let report = records
        .iter()
        .find(|r| r["event_name"] == eventlog::DROP_REPORT_EVENT)
        .expect("a self-report line");
    assert_eq!(report["service"], "e2e");
    assert!(report["@timestamp"].is_string(), "{report}");
    assert_eq!(report["metadata"]["output"], "file");
    assert_eq!(report["metadata"]["reason"], "oversized");
    assert_eq!(report["metadata"]["dropped"], 1);
    // Keys and their order match the layer's own lines (outside a span, so no ids).
    let keys =
        |r: &serde_json::Value| -> Vec<String> { r.as_object().unwrap().keys().cloned().collect() };
    let event = records.iter().find(|r| r["metadata"]["n"] == 1).unwrap();
    assert_eq!(keys(report), keys(event));
}
