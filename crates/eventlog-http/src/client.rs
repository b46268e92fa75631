//! The client side as a tower layer (hyper's client, or any tower client):
//! a span per outgoing request, the allow-listed headers, one record.
//!
//! ```text
//! call(request) ─> span outgoing_request (child of the current span)
//!               ─> OutgoingHeaders::apply (traceparent names this span)
//!               ─> inner client ─> http_client_request_completed (INFO / WARN / ERROR) in the span
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use http::{Request, Response};
use http_body::Body;
use pin_project_lite::pin_project;
use tower_service::Service;

use crate::completion::{self, Completed, Outcome};
use crate::outgoing::OutgoingHeaders;
use crate::server_service::body_size;

/// A `tower::Layer` for HTTP clients: each request gets a span
/// `outgoing_request` (`http.request.method`, `server.address`,
/// `server.port`, `url.path`; never the query), the headers an
/// [`OutgoingHeaders`] list allows, taken inside that span (so the next
/// service's span is a child of it), and one `http_client_request_completed`
/// record with `http.response.status_code` and `latency_ms`: INFO, WARN for
/// 4xx, ERROR for 5xx and for an error from the client (`error_type`
/// `http_5xx` / `transport`).
///
/// ```
/// use tower::{Layer, ServiceExt};
/// use tracing_subscriber::prelude::*;
///
/// let capture = eventlog::testing::Capture::new();
/// let subscriber = tracing_subscriber::registry().with(eventlog::layer().writer(capture.clone()));
/// let _default = tracing::subscriber::set_default(subscriber);
///
/// // A stand-in for hyper's client that answers with the headers it was sent.
/// let echo = tower::service_fn(|req: http::Request<String>| async move {
///     let mut res = http::Response::new(String::new());
///     *res.headers_mut() = req.headers().clone();
///     Ok::<_, std::convert::Infallible>(res)
/// });
/// let client = eventlog_http::ClientLayer::new().layer(echo);
/// let rt = tokio::runtime::Builder::new_current_thread().build()?;
/// let res = {
///     let _req = tracing::info_span!("checkout", request_id = "r-1", user_id = "u-9").entered();
///     rt.block_on(client.oneshot(http::Request::get("http://payments.internal/charge").body(String::new())?))?
/// };
/// assert_eq!(res.headers()["x-request-id"], "r-1");
/// assert!(res.headers().get("x-user-id").is_none());
/// let record = capture.expect_event("http_client_request_completed");
/// assert_eq!(record.span_field("server.address"), Some(&"payments.internal".into()));
/// assert!(res.headers()["traceparent"].to_str()?.contains(record.str("span_id").unwrap()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct ClientLayer {
    headers: OutgoingHeaders,
}

impl ClientLayer {
    /// A layer sending the default [`OutgoingHeaders`].
    ///
    /// ```
    /// assert_eq!(eventlog_http::ClientLayer::new().headers(), &eventlog_http::OutgoingHeaders::default());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// A layer sending the headers on `headers`.
    ///
    /// ```
    /// let list = eventlog_http::OutgoingHeaders::builder().user_id_header("x-user-id").build()?;
    /// let layer = eventlog_http::ClientLayer::with_headers(list.clone());
    /// assert_eq!(layer.headers(), &list);
    /// # Ok::<(), eventlog_http::HttpConfigError>(())
    /// ```
    pub fn with_headers(headers: OutgoingHeaders) -> Self {
        Self { headers }
    }

    /// The allow-list this layer sends.
    ///
    /// ```
    /// let layer = eventlog_http::ClientLayer::new();
    /// assert_eq!(layer.headers().names(), ["traceparent", "tracestate", "x-request-id", "x-correlation-id"]);
    /// let list = eventlog_http::OutgoingHeaders::builder().session_id_header("x-session-id").build()?;
    /// assert_eq!(eventlog_http::ClientLayer::with_headers(list).headers().names().len(), 5);
    /// # Ok::<(), eventlog_http::HttpConfigError>(())
    /// ```
    pub fn headers(&self) -> &OutgoingHeaders {
        &self.headers
    }
}

impl<S> tower_layer::Layer<S> for ClientLayer {
    type Service = ClientService<S>;

    fn layer(&self, inner: S) -> ClientService<S> {
        ClientService {
            inner,
            headers: self.headers.clone(),
        }
    }
}

/// The service a [`ClientLayer`] makes around an HTTP client `S`.
///
/// ```
/// use tower::Layer;
///
/// let client = tower::service_fn(|_req: http::Request<String>| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
/// });
/// let service: eventlog_http::ClientService<_> = eventlog_http::ClientLayer::new().layer(client);
/// assert!(format!("{service:?}").starts_with("ClientService"));
/// ```
#[derive(Debug, Clone)]
pub struct ClientService<S> {
    inner: S,
    headers: OutgoingHeaders,
}

/// The span of one outgoing request.
pub(crate) fn outgoing_span(
    method: &http::Method,
    host: Option<&str>,
    port: Option<u16>,
    path: &str,
) -> tracing::Span {
    tracing::info_span!(
        target: "eventlog_http::client",
        "outgoing_request",
        http.request.method = method.as_str(),
        server.address = host,
        server.port = port,
        url.path = path,
    )
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ClientService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Error: fmt::Display,
    ReqBody: Body,
    ResBody: Body,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ClientFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> ClientFuture<S::Future> {
        let start = Instant::now();
        let uri = req.uri();
        let span = outgoing_span(
            req.method(),
            uri.host(),
            uri.port_u16().or_else(|| default_port(uri.scheme_str())),
            uri.path(),
        );
        let request_size = body_size(req.body(), req.headers());
        let future = {
            let _entered = span.enter();
            self.headers.apply(req.headers_mut());
            self.inner.call(req)
        };
        ClientFuture {
            future,
            span,
            start,
            request_size,
        }
    }
}

fn default_port(scheme: Option<&str>) -> Option<u16> {
    match scheme {
        Some("http") => Some(80),
        Some("https") => Some(443),
        _ => None,
    }
}

pin_project! {
    /// The future of a [`ClientService`] call.
    ///
    /// ```
    /// use tower::{Layer, Service};
    ///
    /// let mut client = eventlog_http::ClientLayer::new().layer(tower::service_fn(|_req: http::Request<String>| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    /// }));
    /// let future: eventlog_http::ClientFuture<_> = client.call(http::Request::new(String::new()));
    /// let rt = tokio::runtime::Builder::new_current_thread().build()?;
    /// assert_eq!(rt.block_on(future)?.status(), 200);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub struct ClientFuture<F> {
        #[pin]
        future: F,
        span: tracing::Span,
        start: Instant,
        request_size: Option<u64>,
    }
}

impl<F> fmt::Debug for ClientFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientFuture").finish_non_exhaustive()
    }
}

impl<F, ResBody, E> Future for ClientFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
    E: fmt::Display,
    ResBody: Body,
{
    type Output = Result<Response<ResBody>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let _entered = this.span.enter();
        let result = std::task::ready!(this.future.poll(cx));
        let mut completed = Completed {
            outcome: Outcome::Error,
            start: *this.start,
            request_size: *this.request_size,
            response_size: None,
            message: None,
        };
        match &result {
            Ok(response) => {
                completed.outcome = Outcome::Status(response.status());
                completed.response_size = body_size(response.body(), response.headers());
                completion::client(&completed);
            }
            Err(error) => {
                let message = error.to_string();
                completed.message = Some(&message);
                completion::client(&completed);
            }
        }
        Poll::Ready(result)
    }
}
