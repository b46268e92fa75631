//! What reaches the collector is what the layer decided: redacted values
//! stay redacted, and the exporter's own diagnostics never come back
//! through it.

use std::time::Duration;

use eventlog_otlp::OtlpOutput;
use eventlog_tests::collector::Collector;
use tracing_subscriber::prelude::*;

use crate::support::capture_and_export;

#[test]
fn redacted_values_never_reach_the_collector() {
    let collector = Collector::start();
    let (capture, layer, guard) = capture_and_export(&collector);
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let _s = tracing::info_span!("login", api_key = "k-123456").entered();
        tracing::info!(
            event_name = "user_login_attempt",
            password = "hunter2",
            user = "ana",
            "login for ana@example.com"
        );
    });
    guard.shutdown(Duration::from_secs(10)).unwrap();
    let received = collector.wait_until(Duration::from_secs(10), |r| !r.is_empty());
    assert_eq!(received.len(), 1);
    let text = received[0].to_string();
    for secret in ["hunter2", "k-123456", "ana@example.com"] {
        assert!(
            !text.contains(secret),
            "{secret} reached the collector: {text}"
        );
        assert!(
            !capture.lines()[0].contains(secret),
            "{secret} in the JSON line"
        );
    }
    assert_eq!(received[0]["attributes"]["password"], "[REDACTED]");
    assert_eq!(received[0]["attributes"]["user"], "ana");
}

#[test]
fn the_exporters_own_diagnostics_are_not_exported() {
    let collector = Collector::start();
    let (otlp, guard) = OtlpOutput::builder()
        .endpoint(collector.grpc_endpoint())
        .build()
        .unwrap();
    let layer = eventlog::layer().without_writer().output(otlp.clone());
    // A global default, at TRACE: whatever tonic, hyper or the SDK log on
    // any thread would reach the layer if it could.
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!(target: "tonic::transport", "connecting");
        tracing::debug!(target: "h2::codec", "frame");
        tracing::warn!(target: "opentelemetry_sdk", "export failed");
        tracing::info!(event_name = "order_placed", seq = 0_u64);
    });
    let report = guard.shutdown(Duration::from_secs(10)).unwrap();
    assert_eq!(
        (report.emitted, report.filtered, report.exported),
        (1, 3, 1)
    );
    let received = collector.wait_until(Duration::from_secs(10), |r| !r.is_empty());
    assert_eq!(received.len(), 1);
    assert_eq!(received[0]["event_name"], "order_placed");
}

/// The only test that installs a global subscriber (nextest runs each test
/// in its own process): the transport's threads, from connecting to
/// tearing down, must not log into it.
#[test]
fn the_transport_logs_nothing_into_a_global_subscriber() {
    let collector = Collector::start();
    let (capture, layer, guard) = capture_and_export(&collector);
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer)).unwrap();
    tracing::info!(event_name = "order_placed", seq = 0_u64);
    let report = guard.shutdown(Duration::from_secs(10)).unwrap();
    assert_eq!((report.exported, report.filtered), (1, 0));
    // See the h2 `Streams::recv_eof` record a dropped runtime used to log.
    assert_eq!(capture.lines().len(), 1, "{:#?}", capture.lines());
    assert_eq!(
        collector
            .wait_until(Duration::from_secs(10), |r| !r.is_empty())
            .len(),
        1
    );
}

/// A record the schema policy drops or dead-letters is not exported; the
/// valid one is, once, exactly as the JSON output writes it.
#[test]
fn schema_drop_and_dead_letter_keep_violations_from_the_collector() {
    for dead_letter in [false, true] {
        let collector = Collector::start();
        let capture = eventlog::testing::Capture::new();
        let letters = eventlog::testing::Capture::new();
        let policy = if dead_letter {
            eventlog::Policy::dead_letter(letters.clone())
        } else {
            eventlog::Policy::Drop
        };
        let (otlp, guard) = OtlpOutput::builder()
            .endpoint(collector.grpc_endpoint())
            .build()
            .unwrap();
        let layer = eventlog::layer()
            .service("checkout")
            .schema(eventlog::Schema::recommended())
            .schema_policy(policy)
            .writer(capture.clone())
            .output(otlp);
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            tracing::info!(
                event_name = "order_placed",
                order_id = "o-1",
                amount = 10.0,
                currency = "USD",
                seq = 0_u64
            );
            tracing::info!(
                event_name = "order_placed",
                order_id = "o-2",
                amount = 10.0,
                currency = "usd",
                seq = 1_u64
            );
        });
        let report = guard.shutdown(Duration::from_secs(10)).unwrap();
        assert_eq!(
            (report.emitted, report.exported),
            (1, 1),
            "dead_letter={dead_letter}"
        );
        assert_eq!(capture.lines().len(), 1);
        assert_eq!(letters.lines().len(), usize::from(dead_letter));
        let received = collector.wait_until(Duration::from_secs(10), |r| !r.is_empty());
        let received =
            collector.wait_until(Duration::from_millis(300), |r| r.len() > received.len());
        assert_eq!(received.len(), 1, "dead_letter={dead_letter}: {received:?}");
        assert_eq!(received[0]["attributes"]["currency"], "USD");
        assert_eq!(received[0]["attributes"]["order_id"], "o-1");
    }
}
