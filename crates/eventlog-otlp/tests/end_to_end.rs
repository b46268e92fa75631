use std::collections::BTreeMap;
use std::time::Duration;

use eventlog_otlp::{OtlpOutput, Protocol};
use eventlog_tests::collector::Collector;
use serde_json::Value;
use tracing_subscriber::prelude::*;

/// Emits `n` events covering the five categories, every value type, with and
/// without a message, at every level from DEBUG to ERROR, inside a span
/// carrying correlation fields.
pub fn emit_workload(n: usize) {
    let request = tracing::info_span!(
        "checkout",
        request_id = "req-42",
        user_id = "u-7",
        session_id = "s-9",
        cart = 3
    );
    let _entered = request.enter();
    for i in 0..n {
        let seq = i as u64;
        match i % 5 {
            0 => tracing::info!(
                event_name = "user_login_attempt",
                event_type = "user_action",
                seq,
                result = "success",
                attempt_count = 2_u64,
                "user logged in"
            ),
            1 => tracing::debug!(
                event_name = "cache_warmed",
                event_type = "system_event",
                seq,
                entries = -42_i64,
                ratio = 0.5
            ),
            2 => tracing::info!(
                event_name = "order_placed",
                event_type = "business",
                seq,
                amount = 72.49,
                currency = "USD",
                gift = true,
                "order placed"
            ),
            3 => tracing::error!(
                event_name = "payment_failed",
                event_type = "error",
                seq,
                code = 502_u64,
                retriable = false,
                "payment failed"
            ),
            _ => tracing::warn!(
                event_name = "access_denied",
                event_type = "security",
                seq,
                resource = "/admin"
            ),
        }
    }
}

fn by_seq(records: &[Value], path: impl Fn(&Value) -> &Value) -> BTreeMap<u64, Value> {
    let mut map = BTreeMap::new();
    for r in records {
        let seq = path(r)["seq"]
            .as_u64()
            .unwrap_or_else(|| panic!("no seq in {r}"));
        assert!(
            map.insert(seq, r.clone()).is_none(),
            "duplicate record seq={seq}: {r}"
        );
    }
    map
}

fn severity_number(level: &str) -> i64 {
    match level {
        "TRACE" => 1,
        "DEBUG" => 5,
        "INFO" => 9,
        "WARN" => 13,
        "ERROR" => 17,
        other => panic!("level {other}"),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "double",
        Value::Number(_) => "int",
        Value::String(_) => "string",
        _ => "other",
    }
}

/// Sends the workload over `protocol` and checks every received record
/// against the JSON line of the same event.
fn round_trip(protocol: Protocol) {
    const N: usize = 500;
    let collector = Collector::start();
    let endpoint = collector.endpoint(protocol.as_str());
    let capture = eventlog::testing::Capture::new();
    let (otlp, guard) = OtlpOutput::builder()
        .protocol(protocol)
        .endpoint(endpoint)
        .max_batch(128)
        .batch_delay(Duration::from_millis(50))
        .build()
        .unwrap();
    let layer = eventlog::layer()
        .service("checkout")
        .environment("test")
        .region("eu-west-1")
        .version("1.2.3")
        .host("web-1")
        .writer(capture.clone())
        .output(otlp);
    let stats = layer.stats();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || emit_workload(N));

    let report = guard
        .shutdown(Duration::from_secs(20))
        .expect("everything exported");
    assert_eq!(
        (report.emitted, report.exported, report.dropped()),
        (N as u64, N as u64, 0)
    );
    assert_eq!(stats.snapshot().dropped(), 0);

    collector.wait_until(Duration::from_secs(20), |r| r.len() >= N);
    // A duplicate would arrive with or right after the last batch; the
    // processor runs after rotel answers, so allow it a moment.
    let received = collector.wait_until(Duration::from_millis(500), |r| r.len() > N);
    assert_eq!(
        received.len(),
        N,
        "collector received {} records, expected {N}\n{}",
        received.len(),
        collector.log()
    );
    let got = by_seq(&received, |r| &r["attributes"]);
    let lines: Vec<Value> = capture
        .lines()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let want = by_seq(&lines, |r| &r["metadata"]);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );

    for (seq, json) in &want {
        check_record(*seq, json, &got[seq]);
    }
}

/// One received record against the JSON line of the same event.
fn check_record(seq: u64, json: &Value, otlp: &Value) {
    let ctx = format!("seq {seq}\n json: {json}\n otlp: {otlp}");
    let level = json["level"].as_str().unwrap();
    assert_eq!(otlp["severity_text"], level, "{ctx}");
    assert_eq!(
        otlp["severity_number"].as_i64(),
        Some(severity_number(level)),
        "{ctx}"
    );
    assert_eq!(otlp["event_name"], json["event_name"], "{ctx}");
    let body = json.get("message").unwrap_or(&json["event_name"]);
    assert_eq!(&otlp["body"], body, "{ctx}");
    assert_eq!(otlp["trace_id"], json["trace_id"], "{ctx}");
    assert_eq!(otlp["span_id"], json["span_id"], "{ctx}");
    assert_eq!(otlp["trace_id"].as_str().unwrap().len(), 32, "{ctx}");
    assert!(otlp["time"].as_u64().unwrap() > 0, "{ctx}");
    assert_eq!(otlp["time"], otlp["observed"], "{ctx}");
    let micros = otlp["time"].as_u64().unwrap() / 1000 % 1_000_000;
    assert!(
        json["timestamp"]
            .as_str()
            .unwrap()
            .ends_with(&format!(".{micros:06}Z")),
        "{ctx}"
    );
    let attrs = &otlp["attributes"];
    let types = &otlp["types"];
    assert_eq!(attrs["event.type"], json["event_type"], "{ctx}");
    assert_eq!(attrs["user.id"], json["user_id"], "{ctx}");
    assert_eq!(attrs["session.id"], json["session_id"], "{ctx}");
    assert_eq!(attrs["request_id"], json["request_id"], "{ctx}");
    assert_eq!(attrs["span.name"], "checkout", "{ctx}");
    assert_eq!(attrs["span.cart"], 3, "{ctx}");
    assert_eq!(types["span.cart"], "int", "{ctx}");
    assert!(attrs["code.line.number"].as_i64().unwrap() > 0, "{ctx}");
    for (key, value) in json["metadata"].as_object().unwrap() {
        assert_eq!(&attrs[key.as_str()], value, "{key}: {ctx}");
        assert_eq!(types[key.as_str()], json_type(value), "{key}: {ctx}");
    }
    let resource = &otlp["resource"];
    assert_eq!(resource["service.name"], "checkout", "{ctx}");
    assert_eq!(resource["deployment.environment.name"], "test", "{ctx}");
    assert_eq!(resource["cloud.region"], "eu-west-1", "{ctx}");
    assert_eq!(resource["service.version"], "1.2.3", "{ctx}");
    assert_eq!(resource["host.name"], "web-1", "{ctx}");
    assert_eq!(otlp["scope"], "tests::end_to_end", "{ctx}");
}

#[test]
fn grpc_delivers_every_record_once_mapped_like_the_json_line() {
    round_trip(Protocol::Grpc);
}

#[cfg(feature = "http")]
#[test]
fn http_delivers_every_record_once_mapped_like_the_json_line() {
    round_trip(Protocol::HttpProtobuf);
}
