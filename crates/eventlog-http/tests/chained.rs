//! Two services chained on loopback: A (axum) calls B (hyper) with reqwest
//! through `ClientMiddleware`, or with hyper's client through `ClientLayer`.
//! B's records carry A's `trace_id` and `request_id`, B's request span is a
//! child of A's outgoing span, and A's user id stays in A.

use std::convert::Infallible;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use eventlog::testing::Capture;
use eventlog_http::{ClientLayer, ClientMiddleware, ServerLayer};
use http_body_util::BodyExt;
use tower::{Layer, ServiceExt};
use tracing::Instrument;

use crate::support::{Full, on_both_runtimes, record_at, serve_axum, serve_hyper, span_str};

/// B: answers `/charge` with the headers it got, logging `payment_captured`.
async fn charge(
    req: http::Request<hyper::body::Incoming>,
) -> Result<http::Response<Full>, Infallible> {
    tracing::info!(event_name = "payment_captured", amount = 72.49);
    let names: Vec<String> = req
        .headers()
        .iter()
        .map(|(name, value)| format!("{name}={}", value.to_str().unwrap_or("?")))
        .collect();
    Ok(http::Response::new(Full::from(names.join("|"))))
}

#[derive(Clone, Copy)]
enum Via {
    Reqwest,
    Hyper,
}

/// A: `/checkout` calls B inside a span carrying a user id.
async fn checkout(State((b, via)): State<(SocketAddr, Via)>) -> String {
    let url = format!("http://{b}/charge");
    let span = tracing::info_span!("checkout", user_id = "user-7", session_id = "sess-3");
    async move {
        match via {
            Via::Reqwest => {
                let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
                    .with(ClientMiddleware::new())
                    .build();
                client.get(&url).send().await.unwrap().text().await.unwrap()
            }
            Via::Hyper => {
                let hyper_client = hyper_util::client::legacy::Client::builder(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .build_http::<String>();
                let client = ClientLayer::new().layer(hyper_client);
                let req = http::Request::get(url).body(String::new()).unwrap();
                let res = client.oneshot(req).await.unwrap();
                let body = res.into_body().collect().await.unwrap().to_bytes();
                String::from_utf8(body.to_vec()).unwrap()
            }
        }
    }
    .instrument(span)
    .await
}

async fn chain(capture: &Capture, via: Via) {
    let b = serve_hyper(ServerLayer::new(), charge).await;
    let a = serve_axum(
        Router::new()
            .route("/checkout", get(checkout))
            .with_state((b, via))
            .layer(ServerLayer::new()),
    )
    .await;
    let res = reqwest::Client::new()
        .get(format!("http://{a}/checkout"))
        .header("x-request-id", "req-chain")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .header("tracestate", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let b_saw = res.text().await.unwrap();

    let a_done = record_at(capture, "http_request_completed", "/checkout");
    let a_call = record_at(capture, "http_client_request_completed", "/charge");
    let b_done = record_at(capture, "http_request_completed", "/charge");
    let b_event = capture.expect_event("payment_captured");

    // One trace, one request id, across both services.
    let trace = a_done.str("trace_id").unwrap();
    assert_eq!(trace, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(a_call.str("trace_id"), Some(trace));
    assert_eq!(b_done.str("trace_id"), Some(trace));
    assert_eq!(b_event.str("trace_id"), Some(trace));
    assert_eq!(b_done.str("request_id"), Some("req-chain"));
    assert_eq!(b_event.str("request_id"), Some("req-chain"));
    assert_eq!(span_str(&b_done, "request_id_source"), None);

    // B's span is a child of A's outgoing span, itself under A's request span.
    assert_eq!(span_str(&b_done, "parent_span_id"), a_call.str("span_id"));
    assert_ne!(a_call.str("span_id"), a_done.str("span_id"));
    assert_eq!(
        a_call.metadata("http.response.status_code"),
        Some(&200.into())
    );
    assert_eq!(a_call.level(), Some(tracing::Level::INFO));
    assert_eq!(span_str(&a_call, "server.address"), Some("127.0.0.1"));

    // The allow-list: A's call carried its user id in A's records only.
    assert_eq!(a_call.str("user_id"), Some("user-7"));
    assert_eq!(b_done.get("user_id"), None);
    assert_eq!(b_event.get("session_id"), None);
    let mut sent: Vec<&str> = b_saw
        .split('|')
        .filter_map(|h| h.split_once('=').map(|(name, _)| name))
        .filter(|name| name.starts_with('x') || name.starts_with("trace"))
        .collect();
    sent.sort_unstable();
    assert_eq!(
        sent,
        ["traceparent", "tracestate", "x-request-id"],
        "B got: {b_saw}"
    );
    // tracestate is passed on as it came.
    assert!(
        b_saw.contains("tracestate=rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"),
        "{b_saw}"
    );
}

on_both_runtimes! {
    fn a_reqwest_call_from_a_to_b_carries_the_trace_and_request_id(capture) {
        chain(&capture, Via::Reqwest).await;
    }

    fn a_hyper_client_call_from_a_to_b_carries_the_trace_and_request_id(capture) {
        chain(&capture, Via::Hyper).await;
    }

    fn a_client_error_is_an_error_record(capture) {
        // Nothing listens on the port of a listener just dropped.
        let addr = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
        let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
            .with(ClientMiddleware::new())
            .build();
        assert!(client.get(format!("http://{addr}/charge")).send().await.is_err());
        let failed = capture.expect_event("http_client_request_completed");
        assert_eq!(failed.level(), Some(tracing::Level::ERROR));
        assert_eq!(failed.metadata("error_type"), Some(&"transport".into()));
        assert_eq!(failed.metadata("http.response.status_code"), None);
    }
}
