//! The server layer and its builder: configuration only; the per-request
//! work is in `server_service`.
//!
//! ```text
//! ServerLayer::builder() ─ setters ─> build() ─> ServerLayer ─ Layer::layer(service) ─> ServerService
//!        (header names, id limit, proxies, timeout: checked here, once)
//! ```

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderName;

use crate::client_address::{ForwardedHeader, TrustedProxies};
use crate::error::HttpConfigError;
use crate::outgoing::header_name;
use crate::request_id::{DEFAULT_MAX_ID_LEN, MAX_ID_LEN_BOUNDS};
use crate::server_service::{ServerConfig, ServerService};

/// The bounds of [`ServerLayerBuilder::timeout`]: shorter is raised to
/// 1 ms, longer lowered to a day.
const TIMEOUT_BOUNDS: (Duration, Duration) =
    (Duration::from_millis(1), Duration::from_secs(86_400));

/// A `tower::Layer` that gives every HTTP request a span and one record,
/// for axum, hyper, tonic or any tower server.
///
/// For each request it:
///
/// 1. continues the caller's W3C `traceparent` (and keeps `tracestate` for
///    the client side), or starts a trace;
/// 2. takes `X-Request-ID` and `X-Correlation-ID` (header names are
///    settings) when they pass the [`RequestId`](crate::RequestId) checks,
///    else generates a request id, and puts it in the request's extensions;
/// 3. opens the span `incoming_request` with `request_id`,
///    `correlation_id`, `http.request.method`, `http.route`, `url.path`,
///    `user_agent.original`, `client.address`,
///    `parent_span_id` (the caller's span) and, when the id was not taken
///    from the header, `request_id_source` (`generated` or `refused`),
///    following OpenTelemetry's HTTP semantic conventions;
/// 4. emits one `http_request_completed` record in it when the response is
///    ready: `http.response.status_code`, `latency_ms`,
///    `http.request.body.size` (when there is a body) and
///    `http.response.body.size` when known; INFO,
///    WARN for 4xx, ERROR (`event_type` `error`, with `error_type`
///    `http_5xx`, `panic`, `timeout` or `service_error`) otherwise;
/// 5. echoes the request id (and, when asked, `traceresponse`) on the response.
///
/// `http.route` is axum's matched path (`/users/{id}`, feature `axum`,
/// with the layer added by `Router::layer`); the raw path, which holds
/// ids, is used only with [`raw_path_as_route(true)`](ServerLayerBuilder::raw_path_as_route).
/// The query string is never recorded.
///
/// ```
/// use tower::{Layer, ServiceExt};
/// use tracing_subscriber::prelude::*;
///
/// let capture = eventlog::testing::Capture::new();
/// let subscriber = tracing_subscriber::registry().with(eventlog::layer().writer(capture.clone()));
/// let _default = tracing::subscriber::set_default(subscriber);
///
/// let app = eventlog_http::ServerLayer::new().layer(tower::service_fn(|_req: http::Request<String>| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(String::from("hello")))
/// }));
/// let req = http::Request::get("/hello").header("x-request-id", "req-7f3a").body(String::new())?;
/// let rt = tokio::runtime::Builder::new_current_thread().build()?;
/// let res = rt.block_on(app.oneshot(req))?;
///
/// assert_eq!(res.headers()["x-request-id"], "req-7f3a");
/// let record = capture.expect_event("http_request_completed");
/// assert_eq!(record.str("request_id"), Some("req-7f3a"));
/// assert_eq!(record.metadata("http.response.status_code"), Some(&200.into()));
/// assert_eq!(record.span_field("url.path"), Some(&"/hello".into()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// A handler panic is caught (unless [`catch_panics(false)`](ServerLayerBuilder::catch_panics)),
/// recorded at ERROR and answered with a 500 and an empty body; a
/// [`timeout`](ServerLayerBuilder::timeout) is answered with a 504. Both
/// need the response body to implement `Default` (axum's, tonic's,
/// `String`, `http_body_util::Full` and `Empty` do).
#[derive(Debug, Clone)]
pub struct ServerLayer {
    pub(crate) config: Arc<ServerConfig>,
    pub(crate) peer: Option<SocketAddr>,
}

impl Default for ServerLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl ServerLayer {
    /// A layer with the defaults of [`ServerLayerBuilder`].
    ///
    /// ```
    /// let layer = eventlog_http::ServerLayer::new();
    /// assert_eq!(layer.request_id_header(), "x-request-id");
    /// ```
    pub fn new() -> Self {
        Self {
            config: Arc::new(ServerLayerBuilder::new().config()),
            peer: None,
        }
    }

    /// A builder, to change the defaults.
    ///
    /// ```
    /// let layer = eventlog_http::ServerLayer::builder().request_id_header("X-Amzn-RequestId").build()?;
    /// assert_eq!(layer.request_id_header(), "x-amzn-requestid");
    /// # Ok::<(), eventlog_http::HttpConfigError>(())
    /// ```
    pub fn builder() -> ServerLayerBuilder {
        ServerLayerBuilder::new()
    }

    /// The same layer, for one connection whose peer address is `peer`:
    /// how a hyper server, which learns the address at `accept`, gives
    /// `client.address`. (Or insert a [`PeerAddr`](crate::PeerAddr) in the
    /// request's extensions.)
    ///
    /// ```
    /// let layer = eventlog_http::ServerLayer::new();
    /// let per_connection = layer.with_peer("192.0.2.7:50312".parse()?);
    /// assert_eq!(per_connection.peer(), Some("192.0.2.7:50312".parse()?));
    /// assert_eq!(layer.peer(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn with_peer(&self, peer: SocketAddr) -> Self {
        Self {
            config: Arc::clone(&self.config),
            peer: Some(peer),
        }
    }

    /// The peer address given by [`with_peer`](Self::with_peer).
    ///
    /// ```
    /// let layer = eventlog_http::ServerLayer::new();
    /// assert_eq!(layer.peer(), None);
    /// let per_connection = layer.with_peer("[2001:db8::1]:443".parse()?);
    /// assert_eq!(per_connection.peer().map(|p| p.port()), Some(443));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn peer(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// The header the request id is read from and echoed in.
    ///
    /// ```
    /// assert_eq!(eventlog_http::ServerLayer::new().request_id_header(), "x-request-id");
    /// let layer = eventlog_http::ServerLayer::builder().request_id_header("X-Amzn-Trace-Id").build()?;
    /// assert_eq!(layer.request_id_header(), "x-amzn-trace-id");
    /// # Ok::<(), eventlog_http::HttpConfigError>(())
    /// ```
    pub fn request_id_header(&self) -> &HeaderName {
        &self.config.request_id_header
    }

    /// The header the correlation id is read from and echoed in.
    ///
    /// ```
    /// assert_eq!(eventlog_http::ServerLayer::new().correlation_id_header(), "x-correlation-id");
    /// ```
    pub fn correlation_id_header(&self) -> &HeaderName {
        &self.config.correlation_id_header
    }

    /// The longest id taken from a header, in bytes, after clamping.
    ///
    /// ```
    /// assert_eq!(eventlog_http::ServerLayer::new().max_id_len(), 128);
    /// ```
    pub fn max_id_len(&self) -> usize {
        self.config.max_id_len
    }

    /// The request timeout, after clamping; `None` (the default) waits for ever.
    ///
    /// ```
    /// assert_eq!(eventlog_http::ServerLayer::new().timeout(), None);
    /// ```
    pub fn timeout(&self) -> Option<Duration> {
        self.config.timeout
    }
}

impl<S> tower_layer::Layer<S> for ServerLayer {
    type Service = ServerService<S>;

    fn layer(&self, inner: S) -> ServerService<S> {
        ServerService::new(inner, Arc::clone(&self.config), self.peer)
    }
}

/// Builds a [`ServerLayer`]. `build()` checks the header names and proxy
/// networks; numbers out of range are clamped to the bounds below.
///
/// | setting | default | bounds |
/// |---|---|---|
/// | `request_id_header` | `x-request-id` | a valid header name |
/// | `correlation_id_header` | `x-correlation-id` | a valid header name |
/// | `max_id_len` | 128 bytes | clamped to 1..=1024 |
/// | `echo_request_id` | `true` | |
/// | `traceresponse` | `false` | |
/// | `raw_path_as_route` | `false` | |
/// | `trusted_proxies` | none: `X-Forwarded-For` / `Forwarded` are never read | IP addresses or CIDR networks |
/// | `forwarded_header` | `ForwardedHeader::X_FORWARDED_FOR` | |
/// | `timeout` | none | clamped to 1 ms..=1 day |
/// | `catch_panics` | `true` | |
///
/// ```
/// use std::time::Duration;
///
/// let builder = eventlog_http::ServerLayer::builder();
/// assert_eq!(builder.clone().build()?.max_id_len(), 128);
/// let layer = builder
///     .max_id_len(0)
///     .timeout(Duration::ZERO)
///     .trusted_proxies(["10.0.0.0/8", "127.0.0.1"])
///     .build()?;
/// assert_eq!(layer.max_id_len(), 1);
/// assert_eq!(layer.timeout(), Some(Duration::from_millis(1)));
/// let layer = eventlog_http::ServerLayer::builder().max_id_len(usize::MAX).timeout(Duration::MAX).build()?;
/// assert_eq!(layer.max_id_len(), 1024);
/// assert_eq!(layer.timeout(), Some(Duration::from_secs(86_400)));
/// # Ok::<(), eventlog_http::HttpConfigError>(())
/// ```
// Independent on/off settings, each with its own setter.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone)]
#[must_use]
pub struct ServerLayerBuilder {
    request_id_header: Option<String>,
    correlation_id_header: Option<String>,
    max_id_len: usize,
    echo_request_id: bool,
    traceresponse: bool,
    raw_path_as_route: bool,
    trusted_proxies: Vec<String>,
    forwarded_header: ForwardedHeader,
    timeout: Option<Duration>,
    catch_panics: bool,
}

impl Default for ServerLayerBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ServerLayerBuilder {
    /// The defaults in the table above.
    ///
    /// ```
    /// let layer = eventlog_http::ServerLayerBuilder::new().build()?;
    /// assert_eq!(layer.request_id_header(), "x-request-id");
    /// assert_eq!(layer.correlation_id_header(), "x-correlation-id");
    /// assert_eq!(layer.max_id_len(), 128);
    /// assert_eq!(layer.timeout(), None);
    /// assert_eq!(layer.peer(), None);
    /// # Ok::<(), eventlog_http::HttpConfigError>(())
    /// ```
    pub const fn new() -> Self {
        Self {
            request_id_header: None,
            correlation_id_header: None,
            max_id_len: DEFAULT_MAX_ID_LEN,
            echo_request_id: true,
            traceresponse: false,
            raw_path_as_route: false,
            trusted_proxies: Vec::new(),
            forwarded_header: ForwardedHeader::X_FORWARDED_FOR,
            timeout: None,
            catch_panics: true,
        }
    }

    /// The header the request id is read from and echoed in (any case).
    ///
    /// ```
    /// use eventlog_http::{HttpConfigError, ServerLayer};
    ///
    /// let layer = ServerLayer::builder().request_id_header("X-Amzn-RequestId").build()?;
    /// assert_eq!(layer.request_id_header(), "x-amzn-requestid");
    /// let err = ServerLayer::builder().request_id_header("").build().unwrap_err();
    /// assert_eq!(err, HttpConfigError::HeaderName { name: String::new() });
    /// # Ok::<(), HttpConfigError>(())
    /// ```
    pub fn request_id_header(mut self, name: impl Into<String>) -> Self {
        self.request_id_header = Some(name.into());
        self
    }

    /// The header the correlation id is read from and echoed in (any case).
    ///
    /// ```
    /// use eventlog_http::{HttpConfigError, ServerLayer};
    ///
    /// let layer = ServerLayer::builder().correlation_id_header("X-Flow-Id").build()?;
    /// assert_eq!(layer.correlation_id_header(), "x-flow-id");
    /// let err = ServerLayer::builder().correlation_id_header("x:flow").build().unwrap_err();
    /// assert_eq!(err, HttpConfigError::HeaderName { name: "x:flow".into() });
    /// # Ok::<(), HttpConfigError>(())
    /// ```
    pub fn correlation_id_header(mut self, name: impl Into<String>) -> Self {
        self.correlation_id_header = Some(name.into());
        self
    }

    /// The longest id taken from a header, in bytes; a longer one is
    /// refused (and a request id generated). Clamped to 1..=1024.
    ///
    /// ```
    /// use tower::{Layer, ServiceExt};
    ///
    /// let layer = eventlog_http::ServerLayer::builder().max_id_len(4).build()?;
    /// assert_eq!(layer.max_id_len(), 4);
    /// let app = layer.layer(tower::service_fn(|_req: http::Request<String>| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    /// }));
    /// let req = |id: &str| http::Request::get("/").header("x-request-id", id).body(String::new());
    /// let rt = tokio::runtime::Builder::new_current_thread().build()?;
    /// let kept = rt.block_on(app.clone().oneshot(req("abcd")?))?;
    /// assert_eq!(kept.headers()["x-request-id"], "abcd");
    /// // Five bytes are too many: the id is refused and a UUID generated.
    /// let refused = rt.block_on(app.oneshot(req("abcde")?))?;
    /// assert_eq!(refused.headers()["x-request-id"].len(), 36);
    ///
    /// let huge = eventlog_http::ServerLayer::builder().max_id_len(1 << 20).build()?;
    /// assert_eq!(huge.max_id_len(), 1024);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn max_id_len(mut self, bytes: usize) -> Self {
        self.max_id_len = bytes;
        self
    }

    /// Whether the response carries the request id (and the correlation
    /// id, when there was one) in the same headers. A header the handler
    /// set itself is kept.
    ///
    /// ```
    /// use tower::{Layer, ServiceExt};
    ///
    /// let handler = tower::service_fn(|_req: http::Request<String>| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    /// });
    /// let req = || {
    ///     http::Request::get("/")
    ///         .header("x-request-id", "req-7f3a")
    ///         .header("x-correlation-id", "flow-1")
    ///         .body(String::new())
    /// };
    /// let rt = tokio::runtime::Builder::new_current_thread().build()?;
    ///
    /// let echoed = rt.block_on(eventlog_http::ServerLayer::new().layer(handler).oneshot(req()?))?;
    /// assert_eq!(echoed.headers()["x-request-id"], "req-7f3a");
    /// assert_eq!(echoed.headers()["x-correlation-id"], "flow-1");
    ///
    /// let quiet = eventlog_http::ServerLayer::builder().echo_request_id(false).build()?;
    /// let res = rt.block_on(quiet.layer(handler).oneshot(req()?))?;
    /// assert!(res.headers().get("x-request-id").is_none());
    /// assert!(res.headers().get("x-correlation-id").is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn echo_request_id(mut self, echo: bool) -> Self {
        self.echo_request_id = echo;
        self
    }

    /// Whether the response carries a W3C `traceresponse` header naming the
    /// request's span, for callers that want to find the server's records.
    ///
    /// ```
    /// use tower::{Layer, ServiceExt};
    /// use tracing_subscriber::prelude::*;
    ///
    /// let capture = eventlog::testing::Capture::new();
    /// let subscriber = tracing_subscriber::registry().with(eventlog::layer().writer(capture.clone()));
    /// let _default = tracing::subscriber::set_default(subscriber);
    ///
    /// let handler = tower::service_fn(|_req: http::Request<String>| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    /// });
    /// let rt = tokio::runtime::Builder::new_current_thread().build()?;
    /// let res = rt.block_on(eventlog_http::ServerLayer::new().layer(handler).oneshot(http::Request::new(String::new())))?;
    /// assert!(res.headers().get("traceresponse").is_none());
    ///
    /// let layer = eventlog_http::ServerLayer::builder().traceresponse(true).build()?;
    /// let req = http::Request::get("/")
    ///     .header("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    ///     .body(String::new())?;
    /// let res = rt.block_on(layer.layer(handler).oneshot(req))?;
    /// let done = &capture.events("http_request_completed")[1];
    /// let expected = format!("00-4bf92f3577b34da6a3ce929d0e0e4736-{}-01", done.str("span_id").unwrap_or_default());
    /// assert_eq!(res.headers()["traceresponse"], expected);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn traceresponse(mut self, send: bool) -> Self {
        self.traceresponse = send;
        self
    }

    /// Whether `http.route` falls back to the raw path when no route
    /// template is known. Off by default: raw paths hold ids
    /// (`/users/12345`), which make one route look like thousands.
    ///
    /// ```
    /// use tower::{Layer, ServiceExt};
    /// use tracing_subscriber::prelude::*;
    ///
    /// let capture = eventlog::testing::Capture::new();
    /// let subscriber = tracing_subscriber::registry().with(eventlog::layer().writer(capture.clone()));
    /// let _default = tracing::subscriber::set_default(subscriber);
    ///
    /// let handler = tower::service_fn(|_req: http::Request<String>| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    /// });
    /// let req = || http::Request::get("/users/12345").body(String::new());
    /// let rt = tokio::runtime::Builder::new_current_thread().build()?;
    /// rt.block_on(eventlog_http::ServerLayer::new().layer(handler).oneshot(req()?))?;
    /// let raw = eventlog_http::ServerLayer::builder().raw_path_as_route(true).build()?;
    /// rt.block_on(raw.layer(handler).oneshot(req()?))?;
    ///
    /// let done = capture.events("http_request_completed");
    /// assert_eq!(done[0].span_field("http.route"), None);
    /// assert_eq!(done[1].span_field("http.route"), Some(&"/users/12345".into()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn raw_path_as_route(mut self, raw: bool) -> Self {
        self.raw_path_as_route = raw;
        self
    }

    /// The proxies whose forwarding header is believed for
    /// `client.address`: addresses (`127.0.0.1`, `::1`) and networks
    /// (`10.0.0.0/8`). Without them the forwarding headers are never read,
    /// and `client.address` is the peer.
    ///
    /// ```
    /// use tower::{Layer, ServiceExt};
    /// use tracing_subscriber::prelude::*;
    ///
    /// let capture = eventlog::testing::Capture::new();
    /// let subscriber = tracing_subscriber::registry().with(eventlog::layer().writer(capture.clone()));
    /// let _default = tracing::subscriber::set_default(subscriber);
    ///
    /// let handler = tower::service_fn(|_req: http::Request<String>| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    /// });
    /// let req = || http::Request::get("/").header("x-forwarded-for", "203.0.113.9").body(String::new());
    /// let peer = "10.1.2.3:50312".parse()?;
    /// let rt = tokio::runtime::Builder::new_current_thread().build()?;
    /// let untrusting = eventlog_http::ServerLayer::new().with_peer(peer);
    /// rt.block_on(untrusting.layer(handler).oneshot(req()?))?;
    /// let trusting = eventlog_http::ServerLayer::builder().trusted_proxies(["10.0.0.0/8"]).build()?.with_peer(peer);
    /// rt.block_on(trusting.layer(handler).oneshot(req()?))?;
    ///
    /// let done = capture.events("http_request_completed");
    /// assert_eq!(done[0].span_field("client.address"), Some(&"10.1.2.3".into()));
    /// assert_eq!(done[1].span_field("client.address"), Some(&"203.0.113.9".into()));
    /// assert!(eventlog_http::ServerLayer::builder().trusted_proxies(["localhost"]).build().is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn trusted_proxies<I, T>(mut self, networks: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.trusted_proxies = networks.into_iter().map(Into::into).collect();
        self
    }

    /// Which header the trusted proxies set (default `X-Forwarded-For`).
    ///
    /// ```
    /// use eventlog_http::{ForwardedHeader, ServerLayer};
    /// use tower::{Layer, ServiceExt};
    /// use tracing_subscriber::prelude::*;
    ///
    /// let capture = eventlog::testing::Capture::new();
    /// let subscriber = tracing_subscriber::registry().with(eventlog::layer().writer(capture.clone()));
    /// let _default = tracing::subscriber::set_default(subscriber);
    ///
    /// let layer = ServerLayer::builder()
    ///     .trusted_proxies(["127.0.0.1"])
    ///     .forwarded_header(ForwardedHeader::FORWARDED)
    ///     .build()?
    ///     .with_peer("127.0.0.1:50312".parse()?);
    /// let app = layer.layer(tower::service_fn(|_req: http::Request<String>| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    /// }));
    /// // Only `Forwarded` is read now: the `X-Forwarded-For` a client sent is ignored.
    /// let req = http::Request::get("/")
    ///     .header("x-forwarded-for", "6.6.6.6")
    ///     .header("forwarded", "for=203.0.113.9;proto=https")
    ///     .body(String::new())?;
    /// let rt = tokio::runtime::Builder::new_current_thread().build()?;
    /// rt.block_on(app.oneshot(req))?;
    /// let done = capture.expect_event("http_request_completed");
    /// assert_eq!(done.span_field("client.address"), Some(&"203.0.113.9".into()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn forwarded_header(mut self, header: ForwardedHeader) -> Self {
        self.forwarded_header = header;
        self
    }

    /// Answers 504 and records an ERROR (`error_type` `timeout`) when the
    /// handler has not answered within `timeout`; the handler's future is
    /// dropped. Clamped to 1 ms..=1 day. The request must run on a tokio
    /// runtime with its timer enabled (`enable_time`, or `enable_all`, as
    /// `#[tokio::main]` and axum do).
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower::{Layer, ServiceExt};
    ///
    /// let layer = eventlog_http::ServerLayer::builder().timeout(Duration::from_millis(20)).build()?;
    /// assert_eq!(layer.timeout(), Some(Duration::from_millis(20)));
    /// let slow = layer.layer(tower::service_fn(|_req: http::Request<String>| async {
    ///     tokio::time::sleep(Duration::from_secs(3600)).await;
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(String::from("too late")))
    /// }));
    /// let rt = tokio::runtime::Builder::new_current_thread().enable_time().build()?;
    /// let res = rt.block_on(slow.oneshot(http::Request::new(String::new())))?;
    /// assert_eq!(res.status(), 504);
    /// assert_eq!(res.body(), "");
    ///
    /// let zero = eventlog_http::ServerLayer::builder().timeout(Duration::ZERO).build()?;
    /// assert_eq!(zero.timeout(), Some(Duration::from_millis(1)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Whether a handler panic is caught and answered with a 500 (the
    /// default), or recorded and then resumed, for a panic-catching layer
    /// further out.
    ///
    /// ```
    /// use std::panic::{AssertUnwindSafe, catch_unwind};
    /// use tower::{Layer, ServiceExt};
    ///
    /// let panicking = tower::service_fn(|req: http::Request<String>| async move {
    ///     assert_ne!(req.uri().path(), "/boom", "handler bug");
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    /// });
    /// let boom = || http::Request::get("/boom").body(String::new());
    /// let rt = tokio::runtime::Builder::new_current_thread().build()?;
    ///
    /// let caught = rt.block_on(eventlog_http::ServerLayer::new().layer(panicking).oneshot(boom()?))?;
    /// assert_eq!(caught.status(), 500);
    ///
    /// let layer = eventlog_http::ServerLayer::builder().catch_panics(false).build()?;
    /// let service = layer.layer(panicking);
    /// let req = boom()?;
    /// let resumed = catch_unwind(AssertUnwindSafe(|| rt.block_on(service.oneshot(req))));
    /// assert!(resumed.is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn catch_panics(mut self, catch: bool) -> Self {
        self.catch_panics = catch;
        self
    }

    /// The layer, or the first setting that is not valid.
    ///
    /// ```
    /// let err = eventlog_http::ServerLayer::builder().trusted_proxies(["10.0.0.0/33"]).build().unwrap_err();
    /// assert_eq!(err.to_string(), "`10.0.0.0/33` is not an IP address or network (`10.0.0.0/8`, `::1`)");
    /// ```
    pub fn build(self) -> Result<ServerLayer, HttpConfigError> {
        let mut config = self.config();
        if let Some(name) = &self.request_id_header {
            config.request_id_header = header_name(name)?;
        }
        if let Some(name) = &self.correlation_id_header {
            config.correlation_id_header = header_name(name)?;
        }
        config.proxies = TrustedProxies::parse(&self.trusted_proxies, self.forwarded_header)?;
        Ok(ServerLayer {
            config: Arc::new(config),
            peer: None,
        })
    }

    /// The configuration with the defaults for the parts `build` checks.
    fn config(&self) -> ServerConfig {
        ServerConfig {
            request_id_header: HeaderName::from_static("x-request-id"),
            correlation_id_header: HeaderName::from_static("x-correlation-id"),
            max_id_len: self
                .max_id_len
                .clamp(MAX_ID_LEN_BOUNDS.0, MAX_ID_LEN_BOUNDS.1),
            echo_request_id: self.echo_request_id,
            traceresponse: self.traceresponse,
            raw_path_as_route: self.raw_path_as_route,
            proxies: TrustedProxies::default(),
            timeout: self
                .timeout
                .map(|t| t.clamp(TIMEOUT_BOUNDS.0, TIMEOUT_BOUNDS.1)),
            catch_panics: self.catch_panics,
        }
    }
}
