//! What goes on the wire over HTTP, read by a bare HTTP endpoint on
//! loopback: the headers (content type, compression, the builder's and the
//! environment's), a body that decodes as an OTLP request, a `503` with
//! `Retry-After` honoured, and a partial success counted as rejected.
//! rotel accepts everything and exposes no headers, so these answers come
//! from a listener that speaks just enough HTTP/1.1; delivery itself is
//! tested against rotel in `end_to_end` and `outage`.

#![cfg(all(feature = "http", feature = "gzip"))]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eventlog_otlp::{OtlpOutput, Protocol};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
use prost::Message as _;

struct Received {
    at: Instant,
    path: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

/// Reads one request off `reader`; `None` when the client closed.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Received> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let path = line.split_whitespace().nth(1)?.to_owned();
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
    }
    let len: usize = headers.get("content-length")?.parse().ok()?;
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Received {
        at: Instant::now(),
        path,
        headers,
        body,
    })
}

/// Answers the first request with `503` + `Retry-After: 1`, every later one
/// with `200` and a partial success rejecting `rejected` records.
fn serve(rejected: i64) -> (String, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1/logs", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut writer = stream;
            while let Some(request) = read_request(&mut reader) {
                let n = {
                    let mut log = log.lock().unwrap();
                    log.push(request);
                    log.len()
                };
                let answer = if n == 1 {
                    b"HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n"
                        .to_vec()
                } else {
                    let body = ExportLogsServiceResponse {
                        partial_success: Some(ExportLogsPartialSuccess {
                            rejected_log_records: rejected,
                            error_message: "timestamps too old".into(),
                        }),
                    }
                    .encode_to_vec();
                    let mut a = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: {}\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    a.extend_from_slice(&body);
                    a
                };
                if writer.write_all(&answer).is_err() {
                    break;
                }
            }
        }
    });
    (url, seen)
}

#[test]
fn http_requests_carry_headers_gzip_and_honour_retry_after_and_partial_success() {
    const N: u64 = 10;
    let (url, seen) = serve(2);
    let builder = OtlpOutput::builder()
        .protocol(Protocol::HttpProtobuf)
        .endpoint(url)
        .gzip(true)
        .header("x-api-key", "k-1")
        .concurrent_exports(1);
    let (otlp, guard, stats) = crate::support::emit_numbered(builder, N);
    let stats_after = guard.shutdown(Duration::from_secs(20)).unwrap();

    let seen = seen.lock().unwrap();
    assert_eq!(
        seen.len(),
        3,
        "one refused attempt, one retry, one drop report"
    );
    // Retry-After: 1 is honoured; the backoff alone would retry after ~250 ms.
    let gap = seen[1].at - seen[0].at;
    assert!(gap >= Duration::from_millis(950), "retried after {gap:?}");
    let decode = |r: &Received| {
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&r.body[..])
            .read_to_end(&mut plain)
            .unwrap();
        let request = ExportLogsServiceRequest::decode(&plain[..]).unwrap();
        request
            .resource_logs
            .into_iter()
            .flat_map(|rl| rl.scope_logs)
            .flat_map(|sl| sl.log_records)
            .collect::<Vec<_>>()
    };
    for r in &seen[..2] {
        assert_eq!(r.path, "/v1/logs");
        assert_eq!(r.headers["content-type"], "application/x-protobuf");
        assert_eq!(r.headers["content-encoding"], "gzip");
        assert_eq!(r.headers["x-api-key"], "k-1");
        let records = decode(r);
        assert_eq!(records.len() as u64, N);
        assert!(records.iter().all(|lr| lr.event_name == "order_placed"));
    }
    // The same batch both times: the retry resends what was refused.
    assert_eq!(seen[0].body.len(), seen[1].body.len());
    // Then the 2 rejected records are reported, with their reason.
    let report = decode(&seen[2]);
    assert_eq!(report.len(), 1);
    assert_eq!(report[0].event_name, eventlog_otlp::DROP_REPORT_EVENT);
    let attr = |k: &str| {
        report[0]
            .attributes
            .iter()
            .find(|kv| kv.key == k)
            .and_then(|kv| kv.value.clone())
            .and_then(|v| v.value)
    };
    assert_eq!(attr("metadata.dropped"), Some(Any::IntValue(2)));
    assert_eq!(attr("metadata.total_dropped"), Some(Any::IntValue(2)));
    assert_eq!(
        attr("metadata.reason"),
        Some(Any::StringValue("rejected".into()))
    );

    assert_eq!(stats_after.failed_exports, 1, "{stats_after:?}");
    assert_eq!(stats_after.exported, N - 2, "{stats_after:?}");
    assert_eq!(stats_after.dropped_rejected, 2, "{stats_after:?}");
    assert_eq!(stats_after.drop_reports, 1, "{stats_after:?}");
    assert_eq!(stats.snapshot().dropped_rejected, 2);
    assert_eq!(stats.snapshot().dropped(), 2);
    let why = otlp.last_error().unwrap();
    assert!(
        why.contains("rejected 2 of 10") && why.contains("timestamps too old"),
        "{why}"
    );
}
