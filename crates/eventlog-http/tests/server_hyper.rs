//! The server layer on hyper's own HTTP/1 server on loopback: the peer
//! address per connection, and `X-Forwarded-For` believed only from
//! trusted proxies.

use std::convert::Infallible;

use eventlog_http::{ForwardedHeader, ServerLayer};

use crate::support::{Full, on_both_runtimes, record_at, serve_hyper, span_str};

async fn hello(
    _req: http::Request<hyper::body::Incoming>,
) -> Result<http::Response<Full>, Infallible> {
    tracing::info!(event_name = "hello_sent");
    Ok(http::Response::new(Full::from("hello")))
}

async fn get(addr: std::net::SocketAddr, path: &str, forwarded: (&str, &str)) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("http://{addr}{path}"))
        .header(forwarded.0, forwarded.1)
        .body("twelve bytes")
        .send()
        .await
        .unwrap()
}

on_both_runtimes! {
    fn hyper_records_the_peer_and_ignores_forwarded_for_from_untrusted_peers(capture) {
        let addr = serve_hyper(ServerLayer::new(), hello).await;
        let res = get(addr, "/hello", ("x-forwarded-for", "203.0.113.9")).await;
        assert_eq!(res.status(), 200);
        assert!(res.headers().contains_key("x-request-id"));
        let done = record_at(&capture, "http_request_completed", "/hello");
        assert_eq!(span_str(&done, "client.address"), Some("127.0.0.1"));
        assert_eq!(span_str(&done, "http.request.method"), Some("POST"));
        // No route template on plain hyper, and the raw path is not one.
        assert_eq!(span_str(&done, "http.route"), None);
        assert_eq!(done.metadata("http.request.body.size"), Some(&12.into()));
        assert_eq!(done.metadata("http.response.body.size"), Some(&5.into()));
        assert_eq!(capture.expect_event("hello_sent").str("request_id"), done.str("request_id"));
    }

    fn hyper_believes_forwarded_for_from_a_trusted_proxy(capture) {
        let layer = ServerLayer::builder()
            .trusted_proxies(["127.0.0.1", "10.0.0.0/8"])
            .raw_path_as_route(true)
            .traceresponse(true)
            .build()
            .unwrap();
        let addr = serve_hyper(layer, hello).await;
        let res = get(addr, "/hello", ("x-forwarded-for", "6.6.6.6, 203.0.113.9, 10.1.2.3")).await;
        let done = record_at(&capture, "http_request_completed", "/hello");
        assert_eq!(span_str(&done, "client.address"), Some("203.0.113.9"));
        assert_eq!(span_str(&done, "http.route"), Some("/hello"));
        // traceresponse names the request's span.
        let traceresponse = res.headers()["traceresponse"].to_str().unwrap();
        let expected = format!("00-{}-{}-01", done.str("trace_id").unwrap(), done.str("span_id").unwrap());
        assert_eq!(traceresponse, expected);
    }

    fn hyper_reads_forwarded_when_told_to(capture) {
        let layer = ServerLayer::builder()
            .trusted_proxies(["127.0.0.0/8"])
            .forwarded_header(ForwardedHeader::FORWARDED)
            .build()
            .unwrap();
        let addr = serve_hyper(layer, hello).await;
        get(addr, "/hello", ("forwarded", "for=\"[2001:db8:cafe::17]:4711\";proto=https")).await;
        let done = record_at(&capture, "http_request_completed", "/hello");
        assert_eq!(span_str(&done, "client.address"), Some("2001:db8:cafe::17"));
    }
}
