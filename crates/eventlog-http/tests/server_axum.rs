//! The server layer in an axum app on loopback, called with reqwest.

use tracing_subscriber::prelude::*;

use crate::support::{
    axum_app, is_generated, on_both_runtimes, record_at, serve_axum, span_str, test_layer,
};

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

on_both_runtimes! {
    fn a_request_continues_the_callers_trace_and_echoes_its_request_id(capture) {
        let addr = serve_axum(axum_app(test_layer())).await;
        let res = reqwest::Client::new()
            .get(format!("http://{addr}/users/12345?token=secret"))
            .header("traceparent", TRACEPARENT)
            .header("x-request-id", "req-7f3a")
            .header("x-correlation-id", "corr-9")
            .header("user-agent", "probe/1.0")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["x-request-id"], "req-7f3a");
        assert_eq!(res.headers()["x-correlation-id"], "corr-9");
        assert_eq!(res.text().await.unwrap(), "12345");

        // The handler's own record carries the request's context.
        let loaded = capture.expect_event("user_loaded");
        assert_eq!(loaded.str("trace_id"), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
        assert_eq!(loaded.str("request_id"), Some("req-7f3a"));
        assert_eq!(loaded.str("correlation_id"), Some("corr-9"));

        let done = record_at(&capture, "http_request_completed", "/users/12345");
        assert_eq!(done.level(), Some(tracing::Level::INFO));
        assert_eq!(done.event_type(), Some("system_event"));
        assert_eq!(done.str("trace_id"), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
        assert_eq!(done.str("request_id"), Some("req-7f3a"));
        assert_eq!(done.metadata("http.response.status_code"), Some(&200.into()));
        assert_eq!(done.metadata("http.response.body.size"), Some(&5.into()));
        assert!(done.metadata("latency_ms").unwrap().as_f64().unwrap() > 0.0);
        assert_eq!(span_str(&done, "http.route"), Some("/users/{id}"));
        assert_eq!(span_str(&done, "http.request.method"), Some("GET"));
        assert_eq!(span_str(&done, "user_agent.original"), Some("probe/1.0"));
        assert_eq!(span_str(&done, "client.address"), Some("127.0.0.1"));
        assert_eq!(span_str(&done, "parent_span_id"), Some("00f067aa0ba902b7"));
        assert_eq!(span_str(&done, "request_id_source"), None);
        // The query (and its token) is never recorded.
        assert!(!capture.text().contains("secret"));
    }

    fn a_missing_request_id_is_generated_and_echoed_back(capture) {
        let addr = serve_axum(axum_app(test_layer())).await;
        let res = reqwest::get(format!("http://{addr}/users/7")).await.unwrap();
        let echoed = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert!(is_generated(&echoed), "{echoed}");
        assert!(res.headers().get("x-correlation-id").is_none());
        let done = record_at(&capture, "http_request_completed", "/users/7");
        assert_eq!(done.str("request_id"), Some(echoed.as_str()));
        assert_eq!(span_str(&done, "request_id_source"), Some("generated"));
        // No traceparent came in: a new trace, and no parent.
        assert_eq!(done.str("trace_id").unwrap().len(), 32);
        assert_eq!(span_str(&done, "parent_span_id"), None);
    }

    fn an_invalid_traceparent_starts_a_new_trace(capture) {
        let addr = serve_axum(axum_app(test_layer())).await;
        reqwest::Client::new()
            .get(format!("http://{addr}/users/8"))
            .header("traceparent", "00-00000000000000000000000000000000-00f067aa0ba902b7-01")
            .header("tracestate", "rojo=00f067aa0ba902b7")
            .send()
            .await
            .unwrap();
        let done = record_at(&capture, "http_request_completed", "/users/8");
        assert_ne!(done.str("trace_id"), Some("00000000000000000000000000000000"));
        assert_eq!(span_str(&done, "parent_span_id"), None);
    }

    fn a_5xx_is_an_error_record(capture) {
        let addr = serve_axum(axum_app(test_layer())).await;
        let res = reqwest::get(format!("http://{addr}/unavailable")).await.unwrap();
        assert_eq!(res.status(), 503);
        let done = record_at(&capture, "http_request_completed", "/unavailable");
        assert_eq!(done.level(), Some(tracing::Level::ERROR));
        assert_eq!(done.event_type(), Some("error"));
        assert_eq!(done.metadata("error_type"), Some(&"http_5xx".into()));
        assert_eq!(done.metadata("http.response.status_code"), Some(&503.into()));
    }

    fn an_unknown_route_is_a_warning_without_a_route(capture) {
        let addr = serve_axum(axum_app(test_layer())).await;
        let res = reqwest::get(format!("http://{addr}/nowhere/42")).await.unwrap();
        assert_eq!(res.status(), 404);
        let done = record_at(&capture, "http_request_completed", "/nowhere/42");
        assert_eq!(done.level(), Some(tracing::Level::WARN));
        assert_eq!(done.event_type(), Some("system_event"));
        // The raw path (with its id) is not a route unless asked for.
        assert_eq!(span_str(&done, "http.route"), None);
    }

    fn a_handler_panic_is_an_error_record_and_a_500(capture) {
        let addr = serve_axum(axum_app(test_layer())).await;
        let res = reqwest::Client::new()
            .get(format!("http://{addr}/boom"))
            .header("x-request-id", "req-boom")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 500);
        assert_eq!(res.headers()["x-request-id"], "req-boom");
        let done = record_at(&capture, "http_request_completed", "/boom");
        assert_eq!(done.level(), Some(tracing::Level::ERROR));
        assert_eq!(done.event_type(), Some("error"));
        assert_eq!(done.metadata("error_type"), Some(&"panic".into()));
        assert_eq!(done.metadata("exception.message"), Some(&"handler exploded".into()));
        assert_eq!(done.metadata("http.response.status_code"), Some(&500.into()));
        assert_eq!(done.str("request_id"), Some("req-boom"));
        // The server keeps serving.
        let again = reqwest::get(format!("http://{addr}/users/1")).await.unwrap();
        assert_eq!(again.status(), 200);
    }

    fn a_timeout_is_an_error_record_and_a_504(capture) {
        let addr = serve_axum(axum_app(test_layer())).await;
        let res = reqwest::get(format!("http://{addr}/slow")).await.unwrap();
        assert_eq!(res.status(), 504);
        assert!(res.headers().contains_key("x-request-id"));
        let done = record_at(&capture, "http_request_completed", "/slow");
        assert_eq!(done.level(), Some(tracing::Level::ERROR));
        assert_eq!(done.metadata("error_type"), Some(&"timeout".into()));
        assert!(done.metadata("latency_ms").unwrap().as_f64().unwrap() >= 200.0);
    }
}

/// Every record the layer writes, error records included, passes the
/// recommended schema (whose `error` category requires a message).
#[test]
fn every_outcome_passes_the_recommended_schema() {
    let capture = eventlog::testing::Capture::new();
    let layer = eventlog::layer()
        .service("test")
        .schema(eventlog::Schema::recommended())
        .writer(capture.clone());
    let stats = layer.stats();
    // Only the layer's own records: hyper's debug lines have no event name.
    let layer = layer.with_event_filter(tracing_subscriber::filter::filter_fn(|m| {
        m.target().starts_with("eventlog_http")
    }));
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let _default = tracing::dispatcher::set_default(&dispatch);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let addr = serve_axum(axum_app(test_layer())).await;
        for path in ["/users/1", "/unavailable", "/boom", "/slow", "/nowhere"] {
            reqwest::get(format!("http://{addr}{path}")).await.unwrap();
        }
        // A call that fails without a response.
        let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap()
            .local_addr()
            .unwrap();
        let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
            .with(eventlog_http::ClientMiddleware::new())
            .build();
        assert!(
            client
                .get(format!("http://{closed}/"))
                .send()
                .await
                .is_err()
        );
    });
    let records = capture.records();
    let errors: Vec<_> = records
        .iter()
        .filter(|r| r.event_type() == Some("error"))
        .collect();
    assert_eq!(
        errors.len(),
        4,
        "5xx, panic, timeout, transport: {}",
        capture.text()
    );
    for r in &errors {
        assert!(!r.str("message").unwrap_or_default().is_empty(), "{r:?}");
    }
    assert!(
        records.iter().all(|r| r.get("schema_errors").is_none()),
        "{}",
        capture.text()
    );
    assert_eq!(stats.snapshot().violations, 0, "{}", capture.text());
}
