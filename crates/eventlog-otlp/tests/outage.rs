use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use eventlog_otlp::{DROP_REPORT_EVENT, OtlpOutput, Protocol};
use eventlog_tests::collector::Collector;
use serde_json::Value;
use tracing_subscriber::prelude::*;

/// Events per second while the collector is away, as in issue 7.
const RATE: u64 = 1_000;

/// Seconds the collector is stopped mid-stream. Issue 7 asks for 30 s; the
/// default here is 10 s (10,000 records queued, the same code path: the
/// queue only grows) to keep the suite's wall time modest. Set
/// `EVENTLOG_OTLP_OUTAGE_SECS=30` for the full run.
fn outage_secs() -> u64 {
    std::env::var("EVENTLOG_OTLP_OUTAGE_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10)
}

/// Emits `seq`-numbered events at `RATE` per second from `from` until
/// `until` (wall time); returns the next seq and the slowest `emit`.
fn emit_paced(from: u64, until: Instant) -> (u64, Duration) {
    let start = Instant::now();
    let mut seq = from;
    let mut slowest = Duration::ZERO;
    while Instant::now() < until {
        let due =
            from + u64::try_from(start.elapsed().as_millis() * u128::from(RATE) / 1000).unwrap();
        while seq < due {
            let t = Instant::now();
            tracing::info!(
                event_name = "order_placed",
                event_type = "business",
                seq,
                amount = 72.49,
                currency = "USD"
            );
            slowest = slowest.max(t.elapsed());
            seq += 1;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    (seq, slowest)
}

fn seqs(records: &[Value]) -> (Vec<u64>, usize) {
    let mut seen = Vec::new();
    let mut reports = 0;
    for r in records {
        if r["event_name"] == DROP_REPORT_EVENT {
            reports += 1;
        } else {
            seen.push(r["attributes"]["seq"].as_u64().unwrap());
        }
    }
    (seen, reports)
}

fn assert_exactly_once(seen: &[u64], emitted: u64) {
    let unique: BTreeSet<u64> = seen.iter().copied().collect();
    assert_eq!(
        unique.len(),
        seen.len(),
        "duplicates: {} records, {} distinct",
        seen.len(),
        unique.len()
    );
    let missing: Vec<u64> = (0..emitted)
        .filter(|s| !unique.contains(s))
        .take(10)
        .collect();
    assert!(
        missing.is_empty(),
        "lost records, first: {missing:?} (of {emitted})"
    );
    assert_eq!(seen.len() as u64, emitted);
}

/// Down at start, up, stopped for the outage, restarted: nothing lost, no
/// duplicates, `emit` never waits for the network.
fn survive_outage(protocol: Protocol) {
    let mut collector = Collector::not_started();
    let endpoint = collector.endpoint(protocol.as_str());
    let (otlp, guard) = OtlpOutput::builder()
        .protocol(protocol)
        .endpoint(endpoint)
        .build()
        .unwrap();
    let layer = eventlog::layer().without_writer().output(otlp.clone());
    let stats = layer.stats();
    let subscriber = tracing_subscriber::registry().with(layer);
    let outage = Duration::from_secs(outage_secs());

    let (emitted, slowest) = tracing::subscriber::with_default(subscriber, || {
        // 1. The collector is down at start.
        let (seq, s1) = emit_paced(0, Instant::now() + Duration::from_secs(2));
        collector.restart();
        let (seq, s2) = emit_paced(seq, Instant::now() + Duration::from_secs(3));
        // 2. Stopped mid-stream, for the outage.
        collector.stop();
        let (seq, s3) = emit_paced(seq, Instant::now() + outage);
        let during = otlp.stats();
        let queued_during_outage = during.queued;
        eprintln!(
            "{protocol:?}: at the end of the outage {} records queued in {} budget bytes ({} B/record)",
            during.queued,
            during.queued_bytes,
            during.queued_bytes / during.queued.max(1)
        );
        collector.restart();
        let (seq, s4) = emit_paced(seq, Instant::now() + Duration::from_secs(2));
        assert!(
            queued_during_outage > 0,
            "nothing was queued during the outage"
        );
        (seq, s1.max(s2).max(s3).max(s4))
    });

    let report = guard
        .shutdown(Duration::from_secs(60))
        .expect("the queue drained after the outage");
    eprintln!(
        "{protocol:?}: outage {outage:?}, emitted {emitted}, slowest emit {slowest:?}, {report:?}"
    );
    assert_eq!(report.emitted, emitted);
    assert_eq!(report.exported, emitted, "{report:?}");
    assert_eq!(report.dropped(), 0, "{report:?}");
    assert!(
        report.failed_exports > 0,
        "the outage never failed an export: {report:?}"
    );
    assert_eq!(stats.snapshot().dropped(), 0);
    let why = otlp.last_error().expect("the failed exports left a reason");
    let transport = match protocol {
        Protocol::HttpProtobuf => "HTTP",
        _ => "gRPC",
    };
    assert!(why.contains(transport), "{why}");
    // The caller never waits for the network: an export attempt takes up to
    // the 10 s timeout and the outage lasts 10 s, so a blocked emit would
    // take seconds. 1 s leaves room for a debug build on a loaded CI machine.
    assert!(slowest < Duration::from_secs(1), "an emit took {slowest:?}");

    let received = collector.wait_until(Duration::from_secs(30), |r| r.len() as u64 >= emitted);
    let received = if received.len() as u64 == emitted {
        collector.wait_until(Duration::from_millis(500), |r| r.len() as u64 > emitted)
    } else {
        received
    };
    let (seen, reports) = seqs(&received);
    assert_eq!(reports, 0, "no drop, so no drop report");
    assert_exactly_once(&seen, emitted);
}

#[test]
fn grpc_outage_at_start_and_mid_stream_loses_nothing() {
    survive_outage(Protocol::Grpc);
}

#[cfg(feature = "http")]
#[test]
fn http_outage_at_start_and_mid_stream_loses_nothing() {
    survive_outage(Protocol::HttpProtobuf);
}

/// A byte budget far too small for the outage: what does not fit is
/// dropped, counted with a reason, and reported to the collector once it is
/// back; delivered + dropped = emitted.
#[test]
fn tiny_budget_drops_are_counted_and_reported() {
    const N: u64 = 2_000;
    let mut collector = Collector::not_started();
    let (otlp, guard) = OtlpOutput::builder()
        .endpoint(collector.grpc_endpoint())
        .max_queue_bytes(64 * 1024)
        .build()
        .unwrap();
    let layer = eventlog::layer().without_writer().output(otlp.clone());
    let stats = layer.stats();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for seq in 0..N {
            tracing::info!(
                event_name = "order_placed",
                seq,
                amount = 72.49,
                currency = "USD"
            );
        }
    });
    let before = otlp.stats();
    assert!(before.dropped_queue_full > 0, "{before:?}");
    assert!(before.queued_bytes <= 64 * 1024, "{before:?}");

    collector.restart();
    let report = guard.shutdown(Duration::from_secs(30)).unwrap();
    assert_eq!(report.exported + report.dropped(), N, "{report:?}");
    assert_eq!(report.dropped(), report.dropped_queue_full);
    assert_eq!(
        stats.snapshot().dropped_queue_full,
        report.dropped_queue_full
    );
    assert_eq!(report.drop_reports, 1, "{report:?}");

    let want = usize::try_from(report.exported).unwrap() + 1;
    let received = collector.wait_until(Duration::from_secs(20), |r| r.len() >= want);
    let (seen, reports) = seqs(&received);
    assert_eq!(reports, 1, "one drop report");
    assert_eq!(seen.len() as u64, report.exported);
    let unique: BTreeSet<u64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "duplicates");
    let drop_report = received
        .iter()
        .find(|r| r["event_name"] == DROP_REPORT_EVENT)
        .unwrap();
    assert_eq!(
        drop_report["attributes"]["metadata.dropped"].as_u64(),
        Some(report.dropped_queue_full)
    );
    assert_eq!(drop_report["severity_text"], "WARN");
    assert_eq!(drop_report["attributes"]["metadata.reason"], "queue_full");
    assert_eq!(drop_report["attributes"]["metadata.output"], "otlp");
    assert_eq!(
        drop_report["attributes"]["metadata.total_dropped"].as_u64(),
        Some(report.dropped())
    );
}

/// A final refusal (an HTTP 404 from a wrong path) is not retried: the
/// batch is dropped at once, counted as rejected, and the reason kept.
#[cfg(feature = "http")]
#[test]
fn a_final_refusal_is_counted_as_rejected_not_retried() {
    const N: u64 = 50;
    let collector = Collector::start();
    let wrong = collector
        .http_endpoint()
        .replace("/v1/logs", "/v1/not-logs");
    let builder = OtlpOutput::builder()
        .protocol(Protocol::HttpProtobuf)
        .endpoint(wrong);
    let (otlp, guard, stats) = crate::support::emit_numbered(builder, N);
    let started = Instant::now();
    let err = guard.shutdown(Duration::from_secs(20));
    // Refused for good: no backoff loop until the deadline.
    assert!(started.elapsed() < Duration::from_secs(5), "{err:?}");
    let report = otlp.stats();
    assert_eq!(report.exported, 0, "{report:?}");
    assert_eq!(report.dropped_rejected, N, "{report:?}");
    assert_eq!(
        report.failed_exports, 1,
        "one attempt, no retry: {report:?}"
    );
    assert_eq!(stats.snapshot().dropped_rejected, N);
    assert_eq!(stats.snapshot().dropped(), N);
    let why = otlp.last_error().unwrap();
    assert!(why.contains("404"), "{why}");
}
