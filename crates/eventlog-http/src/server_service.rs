//! The server side's per-request work: the service a [`ServerLayer`](crate::ServerLayer)
//! wraps around the handler, and the future that finishes the record.
//!
//! ```text
//! call(request) ─> ids (traceparent, X-Request-ID, X-Correlation-ID) ─> span incoming_request
//!               ─> handler (span entered; panics caught) ─┬─ response ─> echo headers
//!                  timeout? ─> 504                        └─ error
//!               ─> http_request_completed (INFO / WARN / ERROR) in the span
//! ```

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use http::header::{CONTENT_LENGTH, HeaderName, HeaderValue, USER_AGENT};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body::Body;
use pin_project_lite::pin_project;
use tower_service::Service;

use crate::client_address::{PeerAddr, TrustedProxies};
use crate::completion::{self, Completed, Outcome};
use crate::request_id::{self, RequestId, Source};

const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");
const TRACERESPONSE: HeaderName = HeaderName::from_static("traceresponse");

/// What every request of a `ServerLayer` shares.
#[allow(clippy::struct_excessive_bools)] // the builder's on/off settings
#[derive(Debug)]
pub(crate) struct ServerConfig {
    pub(crate) request_id_header: HeaderName,
    pub(crate) correlation_id_header: HeaderName,
    pub(crate) max_id_len: usize,
    pub(crate) echo_request_id: bool,
    pub(crate) traceresponse: bool,
    pub(crate) raw_path_as_route: bool,
    pub(crate) proxies: TrustedProxies,
    pub(crate) timeout: Option<Duration>,
    pub(crate) catch_panics: bool,
}

/// The service a [`ServerLayer`](crate::ServerLayer) makes: the handler
/// `S` inside the request span, with one record per request.
///
/// ```
/// use tower::{Layer, ServiceExt};
///
/// let handler = tower::service_fn(|_req: http::Request<String>| async {
///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
/// });
/// let service: eventlog_http::ServerService<_> = eventlog_http::ServerLayer::new().layer(handler);
/// let rt = tokio::runtime::Builder::new_current_thread().build()?;
/// let res = rt.block_on(service.oneshot(http::Request::new(String::new())))?;
/// // No request id came in: one was generated and echoed.
/// assert_eq!(res.headers()["x-request-id"].len(), 36);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ServerService<S> {
    inner: S,
    config: Arc<ServerConfig>,
    peer: Option<SocketAddr>,
}

impl<S> ServerService<S> {
    pub(crate) fn new(inner: S, config: Arc<ServerConfig>, peer: Option<SocketAddr>) -> Self {
        Self {
            inner,
            config,
            peer,
        }
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ServerService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Error: fmt::Display,
    ReqBody: Body,
    ResBody: Body + Default,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ServerFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> ServerFuture<S::Future> {
        let start = Instant::now();
        let config = &*self.config;
        let headers = req.headers();
        let (request_id, source) =
            request_id::take_or_generate(headers.get(&config.request_id_header), config.max_id_len);
        let correlation_id = headers
            .get(&config.correlation_id_header)
            .and_then(|v| RequestId::from_header(v, config.max_id_len).ok());
        let continued = continued_trace(headers);
        let tracestate = continued
            .and_then(|_| headers.get(&TRACESTATE))
            .and_then(crate::tracestate::checked)
            .cloned();
        let client = config
            .proxies
            .client_address(peer_ip(&req, self.peer), headers);
        let route = route(&req, config.raw_path_as_route);
        let (method, method_original) = method(req.method());
        let span = tracing::info_span!(
            target: "eventlog_http::server",
            "incoming_request",
            request_id = request_id.as_str(),
            correlation_id = correlation_id.as_ref().map(RequestId::as_str),
            traceparent = continued.map(|(traceparent, _)| traceparent),
            parent_span_id = continued.map(|(_, parent)| parent),
            http.request.method = method,
            http.request.method_original = method_original,
            http.route = route,
            url.path = req.uri().path(),
            user_agent.original = headers.get(USER_AGENT).and_then(|v| v.to_str().ok()),
            client.address = client.map(tracing::field::display),
            request_id_source = (source != Source::Header).then(|| source.as_str()),
        );
        if let Some(state) = tracestate {
            crate::tracestate::attach(&span, state);
        }
        // A request without a body (most GETs) has no body size to record.
        let request_size = body_size(req.body(), req.headers()).filter(|&size| size > 0);
        req.extensions_mut().insert(request_id.clone());
        let state = {
            let _entered = span.enter();
            match catch_unwind(AssertUnwindSafe(|| self.inner.call(req))) {
                Ok(future) => State::Running { future },
                Err(payload) => State::Panicked {
                    payload: Some(payload),
                },
            }
        };
        ServerFuture {
            state,
            timeout: config.timeout.map(tokio::time::sleep),
            span,
            config: Arc::clone(&self.config),
            request_id,
            correlation_id,
            start,
            request_size,
        }
    }
}

pin_project! {
    /// The future of a [`ServerService`] call: the handler's, then the record.
    ///
    /// ```
    /// use tower::{Layer, Service};
    ///
    /// let mut service = eventlog_http::ServerLayer::new().layer(tower::service_fn(|_req: http::Request<String>| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    /// }));
    /// let future: eventlog_http::ServerFuture<_> = service.call(http::Request::new(String::new()));
    /// let rt = tokio::runtime::Builder::new_current_thread().build()?;
    /// assert_eq!(rt.block_on(future)?.status(), 200);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub struct ServerFuture<F> {
        #[pin]
        state: State<F>,
        #[pin]
        timeout: Option<tokio::time::Sleep>,
        span: tracing::Span,
        config: Arc<ServerConfig>,
        request_id: RequestId,
        correlation_id: Option<RequestId>,
        start: Instant,
        request_size: Option<u64>,
    }
}

impl<F> fmt::Debug for ServerFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerFuture")
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F> {
        Running { #[pin] future: F },
        Panicked { payload: Option<Box<dyn Any + Send>> },
        Done,
    }
}

impl<F, ResBody, E> Future for ServerFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
    E: fmt::Display,
    ResBody: Body + Default,
{
    type Output = Result<Response<ResBody>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let _entered = this.span.enter();
        let polled = match this.state.as_mut().project() {
            StateProj::Running { future } => catch_unwind(AssertUnwindSafe(|| future.poll(cx))),
            StateProj::Panicked { payload } => {
                Err(payload.take().unwrap_or_else(|| Box::new("panicked")))
            }
            // Polled after completion: the future contract allows anything
            // but a panic would be unkind; stay pending.
            StateProj::Done => return Poll::Pending,
        };
        let finished = match polled {
            Ok(Poll::Pending) => {
                match this
                    .timeout
                    .as_mut()
                    .as_pin_mut()
                    .map(|sleep| sleep.poll(cx))
                {
                    Some(Poll::Ready(())) => Finished::Timeout,
                    _ => return Poll::Pending,
                }
            }
            Ok(Poll::Ready(result)) => Finished::Answered(result),
            Err(payload) => Finished::Panicked(payload),
        };
        this.state.set(State::Done);
        let mut completed = Completed {
            outcome: Outcome::Error,
            start: *this.start,
            request_size: *this.request_size,
            response_size: None,
            message: None,
        };
        let result = match finished {
            Finished::Answered(Ok(mut response)) => {
                completed.outcome = Outcome::Status(response.status());
                completed.response_size = body_size(response.body(), response.headers());
                echo(
                    &mut response,
                    this.config,
                    this.request_id,
                    this.correlation_id.as_ref(),
                );
                completion::server(&completed);
                Ok(response)
            }
            Finished::Answered(Err(error)) => {
                let message = error.to_string();
                completed.message = Some(&message);
                completion::server(&completed);
                Err(error)
            }
            Finished::Timeout => {
                completed.outcome = Outcome::Timeout;
                let mut response = empty(StatusCode::GATEWAY_TIMEOUT);
                completed.response_size = Some(0);
                echo(
                    &mut response,
                    this.config,
                    this.request_id,
                    this.correlation_id.as_ref(),
                );
                completion::server(&completed);
                Ok(response)
            }
            Finished::Panicked(payload) => {
                completed.outcome = Outcome::Panic;
                completed.response_size = Some(0);
                completed.message = panic_message(&*payload);
                completion::server(&completed);
                if !this.config.catch_panics {
                    resume_unwind(payload);
                }
                let mut response = empty(StatusCode::INTERNAL_SERVER_ERROR);
                echo(
                    &mut response,
                    this.config,
                    this.request_id,
                    this.correlation_id.as_ref(),
                );
                Ok(response)
            }
        };
        Poll::Ready(result)
    }
}

enum Finished<R> {
    Answered(R),
    Timeout,
    Panicked(Box<dyn Any + Send>),
}

/// The caller's `traceparent` and the parent span id in it, when it is
/// valid (W3C: an invalid one is ignored, and with it `tracestate`).
fn continued_trace(headers: &HeaderMap) -> Option<(&str, &str)> {
    let bytes = headers.get(&TRACEPARENT)?.as_bytes().trim_ascii();
    if !valid_traceparent(bytes) {
        return None;
    }
    // The version-00 part is all a span needs (a later version's extra
    // fields are not ours to read), and it is ASCII, checked above.
    let text = std::str::from_utf8(bytes.get(..55)?).ok()?;
    Some((text, text.get(36..52)?))
}

/// The W3C shape, checked here without allocating (eventlog parses the
/// value again when the span records it): `vv-<32 hex>-<16 hex>-ff`,
/// lowercase, ids not all zero, version not `ff`; a version other than
/// `00` may carry more after a `-`.
fn valid_traceparent(b: &[u8]) -> bool {
    let (Some(version), Some(trace), Some(parent), Some(flags)) =
        (b.get(0..2), b.get(3..35), b.get(36..52), b.get(53..55))
    else {
        return false;
    };
    let hex = |s: &[u8]| s.iter().all(|&c| LOWER_HEX[usize::from(c)]);
    let nonzero = |s: &[u8]| s.iter().any(|&c| c != b'0');
    let dashes = [b.get(2), b.get(35), b.get(52)] == [Some(&b'-'); 3];
    let rest_ok = b.len() == 55 || (version != b"00" && b.get(55) == Some(&b'-'));
    dashes
        && hex(version)
        && hex(trace)
        && hex(parent)
        && hex(flags)
        && nonzero(trace)
        && nonzero(parent)
        && version != b"ff"
        && rest_ok
}

/// Lowercase hex digits, by byte.
const LOWER_HEX: [bool; 256] = {
    let mut table = [false; 256];
    let mut b: u8 = 0;
    loop {
        table[b as usize] = matches!(b, b'0'..=b'9' | b'a'..=b'f');
        if b == u8::MAX {
            break;
        }
        b += 1;
    }
    table
};

/// The peer's address: the one given to `with_peer`, else a `PeerAddr`
/// extension, else (feature `axum`) axum's `ConnectInfo`.
fn peer_ip<B>(req: &Request<B>, peer: Option<SocketAddr>) -> Option<IpAddr> {
    if let Some(peer) = peer {
        return Some(peer.ip());
    }
    if let Some(PeerAddr(peer)) = req.extensions().get::<PeerAddr>() {
        return Some(peer.ip());
    }
    #[cfg(feature = "axum")]
    if let Some(axum::extract::ConnectInfo(peer)) = req
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
    {
        return Some(peer.ip());
    }
    None
}

/// `http.route`: axum's matched path, else the raw path when asked.
fn route<B>(req: &Request<B>, raw_path: bool) -> Option<&str> {
    #[cfg(feature = "axum")]
    if let Some(matched) = req.extensions().get::<axum::extract::MatchedPath>() {
        return Some(matched.as_str());
    }
    raw_path.then(|| req.uri().path())
}

/// `http.request.method`, and `http.request.method_original` for a method
/// outside the known set (recorded as `_OTHER`, as the conventions ask, so
/// an arbitrary token cannot make a new method per request).
fn method(method: &Method) -> (&'static str, Option<&str>) {
    let known = match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => return ("_OTHER", Some(method.as_str())),
    };
    (known, None)
}

/// A body's size when known: exactly from the body, else `Content-Length`.
pub(crate) fn body_size<B: Body>(body: &B, headers: &HeaderMap) -> Option<u64> {
    body.size_hint().exact().or_else(|| {
        headers
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
    })
}

/// Adds the request (and correlation) id and `traceresponse` to a response,
/// keeping any the handler set.
fn echo<B>(
    response: &mut Response<B>,
    config: &ServerConfig,
    id: &RequestId,
    correlation: Option<&RequestId>,
) {
    let headers = response.headers_mut();
    if config.echo_request_id {
        headers
            .entry(&config.request_id_header)
            .or_insert_with(|| id.header_value().clone());
        if let Some(correlation) = correlation {
            headers
                .entry(&config.correlation_id_header)
                .or_insert_with(|| correlation.header_value().clone());
        }
    }
    if config.traceresponse
        && let Some(cx) = eventlog::current_context()
        && let Ok(value) = HeaderValue::from_str(&cx.traceparent())
    {
        headers.insert(TRACERESPONSE, value);
    }
}

fn empty<B: Default>(status: StatusCode) -> Response<B> {
    let mut response = Response::new(B::default());
    *response.status_mut() = status;
    response
}

fn panic_message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn traceparents_are_checked_as_eventlog_parses_them() {
        let good = [
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future",
        ];
        let bad = [
            "",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",
            "00-4bf92f3577b34da6a3ce929d0e0e473-600f067aa0ba902b7-01",
        ];
        for t in good {
            assert!(valid_traceparent(t.as_bytes()), "{t}");
            assert!(t.parse::<eventlog::TraceContext>().is_ok(), "{t}");
        }
        for t in bad {
            assert!(!valid_traceparent(t.as_bytes()), "{t}");
            assert!(t.parse::<eventlog::TraceContext>().is_err(), "{t}");
        }
    }

    proptest! {
        /// Whatever this check accepts, eventlog continues.
        #[test]
        fn an_accepted_traceparent_is_one_eventlog_parses(
            text in "[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}(-[a-z0-9]{0,4})?|\\PC{0,80}",
        ) {
            if valid_traceparent(text.as_bytes()) {
                prop_assert!(text.parse::<eventlog::TraceContext>().is_ok(), "{}", text);
            }
        }
    }
}
