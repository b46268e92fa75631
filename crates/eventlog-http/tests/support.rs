//! Runtimes with the capture as every thread's dispatcher, the servers, and
//! the clients the tests use.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::routing::get;
use eventlog::ParsedRecord;
use eventlog::testing::Capture;
use eventlog_http::ServerLayer;
use tower::Layer;
use tracing_subscriber::prelude::*;

/// The hyper servers' response body.
pub(crate) type Full = http_body_util::Full<hyper::body::Bytes>;

#[derive(Debug, Clone, Copy)]
pub(crate) enum Flavor {
    CurrentThread,
    MultiThread,
}

/// Runs `test` on a runtime of `flavor` whose every thread has the capture's
/// subscriber as its default (the registry releases spans through the
/// thread's default dispatcher, see tests/e2e/stacks.rs), and returns the capture.
pub(crate) fn run<F, Fut>(flavor: Flavor, test: F) -> Capture
where
    F: FnOnce(Capture) -> Fut,
    Fut: Future<Output = ()>,
{
    let capture = Capture::new();
    let dispatch = tracing::Dispatch::new(
        tracing_subscriber::registry()
            .with(eventlog::layer().service("test").writer(capture.clone())),
    );
    let mut builder = match flavor {
        Flavor::CurrentThread => tokio::runtime::Builder::new_current_thread(),
        Flavor::MultiThread => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(2);
            b
        }
    };
    let for_workers = dispatch.clone();
    let runtime = builder
        .on_thread_start(move || std::mem::forget(tracing::dispatcher::set_default(&for_workers)))
        .enable_all()
        .build()
        .unwrap();
    let _default = tracing::dispatcher::set_default(&dispatch);
    runtime.block_on(test(capture.clone()));
    capture
}

/// Writes a test twice, once per runtime flavour.
macro_rules! on_both_runtimes {
    ($(fn $name:ident($capture:ident) $body:block)*) => {$(
        mod $name {
            use super::*;

            async fn body($capture: eventlog::testing::Capture) $body

            #[test]
            fn current_thread() {
                crate::support::run(crate::support::Flavor::CurrentThread, body);
            }

            #[test]
            fn multi_thread() {
                crate::support::run(crate::support::Flavor::MultiThread, body);
            }
        }
    )*};
}
pub(crate) use on_both_runtimes;

async fn user(Path(id): Path<String>) -> String {
    tracing::info!(event_name = "user_loaded", user = %id);
    id
}

async fn unavailable() -> StatusCode {
    StatusCode::SERVICE_UNAVAILABLE
}

async fn boom() -> &'static str {
    panic!("handler exploded")
}

async fn slow() -> &'static str {
    std::future::pending().await
}

/// The axum app the tests call: routes for each outcome, our layer around them.
pub(crate) fn axum_app(layer: ServerLayer) -> Router {
    Router::new()
        .route("/users/{id}", get(user))
        .route("/unavailable", get(unavailable))
        .route("/boom", get(boom))
        .route("/slow", get(slow))
        .layer(layer)
}

/// The layer the axum tests use: a 200 ms timeout for `/slow`.
pub(crate) fn test_layer() -> ServerLayer {
    ServerLayer::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap()
}

/// Serves `app` on a loopback port (with the peer address), returns the address.
pub(crate) async fn serve_axum(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    addr
}

/// Serves `handler` with hyper's HTTP/1 server on a loopback port, each
/// connection wrapped in `layer.with_peer(peer)`.
pub(crate) async fn serve_hyper<H, Fut>(layer: ServerLayer, handler: H) -> SocketAddr
where
    H: Fn(http::Request<hyper::body::Incoming>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<http::Response<Full>, Infallible>> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((stream, peer)) = listener.accept().await else {
                return;
            };
            let service = layer
                .with_peer(peer)
                .layer(tower::service_fn(handler.clone()));
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(
                        hyper_util::rt::TokioIo::new(stream),
                        hyper_util::service::TowerToHyperService::new(service),
                    )
                    .await;
            });
        }
    });
    addr
}

/// The one record named `event` whose span has `url.path` = `path`.
pub(crate) fn record_at(capture: &Capture, event: &str, path: &str) -> ParsedRecord {
    let mut found: Vec<_> = capture
        .events(event)
        .into_iter()
        .filter(|r| r.span_field("url.path").and_then(|v| v.as_str()) == Some(path))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one {event} at {path} in:\n{}",
        capture.text()
    );
    found.remove(0)
}

/// A record's string field in its span block.
pub(crate) fn span_str<'r>(record: &'r ParsedRecord, field: &str) -> Option<&'r str> {
    record.span_field(field).and_then(|v| v.as_str())
}

/// Whether `id` has the shape of a generated id (a version-4 UUID).
pub(crate) fn is_generated(id: &str) -> bool {
    id.len() == 36
        && id.as_bytes()[14] == b'4'
        && id.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit())
}
