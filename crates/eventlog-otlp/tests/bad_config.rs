//! Bad configuration is an error at build or a documented clamp, never a
//! panic on the caller's thread or an export thread that dies later
//! (issue 13, item 6). Each regression test is named after the case that
//! failed on `dab172c`.

use std::time::{Duration, Instant};

use eventlog_otlp::{OtlpError, OtlpGuardError, OtlpOutput, Protocol};
use eventlog_tests::collector::Collector;
use tracing_subscriber::prelude::*;

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
/// nothing was exported or counted, and `shutdown` said `WorkerGone` (now `WorkerStopped`). Now
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
    assert_eq!(
        otlp.flush_within(Duration::from_secs(10)),
        Ok(()),
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
    assert_eq!(otlp.flush_within(Duration::MAX), Ok(()));
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
/// died (the answer is `Timeout`, not `WorkerStopped`).
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
    assert!(matches!(
        otlp.flush_within(Duration::from_millis(300)),
        Err(OtlpGuardError::Timeout {
            pending_records: N,
            ..
        })
    ));
    let timeout = Duration::from_millis(500);
    let started = Instant::now();
    let result = guard.shutdown(timeout);
    let took = started.elapsed();
    assert_eq!(
        result,
        Err(OtlpGuardError::Timeout {
            timeout,
            pending_records: N
        }),
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

mod every_setter {
    //! Every setter of the builders at `0`, `MAX` and arbitrary values.

    use std::time::{Duration, Instant};

    use eventlog_otlp::{OtlpError, OtlpGuardError, OtlpOutput, Protocol};
    use proptest::prelude::*;
    use tracing_subscriber::prelude::*;

    fn sizes() -> impl Strategy<Value = usize> {
        prop_oneof![
            Just(0),
            Just(1),
            Just(usize::MAX),
            any::<usize>(),
            1..5_000usize
        ]
    }

    fn durations() -> impl Strategy<Value = Duration> {
        prop_oneof![
            1 => Just(Duration::ZERO),
            2 => Just(Duration::MAX),
            1 => Just(Duration::from_nanos(1)),
            2 => (any::<u64>(), 0..1_000_000_000u32).prop_map(|(s, n)| Duration::new(s, n)),
            3 => (0..3_000u64).prop_map(Duration::from_millis),
        ]
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<String>(),
            "[ -~]{0,16}",
            "[\\x00-\\x1f\\x7f]{1,3}",
            proptest::sample::select(vec![
                "x-api-key",
                "X-Tenant",
                "content-type",
                "Connection",
                "te",
                "host",
                "grpc-timeout",
                "x-token-bin",
                "bad key",
                "",
                "clé",
            ])
            .prop_map(str::to_owned),
        ]
    }

    #[derive(Debug, Clone)]
    enum Endpoint {
        /// 127.0.0.1 on a port nothing listens on: records may be emitted.
        Dead,
        Odd(String),
    }

    fn endpoints() -> impl Strategy<Value = Endpoint> {
        prop_oneof![
            6 => Just(Endpoint::Dead),
            2 => proptest::sample::select(vec![
                "http://127.0.0.1:0", "http://127.0.0.1:65535", "http://127.0.0.1:65536",
                "http://127.0.0.1:99999", "http://127.0.0.1:-1", "http://u:pw@127.0.0.1:1",
                "http://[::1]:9", "http://[fe80::1%25eth0]:1", "https://127.0.0.1:4317",
                "http://:4317", "", "unix:///tmp/s", "http://127.0.0.1:9/v1/logs#f",
            ])
            .prop_map(|e| Endpoint::Odd(e.to_owned())),
            1 => any::<String>().prop_map(Endpoint::Odd),
            1 => ("[a-z0-9.:\\[\\]@%-]{0,10}", ".{0,5}", ".{0,6}")
                .prop_map(|(h, p, t)| Endpoint::Odd(format!("http://{h}:{p}{t}"))),
        ]
    }

    #[derive(Debug, Clone)]
    struct Settings {
        via_layer: bool,
        http: bool,
        endpoint: Endpoint,
        timeout: Option<Duration>,
        gzip: Option<bool>,
        headers: Vec<(String, String)>,
        max_queue_bytes: Option<usize>,
        max_batch: Option<usize>,
        batch_delay: Option<Duration>,
        retry: Option<bool>,
        concurrent_exports: Option<usize>,
        shutdown_timeout: Option<Duration>,
        deployment: Option<[Option<String>; 5]>,
        service: Option<String>,
        records: u64,
        shutdown_ms: u64,
    }

    fn settings() -> impl Strategy<Value = Settings> {
        let transport = (
            any::<bool>(),
            any::<bool>(),
            endpoints(),
            proptest::option::of(durations()),
            proptest::option::of(any::<bool>()),
            proptest::collection::vec(
                prop_oneof![
                    4 => ("x-[a-z0-9-]{0,8}", "[ -~]{0,16}"),
                    1 => (text(), text()),
                ],
                0..3,
            ),
        );
        let queue = (
            proptest::option::of(sizes()),
            proptest::option::of(sizes()),
            proptest::option::of(durations()),
            proptest::option::of(any::<bool>()),
            proptest::option::of(sizes()),
            proptest::option::of(durations()),
        );
        let rest = (
            proptest::option::of(proptest::array::uniform5(proptest::option::of(
                any::<String>(),
            ))),
            proptest::option::of(any::<String>()),
            0..4u64,
            0..150u64,
        );
        (transport, queue, rest).prop_map(
            |(
                (via_layer, http, endpoint, timeout, gzip, headers),
                (
                    max_queue_bytes,
                    max_batch,
                    batch_delay,
                    retry,
                    concurrent_exports,
                    shutdown_timeout,
                ),
                (deployment, service, records, shutdown_ms),
            )| Settings {
                via_layer,
                http: http && cfg!(feature = "http"),
                endpoint,
                timeout,
                gzip,
                headers,
                max_queue_bytes,
                max_batch,
                batch_delay,
                retry,
                concurrent_exports,
                shutdown_timeout,
                deployment,
                service,
                records,
                shutdown_ms,
            },
        )
    }

    fn output_builder(s: &Settings, dead: u16) -> eventlog_otlp::OtlpOutputBuilder {
        let protocol = if s.http {
            Protocol::HttpProtobuf
        } else {
            Protocol::Grpc
        };
        let endpoint = match &s.endpoint {
            Endpoint::Dead if s.http => format!("http://127.0.0.1:{dead}/v1/logs"),
            Endpoint::Dead => format!("http://127.0.0.1:{dead}"),
            Endpoint::Odd(e) => e.clone(),
        };
        let mut b = OtlpOutput::builder().protocol(protocol).endpoint(endpoint);
        if let Some(t) = s.timeout {
            b = b.timeout(t);
        }
        if let Some(g) = s.gzip {
            b = b.gzip(g);
        }
        for (k, v) in &s.headers {
            b = b.header(k.clone(), v.clone());
        }
        if let Some(n) = s.max_queue_bytes {
            b = b.max_queue_bytes(n);
        }
        if let Some(n) = s.max_batch {
            b = b.max_batch(n);
        }
        if let Some(d) = s.batch_delay {
            b = b.batch_delay(d);
        }
        if let Some(r) = s.retry {
            b = b.retry(r);
        }
        if let Some(n) = s.concurrent_exports {
            b = b.concurrent_exports(n);
        }
        if let Some(d) = s.shutdown_timeout {
            b = b.shutdown_timeout(d);
        }
        if let Some([service, env, region, version, host]) = &s.deployment {
            let mut d = eventlog::Deployment::new();
            for (value, set) in [
                (service, eventlog::Deployment::service as fn(_, String) -> _),
                (env, eventlog::Deployment::environment),
                (region, eventlog::Deployment::region),
                (version, eventlog::Deployment::version),
                (host, eventlog::Deployment::host),
            ] {
                if let Some(v) = value {
                    d = set(d, v.clone());
                }
            }
            b = b.deployment(d);
        }
        b
    }

    struct Built {
        /// The output, when built by `OtlpOutputBuilder` (the layer builder
        /// keeps its own).
        otlp: Option<OtlpOutput>,
        guard: eventlog_otlp::OtlpGuard,
        dispatch: tracing::Dispatch,
        stats: eventlog::Stats,
    }

    /// Builds through `OtlpOutputBuilder`, or through
    /// `eventlog_otlp::layer()` and its own setters.
    fn build(s: &Settings, dead: u16) -> Result<Built, OtlpError> {
        if s.via_layer {
            let mut lb = eventlog_otlp::layer().output(output_builder(s, dead));
            if let Some(t) = s.timeout {
                lb = lb.timeout(t);
            }
            if let Some(name) = &s.service {
                lb = lb.service(name.clone());
            }
            let (layer, guard) = lb.build()?;
            let stats = layer.stats();
            let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
            return Ok(Built {
                otlp: None,
                guard,
                dispatch,
                stats,
            });
        }
        let layer = eventlog::layer().without_writer();
        let stats = layer.stats();
        let (otlp, guard) = output_builder(s, dead).stats(stats.clone()).build()?;
        let dispatch =
            tracing::Dispatch::new(tracing_subscriber::registry().with(layer.output(otlp.clone())));
        Ok(Built {
            otlp: Some(otlp),
            guard,
            dispatch,
            stats,
        })
    }

    fn cases() -> u32 {
        std::env::var("EVENTLOG_OTLP_PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(256)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(cases()))]

        /// Building either succeeds or returns a typed error; what builds
        /// takes records and shuts down (against a dead port) within its
        /// timeout, counting every record, without a panic or a dead thread.
        #[test]
        fn every_setter_at_zero_max_or_arbitrary_builds_or_errs_and_shuts_down(s in settings()) {
            let dead = super::dead_port();
            let built = match build(&s, dead) {                Ok(built) => built,
                Err(e) => {
                    let typed = match &e {
                        OtlpError::Setting { setting, .. } => {
                            ["max_batch", "concurrent_exports", "max_queue_bytes", "timeout"].contains(setting)
                        }
                        OtlpError::Endpoint { .. } | OtlpError::Header { .. } => true,
                        OtlpError::FeatureDisabled { feature, .. } => *feature == "gzip" || *feature == "http",
                        _ => false,
                    };
                    prop_assert!(typed, "{e:?}");
                    return Ok(());
                }
            };
            let emitted = if matches!(s.endpoint, Endpoint::Dead) { s.records } else { 0 };
            tracing::dispatcher::with_default(&built.dispatch, || {
                for seq in 0..emitted {
                    tracing::info!(event_name = "order_placed", seq);
                }
            });
            if let Some(otlp) = &built.otlp {
                // Nothing can be delivered: a flush never reports success
                // while a record is queued.
                prop_assert!(otlp.flush_within(Duration::from_millis(1)).is_err() || otlp.stats().queued == 0);
            }
            let timeout = Duration::from_millis(s.shutdown_ms);
            let started = Instant::now();
            let result = built.guard.shutdown(timeout);
            let took = started.elapsed();
            // A bound, not a measurement: the guard gives up 50 ms past its deadline.
            prop_assert!(took < timeout + Duration::from_secs(3), "shutdown took {:?}", took);
            prop_assert!(!matches!(result, Err(OtlpGuardError::WorkerStopped)), "{:?}", result);
            // Nothing listens: every record is lost, and counted.
            prop_assert_eq!(built.stats.snapshot().dropped(), emitted, "{:?}", built.stats.snapshot());
            if let Some(otlp) = &built.otlp {
                let st = otlp.stats();
                prop_assert_eq!(st.emitted, emitted, "{:?}", st);
                prop_assert_eq!(st.exported, 0, "{:?}", st);
                prop_assert_eq!(st.emitted, st.dropped(), "{:?}", st);
                match result {
                    Ok(_) => prop_assert_eq!(st.dropped_shutdown, 0),
                    Err(OtlpGuardError::Timeout { pending_records, .. }) => prop_assert_eq!(pending_records, st.dropped_shutdown),
                    Err(e) => prop_assert!(false, "{:?}", e),
                }
            }
        }
    }
}

/// Found by the audit on `dab172c`: a record larger than the collector's
/// message limit (a 5 MiB field, with the layer's value cap lifted) failed
/// every export it was part of (`OutOfRange`, retried) and was put back at
/// the front each time: with one export thread, nothing after it was ever
/// delivered. Now it is refused at `emit` (rejected, counted, reported),
/// and the records after it are delivered.
#[test]
fn a_record_larger_than_a_request_is_refused_as_oversized_not_retried_for_ever() {
    let collector = Collector::start();
    let layer = eventlog::layer()
        .without_writer()
        .max_value_bytes(usize::MAX);
    let stats = layer.stats();
    let (otlp, guard) = OtlpOutput::builder()
        .endpoint(collector.grpc_endpoint())
        .concurrent_exports(1)
        .stats(stats.clone())
        .build()
        .unwrap();
    let dispatch =
        tracing::Dispatch::new(tracing_subscriber::registry().with(layer.output(otlp.clone())));
    let big = "x".repeat(5 << 20);
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::info!(event_name = "big", body = big.as_str());
    });
    emit(&dispatch, 0..3);
    assert_eq!(
        otlp.flush_within(Duration::from_secs(10)),
        Ok(()),
        "{:?}, {:?}",
        otlp.stats(),
        otlp.last_error()
    );
    let report = guard.shutdown(Duration::from_secs(10)).unwrap();
    assert_eq!(report.emitted, 4, "{report:?}");
    assert_eq!(report.exported, 3, "{report:?}");
    assert_eq!(report.dropped_oversized, 1, "{report:?}");
    assert_eq!(report.drop_reports, 1, "{report:?}");
    assert_eq!(stats.snapshot().dropped_oversized, 1);
    let why = otlp.last_error().unwrap();
    assert!(why.contains("larger than one export request"), "{why}");
    let received = collector.wait_until(Duration::from_secs(10), |r| r.len() >= 4);
    let mut seqs: Vec<u64> = received
        .iter()
        .filter_map(|r| r["attributes"]["seq"].as_u64())
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, [0, 1, 2]);
    let drop_report = received
        .iter()
        .find(|r| r["event_name"] == eventlog_otlp::DROP_REPORT_EVENT)
        .expect("a drop report");
    assert_eq!(drop_report["attributes"]["metadata.reason"], "oversized");
    assert_eq!(drop_report["attributes"]["metadata.dropped"], 1);
    assert_eq!(drop_report["attributes"]["metadata.total_dropped"], 1);
    assert_eq!(drop_report["attributes"]["metadata.output"], "otlp");
}
