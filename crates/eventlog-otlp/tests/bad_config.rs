//! Bad configuration is an error at build or a documented clamp, never a
//! panic on the caller's thread or an export thread that dies later
//! (issue 13, item 6). Each regression test is named after the case that
//! failed on `dab172c`.

use std::time::{Duration, Instant};

use eventlog_otlp::{OtlpError, OtlpOutput, Protocol, ShutdownError};
use tracing_subscriber::prelude::*;

use crate::collector::Collector;

/// A loopback port nothing listens on (bound, then released).
pub fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Emits `seq`-numbered events `range` through `dispatch`.
fn emit(dispatch: &tracing::Dispatch, range: std::ops::Range<u64>) {
    tracing::dispatcher::with_default(dispatch, || {
        for seq in range {
            tracing::info!(event_name = "order_placed", seq);
        }
    });
}

fn received_seqs(collector: &Collector, want: usize) -> Vec<u64> {
    let received = collector.wait_until(Duration::from_secs(10), |r| r.len() >= want);
    let mut seqs: Vec<u64> = received
        .iter()
        .map(|r| r["attributes"]["seq"].as_u64().unwrap())
        .collect();
    seqs.sort_unstable();
    seqs
}

/// On `dab172c` every export thread panicked at once (`Instant + Duration::MAX`),
/// nothing was exported or counted, and `shutdown` said `WorkerGone`. Now
/// the delay is clamped; flush and shutdown export what was given, well
/// before any batch delay (10 records, a batch of 2048).
#[test]
fn batch_delay_duration_max_exports_at_flush_and_shutdown() {
    let collector = Collector::start();
    let layer = eventlog::layer().without_writer();
    let stats = layer.stats();
    let (otlp, guard) = OtlpOutput::builder()
        .endpoint(collector.grpc_endpoint())
        .batch_delay(Duration::MAX)
        .stats(stats.clone())
        .build()
        .unwrap();
    let dispatch =
        tracing::Dispatch::new(tracing_subscriber::registry().with(layer.output(otlp.clone())));

    emit(&dispatch, 0..10);
    assert!(
        otlp.flush_within(Duration::from_secs(10)),
        "flush did not export: {:?}, {:?}",
        otlp.stats(),
        otlp.last_error()
    );
    assert_eq!(otlp.stats().exported, 10);
    assert_eq!(received_seqs(&collector, 10), (0..10).collect::<Vec<_>>());

    emit(&dispatch, 10..15);
    let report = guard
        .shutdown(Duration::from_secs(10))
        .expect("shutdown exports what is queued");
    assert_eq!(report.emitted, 15, "{report:?}");
    assert_eq!(report.exported, 15, "{report:?}");
    assert_eq!(report.dropped(), 0, "{report:?}");
    assert_eq!(stats.snapshot().dropped(), 0);
    assert_eq!(received_seqs(&collector, 15), (0..15).collect::<Vec<_>>());
}

fn endpoint_error(protocol: Protocol, endpoint: &str) -> (String, String, &'static str) {
    match OtlpOutput::builder()
        .protocol(protocol)
        .endpoint(endpoint)
        .build()
    {
        Err(OtlpError::Endpoint {
            value,
            from,
            reason,
        }) => (value, from, reason),
        Err(other) => panic!("{endpoint}: not an endpoint error: {other:?}"),
        Ok(_) => panic!("{endpoint} was accepted"),
    }
}

fn protocols() -> Vec<(Protocol, &'static str)> {
    let mut p = vec![(Protocol::Grpc, "")];
    if cfg!(feature = "http") {
        p.push((Protocol::HttpProtobuf, "/v1/logs"));
    }
    p
}

/// On `dab172c` a gRPC endpoint with port 99999 was accepted, and every
/// export failed later (retried until the budget was spent).
#[test]
fn grpc_endpoint_port_99999_is_an_error_at_build() {
    for (protocol, path) in protocols() {
        let endpoint = format!("http://127.0.0.1:99999{path}");
        let (value, from, reason) = endpoint_error(protocol, &endpoint);
        assert_eq!(value, endpoint);
        assert_eq!(from, "the builder");
        assert_eq!(reason, "the port must be a number from 1 to 65535");
    }
}

/// On `dab172c` a gRPC endpoint with port -1 was accepted.
#[test]
fn grpc_endpoint_port_minus_1_is_an_error_at_build() {
    for (protocol, path) in protocols() {
        let endpoint = format!("http://127.0.0.1:-1{path}");
        let (value, _, reason) = endpoint_error(protocol, &endpoint);
        assert_eq!(value, endpoint);
        assert_eq!(reason, "the port must be a number from 1 to 65535");
    }
}

/// On `dab172c`: `Instant + Duration::MAX` panicked in `flush`, in
/// `shutdown` and in the guard's drop (an abort when already unwinding).
/// Now `Duration::MAX` means "until the queue is drained".
#[test]
fn shutdown_timeout_duration_max_neither_panics_nor_loses_records() {
    let collector = Collector::start();
    let layer = eventlog::layer().without_writer();
    let (otlp, guard) = OtlpOutput::builder()
        .endpoint(collector.grpc_endpoint())
        .shutdown_timeout(Duration::MAX)
        .build()
        .unwrap();
    let dispatch =
        tracing::Dispatch::new(tracing_subscriber::registry().with(layer.output(otlp.clone())));
    emit(&dispatch, 0..3);
    eventlog::Output::flush(&otlp).unwrap();
    assert!(otlp.flush_within(Duration::MAX));
    assert_eq!(otlp.stats().exported, 3);
    emit(&dispatch, 3..6);
    let report = guard.shutdown(Duration::MAX).unwrap();
    assert_eq!(report.exported, 6, "{report:?}");
    assert_eq!(received_seqs(&collector, 6), (0..6).collect::<Vec<_>>());

    // The guard's drop with the same timeout.
    let (otlp, guard) = OtlpOutput::builder()
        .endpoint(collector.grpc_endpoint())
        .shutdown_timeout(Duration::MAX)
        .build()
        .unwrap();
    let dispatch = tracing::Dispatch::new(
        tracing_subscriber::registry()
            .with(eventlog::layer().without_writer().output(otlp.clone())),
    );
    emit(&dispatch, 6..8);
    drop(guard);
    assert_eq!(otlp.stats().exported, 2);
}

/// On `dab172c`, `concurrent_exports(usize::MAX)` panicked in `build`
/// (`Vec::with_capacity` overflow). Now it is clamped to
/// `MAX_CONCURRENT_EXPORTS`.
#[test]
fn concurrent_exports_usize_max_is_clamped_not_a_panic() {
    let b = OtlpOutput::builder().concurrent_exports(usize::MAX);
    assert_eq!(
        b.concurrent_exports_limit(),
        eventlog_otlp::MAX_CONCURRENT_EXPORTS
    );
    let (_otlp, guard) = b
        .endpoint(format!("http://127.0.0.1:{}", dead_port()))
        .build()
        .unwrap();
    assert!(guard.shutdown(Duration::from_secs(1)).is_ok());
}

/// On `dab172c`, `timeout(Duration::ZERO)` was accepted and every export
/// timed out at once, retried for ever. Now it is an error naming the
/// setting and the value, as `OTEL_EXPORTER_OTLP_TIMEOUT=0` already was.
#[test]
fn timeout_zero_is_an_error_at_build() {
    let err = OtlpOutput::builder()
        .endpoint(format!("http://127.0.0.1:{}", dead_port()))
        .timeout(Duration::ZERO)
        .build()
        .unwrap_err();
    assert!(
        matches!(&err, OtlpError::Setting { setting: "timeout", value, .. } if value == "0ns"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "invalid setting `timeout` (0ns): must be at least 1 ms"
    );
}

/// A collector that accepts the connection and never answers: the
/// records are counted as lost at shutdown, which returns within its
/// timeout (the export in flight is abandoned), and no export thread
/// died (the answer is `Timeout`, not `WorkerGone`).
fn hung_collector_loses_only_what_it_holds(protocol: Protocol) {
    const N: u64 = 20;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Accept and hold every connection; never read or write.
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            match stream {
                Ok(s) => held.push(s),
                Err(_) => return,
            }
        }
    });
    let path = if protocol == Protocol::Grpc {
        ""
    } else {
        "/v1/logs"
    };
    let layer = eventlog::layer().without_writer();
    let stats = layer.stats();
    let (otlp, guard) = OtlpOutput::builder()
        .protocol(protocol)
        .endpoint(format!("http://{addr}{path}"))
        // Clamped (an hour): the export never times out during the test.
        .timeout(Duration::MAX)
        .stats(stats.clone())
        .build()
        .unwrap();
    let dispatch =
        tracing::Dispatch::new(tracing_subscriber::registry().with(layer.output(otlp.clone())));
    emit(&dispatch, 0..N);
    // The export is in flight (and hangs) once flush asked for it.
    assert!(!otlp.flush_within(Duration::from_millis(300)));
    let timeout = Duration::from_millis(500);
    let started = Instant::now();
    let result = guard.shutdown(timeout);
    let took = started.elapsed();
    assert_eq!(
        result,
        Err(ShutdownError::Timeout { timeout, lost: N }),
        "{:?}",
        otlp.stats()
    );
    // A bound, not a measurement: the guard gives up 50 ms past the deadline.
    assert!(
        took < timeout + Duration::from_secs(2),
        "shutdown took {took:?}"
    );
    let s = otlp.stats();
    assert_eq!(s.emitted, N, "{s:?}");
    assert_eq!(s.exported, 0, "{s:?}");
    assert_eq!(s.dropped_shutdown, N, "{s:?}");
    assert_eq!(stats.snapshot().dropped_shutdown, N);
}

#[test]
fn grpc_hung_collector_loses_only_what_it_holds_and_shutdown_returns() {
    hung_collector_loses_only_what_it_holds(Protocol::Grpc);
}

#[cfg(feature = "http")]
#[test]
fn http_hung_collector_loses_only_what_it_holds_and_shutdown_returns() {
    hung_collector_loses_only_what_it_holds(Protocol::HttpProtobuf);
}
