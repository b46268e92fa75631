//! Tower middleware that puts HTTP requests into [`eventlog`] records: the
//! server side continues the caller's trace and request id and writes one
//! `http_request_completed` record per request; the client side sends an
//! allow-listed set of context headers and writes one
//! `http_client_request_completed` record per call.
//!
//! ```text
//!   caller ── traceparent, tracestate, X-Request-ID, X-Correlation-ID ──┐
//!                                                                       v
//! ServerLayer: ids checked or generated ─> span incoming_request ─> handler ─> http_request_completed
//!                                                                     │          (+ X-Request-ID echoed)
//!                     ClientLayer / ClientMiddleware <────────────────┘
//!                     span outgoing_request ─> OutgoingHeaders (allow-list) ─> next service
//!                                          └─> http_client_request_completed
//! ```
//!
//! The records are ordinary eventlog records: the request span's
//! `request_id` and `correlation_id` are promoted fields, so every record
//! a handler writes beneath it carries them too, with the caller's
//! `trace_id`.
//!
//! ```
//! use tower::{Layer, ServiceExt};
//! use tracing_subscriber::prelude::*;
//!
//! let capture = eventlog::testing::Capture::new();
//! let subscriber = tracing_subscriber::registry().with(eventlog::layer().writer(capture.clone()));
//! let _default = tracing::subscriber::set_default(subscriber);
//!
//! let app = eventlog_http::ServerLayer::new().layer(tower::service_fn(|_req: http::Request<String>| async {
//!     tracing::info!(event_name = "order_placed", order_id = "ord_1");
//!     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
//! }));
//! let req = http::Request::post("/orders")
//!     .header("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
//!     .header("x-request-id", "req-7f3a")
//!     .body(String::new())?;
//! let rt = tokio::runtime::Builder::new_current_thread().build()?;
//! rt.block_on(app.oneshot(req))?;
//!
//! let placed = capture.expect_event("order_placed");
//! assert_eq!(placed.str("trace_id"), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
//! assert_eq!(placed.str("request_id"), Some("req-7f3a"));
//! let done = capture.expect_event("http_request_completed");
//! assert_eq!(done.level(), Some(tracing::Level::INFO));
//! assert_eq!(done.span_field("parent_span_id"), Some(&"00f067aa0ba902b7".into()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What leaves the process
//!
//! [`OutgoingHeaders`] is an allow-list: by default `traceparent`,
//! `tracestate`, the request id and the correlation id. `user_id` and
//! `session_id` are sent only under a header name you give.
//!
//! # Features
//!
//! - `axum`: `http.route` from axum's `MatchedPath` and the peer address
//!   from its `ConnectInfo<SocketAddr>` (requires axum 0.8 with `tokio`).
#![cfg_attr(
    feature = "reqwest",
    doc = "- `reqwest`: [`ClientMiddleware`] for `reqwest-middleware` 0.5 (reqwest 0.13)."
)]
#![cfg_attr(
    not(feature = "reqwest"),
    doc = "- `reqwest`: `ClientMiddleware` for `reqwest-middleware` 0.5 (reqwest 0.13)."
)]
//!
//! # Minimum supported Rust version
//!
//! The workspace's `rust-version` (1.88); raising it is a minor change.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
mod client_address;
mod completion;
mod error;
#[cfg(feature = "reqwest")]
mod middleware;
mod outgoing;
mod request_id;
mod server;
mod server_service;
mod tracestate;

pub use client::{ClientFuture, ClientLayer, ClientService};
pub use client_address::{ForwardedHeader, PeerAddr};
pub use error::{HttpConfigError, RequestIdError};
#[cfg(feature = "reqwest")]
pub use middleware::ClientMiddleware;
pub use outgoing::{OutgoingHeaders, OutgoingHeadersBuilder};
pub use request_id::RequestId;
pub use server::{ServerLayer, ServerLayerBuilder};
pub use server_service::{ServerFuture, ServerService};
