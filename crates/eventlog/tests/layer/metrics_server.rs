//! The `/metrics` and `/health` endpoint over real TCP: scraped text parsed
//! with `prometheus-parse`, health bodies parsed as JSON, and hostile
//! clients (garbage, a huge head, slowloris, 1000 idle connections) that
//! leave it serving.

#![allow(clippy::expect_used, clippy::similar_names)]

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use eventlog::{DropReason, HealthCheck, Metric, MetricsServer, Stats};
use prometheus_parse::{Scrape, Value};
use tracing_subscriber::prelude::*;

/// Sends `request` raw and reads the whole response (the server closes).
fn exchange(addr: SocketAddr, request: &[u8]) -> (u16, String, String) {
    let mut conn = TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    conn.write_all(request).unwrap();
    let mut response = Vec::new();
    conn.read_to_end(&mut response).unwrap();
    let response = String::from_utf8(response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("a head and a body");
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {head:?}"));
    let content_type = lines
        .filter_map(|l| l.split_once(": "))
        .find(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .map(|(_, v)| v.to_owned())
        .unwrap_or_default();
    let length: usize = head
        .lines()
        .filter_map(|l| l.split_once(": "))
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .expect("a content length");
    assert_eq!(body.len(), length, "{head}");
    (status, content_type, body.to_owned())
}

fn get(addr: SocketAddr, path: &str) -> (u16, String, String) {
    exchange(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nUser-Agent: test\r\n\r\n").as_bytes(),
    )
}

/// Scrapes `/metrics` and parses it.
fn scrape(addr: SocketAddr) -> Scrape {
    let (status, content_type, body) = get(addr, "/metrics");
    assert_eq!(status, 200, "{body}");
    assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
    Scrape::parse(body.lines().map(|l| Ok(l.to_owned()))).unwrap()
}

/// The value of the one sample named `metric` whose labels include `labels`.
fn value(scrape: &Scrape, metric: &str, labels: &[(&str, &str)]) -> Value {
    let found: Vec<_> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == metric && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .collect();
    assert_eq!(found.len(), 1, "{metric} {labels:?}: {:?}", scrape.samples);
    found[0].value.clone()
}

#[test]
fn a_scrape_parses_into_every_counter_of_every_source() {
    let capture = eventlog::testing::Capture::new();
    let layer = eventlog::layer().writer(capture.clone());
    let stats = layer.stats();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for seq in 0..3_u64 {
            tracing::info!(event_name = "order_placed", seq);
        }
    });
    stats.record_dropped(DropReason::QueueFull);
    stats.record_dropped(DropReason::Io(std::io::ErrorKind::StorageFull));
    stats.record_dropped(DropReason::Io(std::io::ErrorKind::StorageFull));
    // An output that does not depend on eventlog, adapted with a closure.
    let file = |out: &mut Vec<Metric>| {
        out.push(
            Metric::counter("eventlog.file.lines.written", "Lines written.")
                .unit("{line}")
                .value(u64::MAX),
        );
        out.push(
            Metric::gauge("eventlog.file.queue.bytes", "Bytes queued.")
                .unit("By")
                .value(42),
        );
    };
    let server = MetricsServer::builder()
        .source(stats.clone())
        .source(file)
        .start()
        .unwrap();
    assert!(server.local_addr().ip().is_loopback());
    let scrape = scrape(server.local_addr());
    assert_eq!(
        value(&scrape, "eventlog_records_emitted_total", &[]),
        Value::Counter(3.0)
    );
    assert_eq!(
        value(&scrape, "eventlog_records_accepted_total", &[]),
        Value::Counter(3.0)
    );
    for (reason, n) in [
        ("queue_full", 1.0),
        ("io", 2.0),
        ("policy", 0.0),
        ("shutdown", 0.0),
        ("rejected", 0.0),
        ("oversized", 0.0),
    ] {
        assert_eq!(
            value(
                &scrape,
                "eventlog_records_dropped_total",
                &[("reason", reason)]
            ),
            Value::Counter(n),
            "{reason}"
        );
    }
    assert_eq!(
        value(&scrape, "eventlog_file_lines_written_total", &[]),
        Value::Counter(u64::MAX as f64)
    );
    assert_eq!(
        value(&scrape, "eventlog_file_queue_bytes", &[]),
        Value::Gauge(42.0)
    );
    // Every sample of the layer is there, each with its HELP text.
    let names: std::collections::BTreeSet<&str> =
        scrape.samples.iter().map(|s| s.metric.as_str()).collect();
    for m in stats.snapshot().metrics() {
        let name = m.prometheus_name();
        assert!(names.contains(name.as_str()), "{name}");
        assert!(
            scrape.docs.get(&name).is_some_and(|h| h == m.help),
            "{name}"
        );
    }
    // A second scrape sees the counters move.
    stats.record_emitted();
    assert_eq!(
        value(
            &self::scrape(server.local_addr()),
            "eventlog_records_emitted_total",
            &[]
        ),
        Value::Counter(4.0)
    );
}

#[test]
fn health_is_200_when_ok_and_503_with_the_reasons_when_degraded() {
    let stats = Stats::new();
    let check = HealthCheck::builder(stats.clone()).build();
    let server = MetricsServer::builder().health(check).start().unwrap();
    let addr = server.local_addr();
    let (status, content_type, body) = get(addr, "/health");
    assert_eq!((status, content_type.as_str()), (200, "application/json"));
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["status"], "ok");
    stats.record_dropped(DropReason::Rejected);
    stats.record_dropped(DropReason::Rejected);
    let (status, _, body) = get(addr, "/health?probe=ready");
    assert_eq!(status, 503);
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["status"], "degraded");
    assert_eq!(
        body["reasons"],
        serde_json::json!([{"kind": "dropping", "reason": "rejected", "count": 2}])
    );
    // Since the previous probe: nothing new.
    assert_eq!(get(addr, "/health").0, 200);
    // No health check configured: /health is not served.
    let bare = MetricsServer::builder().start().unwrap();
    assert_eq!(get(bare.local_addr(), "/health").0, 404);
    assert_eq!(get(bare.local_addr(), "/metrics").2, "");
}

#[test]
fn other_paths_are_404_other_methods_405_and_garbage_400() {
    let server = MetricsServer::builder()
        .source(Stats::new())
        .start()
        .unwrap();
    let addr = server.local_addr();
    assert_eq!(get(addr, "/").0, 404);
    assert_eq!(get(addr, "/metrics/extra").0, 404);
    assert_eq!(
        exchange(addr, b"POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n").0,
        405
    );
    assert_eq!(exchange(addr, b"\x00\xff\xfe\r\n\r\n").0, 400);
    assert_eq!(exchange(addr, b"GET /metrics\r\n\r\n").0, 400);
    // A head larger than the bound, never finished: 431, not a wait.
    let mut huge = b"GET /metrics HTTP/1.1\r\nX-Big: ".to_vec();
    huge.resize(eventlog::MAX_REQUEST_BYTES * 4, b'a');
    assert_eq!(exchange(addr, &huge).0, 431);
    assert!(!scrape(addr).samples.is_empty());
}

#[test]
fn slow_and_idle_clients_never_block_a_scrape() {
    let stats = Stats::new();
    stats.record_emitted();
    let server = MetricsServer::builder()
        .source(stats)
        .request_timeout(Duration::from_secs(60))
        .start()
        .unwrap();
    let addr = server.local_addr();
    // Slowloris: a request that never ends, a byte at a time.
    let mut slow = TcpStream::connect(addr).unwrap();
    slow.write_all(b"GET /met").unwrap();
    // A client that connects and hangs up at once.
    drop(TcpStream::connect(addr).unwrap());
    // 1000 connections that send nothing, all held open.
    let idle: Vec<TcpStream> = (0..1000)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();
    slow.write_all(b"r").unwrap();
    assert_eq!(
        value(&scrape(addr), "eventlog_records_emitted_total", &[]),
        Value::Counter(1.0)
    );
    drop(idle);
    drop(slow);
    assert_eq!(
        value(&scrape(addr), "eventlog_records_emitted_total", &[]),
        Value::Counter(1.0)
    );
}

#[test]
fn a_client_that_stays_silent_is_closed_after_the_request_timeout() {
    let server = MetricsServer::builder()
        .request_timeout(Duration::from_millis(50))
        .start()
        .unwrap();
    let mut silent = TcpStream::connect(server.local_addr()).unwrap();
    silent
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut buf = [0u8; 16];
    // Closed without an answer (EOF), not held for ever.
    assert_eq!(silent.read(&mut buf).unwrap_or(0), 0);
    assert_eq!(get(server.local_addr(), "/nothing").0, 404);
}

#[test]
fn dropping_the_server_stops_it_and_frees_the_port() {
    let server = MetricsServer::builder().start().unwrap();
    let addr = server.local_addr();
    assert_eq!(get(addr, "/").0, 404);
    drop(server);
    assert!(TcpStream::connect(addr).is_err());
    // The same address can be bound again.
    let again = MetricsServer::builder().address(addr).start().unwrap();
    assert_eq!(again.local_addr(), addr);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// Metric names, label names, label values and help from all of
    /// Unicode (empty, spaces, quotes, newlines, 300 characters): the text
    /// parses with a real parser into one sample per point, under the
    /// clamped name, each value intact.
    #[test]
    fn any_metric_name_label_and_help_give_text_a_parser_reads(
        name in "\\PC{0,300}|[\\s\\S]{0,40}",
        label in "\\PC{0,20}|[\\s\\S]{0,20}",
        label_value in "[\\s\\S]{0,40}",
        help in "[\\s\\S]{0,60}",
        value in proptest::num::u64::ANY,
    ) {
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        let metric = Metric::gauge(leak(name), leak(help))
            .value(value)
            .labeled(leak(label), leak(label_value.clone()), 7);
        let prom = metric.prometheus_name();
        proptest::prop_assert!(
            prom.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && prom.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{prom:?}"
        );
        proptest::prop_assert!(metric.otel_name().len() <= 255);
        let text = eventlog::prometheus_text(&[metric]);
        // The labelled sample's value, unescaped as the format says: every
        // value comes back, `\r` as a space.
        let line = text.lines().last().unwrap();
        let quoted = line
            .split_once("=\"")
            .and_then(|(_, rest)| rest.rsplit_once("\"} "))
            .map(|(v, _)| v)
            .expect("a quoted value");
        let mut unescaped = String::new();
        let mut chars = quoted.chars();
        while let Some(c) = chars.next() {
            unescaped.push(match (c, c == '\\') {
                (_, true) => match chars.next() {
                    Some('n') => '\n',
                    Some(other) => other,
                    None => '\\',
                },
                (c, false) => c,
            });
        }
        proptest::prop_assert_eq!(unescaped, label_value.replace('\r', " "));
        // prometheus-parse 0.2 drops a sample whose quoted label value holds
        // `}` or `,` (valid in the format): the real parser reads the text
        // with the value left out of its way.
        let (head, _) = line.split_once("=\"").expect("a label");
        let mut parsable: Vec<String> = text.lines().map(str::to_owned).collect();
        if let Some(last) = parsable.last_mut() {
            *last = format!("{head}=\"v\"}} 7");
        }
        let scrape = Scrape::parse(parsable.into_iter().map(Ok)).expect("parses");
        proptest::prop_assert_eq!(scrape.samples.len(), 2, "{}", text);
        for sample in &scrape.samples {
            proptest::prop_assert_eq!(&sample.metric, &prom);
        }
        let values: Vec<f64> = scrape
            .samples
            .iter()
            .map(|s| match s.value {
                Value::Gauge(v) | Value::Untyped(v) | Value::Counter(v) => v,
                _ => f64::NAN,
            })
            .collect();
        #[allow(clippy::cast_precision_loss)] // As the text format carries it.
        let want = value as f64;
        proptest::prop_assert_eq!(values, vec![want, 7.0]);
    }
}

/// A metric source or an output check that panics (the caller's code):
/// that request gets a 500, the server keeps serving, and the panics do
/// not use up its connection slots (more of them than it has).
#[test]
fn a_panicking_source_or_check_gets_500_and_the_server_lives_on() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    let broken = Arc::new(AtomicBool::new(true));
    let source = {
        let broken = broken.clone();
        move |out: &mut Vec<Metric>| {
            assert!(!broken.load(Ordering::Relaxed), "a source's bug");
            out.push(Metric::gauge("eventlog.test.ok", "Fine.").value(1));
        }
    };
    let check_broken = broken.clone();
    let check = HealthCheck::builder(Stats::new())
        .output("flaky", move || {
            assert!(!check_broken.load(Ordering::Relaxed), "a check's bug");
            eventlog::OutputStatus::new()
        })
        .build();
    let server = MetricsServer::builder()
        .source(source)
        .health(check)
        .start()
        .unwrap();
    let addr = server.local_addr();
    // Quiet the panic messages the test provokes on purpose.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    // Two failed requests a round: more than MAX_CONNECTIONS in all.
    let rounds = eventlog::MAX_CONNECTIONS / 2 + 25;
    for _ in 0..rounds {
        assert_eq!(get(addr, "/metrics").0, 500);
        assert_eq!(get(addr, "/health").0, 500);
    }
    std::panic::set_hook(hook);
    broken.store(false, Ordering::Relaxed);
    let scrape = scrape(addr);
    assert_eq!(value(&scrape, "eventlog_test_ok", &[]), Value::Gauge(1.0));
    assert_eq!(get(addr, "/health").0, 200);
}
