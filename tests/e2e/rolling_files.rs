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
        (s.events, s.written, s.dropped(), s.violations),
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
    let (writer, guard) = RollingFile::builder()
        .directory(dir.path())
        .prefix("lossy")
        .non_blocking(
            NonBlockingBuilder::new()
                .capacity(2 * 1024)
                .backpressure(Backpressure::DROP_NEWEST),
        )
        .build_non_blocking()
        .unwrap();
    let appender_stats = writer.stats();
    let layer = eventlog::layer().service("e2e").writer(writer);
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
        .filter(|r| r["event_name"] == "log_events_dropped")
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
    assert_eq!(stats.snapshot().written, delivered);
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
