use std::time::{Duration, Instant};

use eventlog::{HealthCheck, HealthReason, OutputHealth as _};
use eventlog_otlp::OtlpOutput;
use eventlog_tests::collector::Collector;
use tracing_subscriber::prelude::*;

/// Polls (bounded) until `pred` holds.
fn eventually(what: &str, pred: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !pred() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A collector that is down makes the output unreachable once it has
/// failed for longer than the threshold (time injected through
/// `health_at`), and reachable again after its first successful export;
/// no record is lost on the way.
#[test]
fn a_collector_down_longer_than_the_threshold_is_unreachable_until_an_export_succeeds() {
    let mut collector = Collector::not_started();
    let layer = eventlog::layer().without_writer();
    let stats = layer.stats();
    let (otlp, guard) = OtlpOutput::builder()
        .endpoint(collector.grpc_endpoint())
        .batch_delay(Duration::from_millis(5))
        .stats(stats.clone())
        .build()
        .unwrap();
    let check = HealthCheck::builder(stats.clone())
        .unreachable_after(Duration::from_secs(30))
        .output("otlp", otlp.clone())
        .build();
    let dispatch =
        tracing::Dispatch::new(tracing_subscriber::registry().with(layer.output(otlp.clone())));
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::info!(event_name = "order_placed", seq = 0_u64);
    });
    eventually("a failed export", || otlp.stats().failed_exports > 0);
    let since = otlp
        .output_status()
        .failing_since
        .expect("failing since the first failure");
    assert!(
        check
            .health_at(since + Duration::from_secs(29))
            .is_healthy()
    );
    let health = check.health_at(since + Duration::from_secs(31));
    assert_eq!(
        health.reasons,
        [HealthReason::Unreachable {
            output: "otlp".into(),
            failing_for: Duration::from_secs(31)
        }]
    );
    collector.restart();
    otlp.flush_within(Duration::from_secs(30)).unwrap();
    assert_eq!(otlp.output_status().failing_since, None);
    assert!(
        check
            .health_at(since + Duration::from_secs(3600))
            .is_healthy()
    );
    let s = guard.shutdown(Duration::from_secs(10)).unwrap();
    assert_eq!((s.emitted, s.exported, s.dropped()), (1, 1, 0));
    let received = collector.wait_until(Duration::from_secs(10), |r| !r.is_empty());
    assert_eq!(received.len(), 1);
}
