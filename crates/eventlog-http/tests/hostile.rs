//! Hostile request and correlation ids over a raw socket (newline, 4 KiB,
//! non-ASCII, quotes and escapes): refused, a generated id used and echoed,
//! every line still valid JSON. And arbitrary header bytes through the
//! service in memory, as a property.

use std::convert::Infallible;

use eventlog_http::ServerLayer;
use proptest::prelude::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::{Layer, ServiceExt};

use crate::support::{axum_app, is_generated, on_both_runtimes, serve_axum, span_str, test_layer};

/// Sends `GET /users/1` with the raw header bytes `header`, returns the
/// status code and the echoed `x-request-id` (if any).
async fn raw_request(addr: std::net::SocketAddr, header: &[u8]) -> (u16, Option<String>) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = b"GET /users/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n".to_vec();
    req.extend_from_slice(header);
    req.extend_from_slice(b"\r\n\r\n");
    stream.write_all(&req).await.unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8_lossy(&answer);
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    let echoed = text
        .lines()
        .find_map(|l| l.strip_prefix("x-request-id: "))
        .map(str::to_owned);
    (status, echoed)
}

on_both_runtimes! {
    fn hostile_request_ids_are_refused_and_replaced(capture) {
        let addr = serve_axum(axum_app(test_layer())).await;
        let hostile: Vec<Vec<u8>> = vec![
            format!("X-Request-ID: {}", "a".repeat(4096)).into_bytes(),
            "X-Request-ID: caf\u{e9}-\u{1f600}".as_bytes().to_vec(),
            b"X-Request-ID: abc\tdef".to_vec(),
            b"X-Request-ID: a\"},\"level\":\"ERROR".to_vec(),
            b"X-Request-ID: a\\nfake line".to_vec(),
        ];
        for header in &hostile {
            let (status, echoed) = raw_request(addr, header).await;
            assert_eq!(status, 200, "{}", String::from_utf8_lossy(header));
            let echoed = echoed.unwrap();
            assert!(is_generated(&echoed), "{echoed}");
        }
        let done = capture.events("http_request_completed");
        assert_eq!(done.len(), hostile.len());
        for record in &done {
            assert_eq!(span_str(record, "request_id_source"), Some("refused"));
            assert!(is_generated(record.str("request_id").unwrap()));
        }
        // A newline inside a header never gets past the HTTP parser: the
        // request is refused before any handler runs.
        let unparseable: [&[u8]; 3] = [b"X-Request-ID: abc\rInjected: 1", b"X-Request-ID: \x1b[31mred", b"X-Request-ID: a\x00b"];
        for header in unparseable {
            let (status, _) = raw_request(addr, header).await;
            assert_eq!(status, 400, "{}", String::from_utf8_lossy(header));
        }
        assert_eq!(capture.events("http_request_completed").len(), hostile.len());
        // Capture parsed every line as JSON; none carries the hostile text.
        let text = capture.text();
        assert!(!text.contains("fake line") && !text.contains("aaaaaaaa") && !text.contains("\\u001b"));
    }

    fn a_hostile_correlation_id_is_dropped(capture) {
        let addr = serve_axum(axum_app(test_layer())).await;
        let (status, _) = raw_request(addr, b"X-Correlation-ID: x y z").await;
        assert_eq!(status, 200);
        let done = capture.expect_event("http_request_completed");
        assert_eq!(done.get("correlation_id"), None);
    }
}

fn in_memory(
    header: &[u8],
    max_id_len: usize,
) -> (http::Response<String>, eventlog::testing::Capture) {
    use tracing_subscriber::prelude::*;
    let capture = eventlog::testing::Capture::new();
    let subscriber = tracing_subscriber::registry().with(eventlog::layer().writer(capture.clone()));
    let layer = ServerLayer::builder()
        .max_id_len(max_id_len)
        .build()
        .unwrap();
    let service = layer.layer(tower::service_fn(|_req: http::Request<String>| async {
        Ok::<_, Infallible>(http::Response::new(String::new()))
    }));
    let mut req = http::Request::new(String::new());
    if let Ok(value) = http::HeaderValue::from_bytes(header) {
        req.headers_mut().insert("x-request-id", value.clone());
        req.headers_mut().insert("x-correlation-id", value.clone());
        req.headers_mut().insert("traceparent", value.clone());
        req.headers_mut().insert("tracestate", value.clone());
        req.headers_mut().insert("user-agent", value.clone());
        req.headers_mut().insert("x-forwarded-for", value);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let res = tracing::subscriber::with_default(subscriber, || rt.block_on(service.oneshot(req)))
        .unwrap();
    (res, capture)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_header_bytes_give_a_checked_or_generated_id(
        header in proptest::collection::vec(any::<u8>(), 0..5000),
        max_id_len in prop_oneof![Just(0usize), Just(usize::MAX), 0usize..2000],
    ) {
        let (res, capture) = in_memory(&header, max_id_len);
        let echoed = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        let record = capture.expect_event("http_request_completed");
        prop_assert_eq!(record.str("request_id"), Some(echoed.as_str()));
        prop_assert!(echoed.len() <= 1024);
        prop_assert!(echoed.bytes().all(|b| b.is_ascii_graphic()));
    }
}
