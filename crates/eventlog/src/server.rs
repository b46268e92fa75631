//! A tiny HTTP endpoint for scrapers and probes, std only: `GET /metrics`
//! (Prometheus text of every registered [`MetricSource`]) and
//! `GET /health` (the [`HealthCheck`]'s verdict as JSON).
//!
//! ```text
//! TcpListener (accept thread) ──> one short-lived thread per connection
//!        │                         read ≤ MAX_REQUEST_BYTES within the request timeout
//!        │                         ─> 200 /metrics · 200|503 /health · 404 · 405 · 400 · 431
//!        └─ over MAX_CONNECTIONS open: 503 at once, connection closed
//! ```
//!
//! One request per connection (`Connection: close`), so a slow or hostile
//! client holds one thread for at most the request timeout and never
//! delays the others; dropping the [`MetricsServer`] stops accepting.

use std::fmt;
use std::io::{self, Read as _, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::health::HealthCheck;
use crate::metrics::{MetricSource, prometheus_text};

/// The default address: loopback, a port the OS picks.
///
/// ```
/// assert_eq!(eventlog::DEFAULT_METRICS_ADDRESS.to_string(), "127.0.0.1:0");
/// ```
pub const DEFAULT_METRICS_ADDRESS: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

/// Largest request head read (request line and headers); a larger one is
/// answered `431` and closed.
///
/// ```
/// assert_eq!(eventlog::MAX_REQUEST_BYTES, 8192);
/// ```
pub const MAX_REQUEST_BYTES: usize = 8 * 1024;

/// Most connections served at once; one more is answered `503` at once.
///
/// ```
/// assert_eq!(eventlog::MAX_CONNECTIONS, 1024);
/// ```
pub const MAX_CONNECTIONS: usize = 1024;

/// The default of [`MetricsServerBuilder::request_timeout`]: 5 s.
///
/// ```
/// assert_eq!(eventlog::DEFAULT_REQUEST_TIMEOUT.as_secs(), 5);
/// ```
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Bounds of [`MetricsServerBuilder::request_timeout`] (clamped into them).
///
/// ```
/// assert_eq!(eventlog::MIN_REQUEST_TIMEOUT.as_millis(), 10);
/// ```
pub const MIN_REQUEST_TIMEOUT: Duration = Duration::from_millis(10);
/// See [`MIN_REQUEST_TIMEOUT`].
///
/// ```
/// let b = eventlog::MetricsServer::builder().request_timeout(std::time::Duration::MAX);
/// assert_eq!(b.request_timeout_setting(), eventlog::MAX_REQUEST_TIMEOUT);
/// ```
pub const MAX_REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// The `Content-Type` of `/metrics`.
///
/// ```
/// assert!(eventlog::PROMETHEUS_CONTENT_TYPE.starts_with("text/plain; version=0.0.4"));
/// ```
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Why the endpoint could not start.
///
/// ```
/// let taken = std::net::TcpListener::bind("127.0.0.1:0")?;
/// let err = eventlog::MetricsServer::builder().address(taken.local_addr()?).start().unwrap_err();
/// assert!(matches!(err, eventlog::MetricsServerError::Bind { .. }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MetricsServerError {
    /// The address could not be bound (taken, or not this host's).
    #[error("cannot listen on {address}")]
    Bind {
        /// The address asked for.
        address: SocketAddr,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The accept thread could not be started.
    #[error("cannot start the metrics endpoint's thread")]
    Thread(#[source] io::Error),
}

/// Configures a [`MetricsServer`]; see [`MetricsServer::builder`].
#[must_use]
pub struct MetricsServerBuilder {
    address: SocketAddr,
    request_timeout: Duration,
    sources: Vec<Box<dyn MetricSource>>,
    health: Option<HealthCheck>,
}

impl fmt::Debug for MetricsServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetricsServerBuilder")
            .field("address", &self.address)
            .field("request_timeout", &self.request_timeout)
            .field("sources", &self.sources.len())
            .field("health", &self.health)
            .finish()
    }
}

impl Default for MetricsServerBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl MetricsServerBuilder {
    /// The defaults:
    ///
    /// | setting | default | bounds |
    /// |---|---|---|
    /// | [`address`](Self::address) | [`DEFAULT_METRICS_ADDRESS`] (`127.0.0.1:0`) | any; a non-loopback one exposes the counters to the network |
    /// | [`request_timeout`](Self::request_timeout) | [`DEFAULT_REQUEST_TIMEOUT`] (5 s) | clamped to [`MIN_REQUEST_TIMEOUT`] ..= [`MAX_REQUEST_TIMEOUT`] |
    /// | [`source`](Self::source) | none: `/metrics` is empty | — |
    /// | [`health`](Self::health) | none: `/health` is 404 | — |
    ///
    /// ```
    /// let b = eventlog::MetricsServerBuilder::new();
    /// assert_eq!(b.address_setting(), eventlog::DEFAULT_METRICS_ADDRESS);
    /// assert_eq!(b.request_timeout_setting(), eventlog::DEFAULT_REQUEST_TIMEOUT);
    /// ```
    pub fn new() -> Self {
        MetricsServerBuilder {
            address: DEFAULT_METRICS_ADDRESS,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            sources: Vec::new(),
            health: None,
        }
    }

    /// Where to listen (port 0: the OS picks; read it back with
    /// [`MetricsServer::local_addr`]).
    ///
    /// ```
    /// let b = eventlog::MetricsServer::builder().address("127.0.0.1:9464".parse()?);
    /// assert_eq!(b.address_setting().port(), 9464);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn address(mut self, address: SocketAddr) -> Self {
        self.address = address;
        self
    }

    /// How long one connection may take to send its request head; then it
    /// is closed. Clamped to [`MIN_REQUEST_TIMEOUT`] ..= [`MAX_REQUEST_TIMEOUT`].
    ///
    /// ```
    /// let b = eventlog::MetricsServer::builder().request_timeout(std::time::Duration::ZERO);
    /// assert_eq!(b.request_timeout_setting(), eventlog::MIN_REQUEST_TIMEOUT);
    /// ```
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout.clamp(MIN_REQUEST_TIMEOUT, MAX_REQUEST_TIMEOUT);
        self
    }

    /// Adds metrics to `/metrics`, in the order added: the layer's
    /// [`Stats`](crate::Stats), an OTLP output, a closure for the appender.
    ///
    /// ```
    /// let server = eventlog::MetricsServer::builder()
    ///     .source(eventlog::Stats::new())
    ///     .source(|out: &mut Vec<eventlog::Metric>| {
    ///         out.push(eventlog::Metric::gauge("eventlog.file.queue.bytes", "Bytes queued.").value(0));
    ///     })
    ///     .start()?;
    /// # drop(server);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn source(mut self, source: impl MetricSource + 'static) -> Self {
        self.sources.push(Box::new(source));
        self
    }

    /// Serves `/health` from `check` (200 when ok, 503 when degraded,
    /// the body [`Health::to_json`](crate::Health::to_json)). The endpoint
    /// then owns the check's "previous look": each probe sees what changed
    /// since the previous probe.
    ///
    /// ```
    /// use std::io::{Read, Write};
    /// let stats = eventlog::Stats::new();
    /// stats.record_dropped(eventlog::DropReason::QueueFull);
    /// let server = eventlog::MetricsServer::builder()
    ///     .health(eventlog::HealthCheck::builder(stats).build())
    ///     .start()?;
    /// let mut conn = std::net::TcpStream::connect(server.local_addr())?;
    /// conn.write_all(b"GET /health HTTP/1.1\r\n\r\n")?;
    /// let mut response = String::new();
    /// conn.read_to_string(&mut response)?;
    /// assert!(response.starts_with("HTTP/1.1 503 Service Unavailable\r\n"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn health(mut self, check: HealthCheck) -> Self {
        self.health = Some(check);
        self
    }

    /// The address set.
    pub fn address_setting(&self) -> SocketAddr {
        self.address
    }

    /// The request timeout set, after the clamp.
    pub fn request_timeout_setting(&self) -> Duration {
        self.request_timeout
    }

    /// Binds the address and starts the accept thread.
    ///
    /// ```
    /// use std::io::{Read, Write};
    ///
    /// let stats = eventlog::Stats::new();
    /// stats.record_emitted();
    /// let server = eventlog::MetricsServer::builder().source(stats).start()?;
    /// let mut conn = std::net::TcpStream::connect(server.local_addr())?;
    /// conn.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")?;
    /// let mut response = String::new();
    /// conn.read_to_string(&mut response)?;
    /// assert!(response.starts_with("HTTP/1.1 200 OK\r\n"));
    /// assert!(response.contains("\neventlog_records_emitted_total 1\n"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn start(self) -> Result<MetricsServer, MetricsServerError> {
        let listener =
            TcpListener::bind(self.address).map_err(|source| MetricsServerError::Bind {
                address: self.address,
                source,
            })?;
        let local = listener
            .local_addr()
            .map_err(|source| MetricsServerError::Bind {
                address: self.address,
                source,
            })?;
        let state = Arc::new(State {
            sources: self.sources,
            health: self.health,
            request_timeout: self.request_timeout,
            stop: AtomicBool::new(false),
            open: AtomicUsize::new(0),
        });
        let accept_state = Arc::clone(&state);
        let thread = std::thread::Builder::new()
            .name("eventlog-metrics".into())
            .spawn(move || accept_loop(&listener, &accept_state))
            .map_err(MetricsServerError::Thread)?;
        Ok(MetricsServer {
            local,
            state,
            thread: Some(thread),
        })
    }
}

struct State {
    sources: Vec<Box<dyn MetricSource>>,
    health: Option<HealthCheck>,
    request_timeout: Duration,
    stop: AtomicBool,
    /// Connections being served now.
    open: AtomicUsize,
}

/// The running endpoint; dropping it stops accepting connections (the
/// ones being served finish within the request timeout).
///
/// ```
/// let server = eventlog::MetricsServer::builder().start()?;
/// let addr = server.local_addr();
/// assert!(addr.ip().is_loopback());
/// drop(server);
/// assert!(std::net::TcpStream::connect(addr).is_err(), "stopped");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[must_use = "dropping the server stops it at once"]
pub struct MetricsServer {
    local: SocketAddr,
    state: Arc<State>,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for MetricsServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetricsServer")
            .field("local_addr", &self.local)
            .finish_non_exhaustive()
    }
}

impl MetricsServer {
    /// A builder with the defaults; see [`MetricsServerBuilder::new`].
    ///
    /// ```
    /// let b = eventlog::MetricsServer::builder();
    /// assert_eq!(b.address_setting(), eventlog::DEFAULT_METRICS_ADDRESS);
    /// ```
    pub fn builder() -> MetricsServerBuilder {
        MetricsServerBuilder::new()
    }

    /// The address it listens on (with the port the OS picked).
    ///
    /// ```
    /// let server = eventlog::MetricsServer::builder().start()?;
    /// assert_ne!(server.local_addr().port(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        // Wake the blocking `accept` with a connection of our own.
        let mut wake = self.local;
        if wake.ip().is_unspecified() {
            wake.set_ip(match wake.ip() {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
            });
        }
        let accepted = TcpStream::connect_timeout(&wake, Duration::from_secs(1)).is_ok();
        if let Some(thread) = self.thread.take()
            && accepted
        {
            let _ = thread.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, state: &Arc<State>) {
    for conn in listener.incoming() {
        if state.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(mut conn) = conn else {
            // Out of descriptors, a reset before accept: go on.
            continue;
        };
        if state.open.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
            state.open.fetch_sub(1, Ordering::SeqCst);
            let _ = conn.set_write_timeout(Some(Duration::from_millis(100)));
            let _ = respond(&mut conn, 503, "text/plain", b"too many connections\n");
            continue;
        }
        let conn_state = Arc::clone(state);
        let spawned = std::thread::Builder::new()
            .name("eventlog-metrics-conn".into())
            .stack_size(256 * 1024)
            .spawn(move || {
                // `serve` answers 500 for a source that panics; this is the
                // last line, so the count of open connections never leaks.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    serve(conn, &conn_state);
                }));
                conn_state.open.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            state.open.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// What a request head asks for.
#[derive(Debug, PartialEq, Eq)]
enum Request<'a> {
    Get(&'a str),
    OtherMethod,
    Bad,
}

/// Parses the request line of a complete head.
fn parse(head: &[u8]) -> Request<'_> {
    let Some(line) = head.split(|&b| b == b'\n').next() else {
        return Request::Bad;
    };
    let Ok(line) = std::str::from_utf8(line) else {
        return Request::Bad;
    };
    let mut parts = line.trim_end_matches('\r').split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Request::Bad;
    };
    if !version.starts_with("HTTP/1.") || !target.starts_with('/') {
        return Request::Bad;
    }
    let path = target.split(['?', '#']).next().unwrap_or(target);
    match method {
        "GET" => Request::Get(path),
        m if !m.is_empty() && m.bytes().all(|b| b.is_ascii_uppercase()) => Request::OtherMethod,
        _ => Request::Bad,
    }
}

/// Reads one request head (bounded in bytes and time), answers it, closes.
fn serve(mut conn: TcpStream, state: &State) {
    let deadline = Instant::now() + state.request_timeout;
    let _ = conn.set_write_timeout(Some(state.request_timeout));
    let mut head = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    let complete = loop {
        if head.windows(4).any(|w| w == b"\r\n\r\n") || head.windows(2).any(|w| w == b"\n\n") {
            break true;
        }
        if head.len() > MAX_REQUEST_BYTES {
            let _ = respond(&mut conn, 431, "text/plain", b"request header too large\n");
            linger(conn, deadline);
            return;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || conn.set_read_timeout(Some(left)).is_err() {
            break false;
        }
        match conn.read(&mut chunk) {
            Ok(0) | Err(_) => break false,
            Ok(n) => head.extend_from_slice(&chunk[..n]),
        }
    };
    if !complete {
        // Timed out or closed early: nothing to answer.
        let _ = conn.shutdown(Shutdown::Both);
        return;
    }
    let _ = match parse(&head) {
        Request::Get("/metrics") => {
            // Sources and output checks are the caller's code: one that
            // panics gets a 500, and the server serves the next request.
            let text = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut metrics = Vec::new();
                for source in &state.sources {
                    source.collect(&mut metrics);
                }
                prometheus_text(&metrics)
            }));
            match text {
                Ok(text) => respond(&mut conn, 200, PROMETHEUS_CONTENT_TYPE, text.as_bytes()),
                Err(_) => respond(&mut conn, 500, "text/plain", b"a metric source panicked\n"),
            }
        }
        Request::Get("/health") if state.health.is_some() => {
            let health = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                state
                    .health
                    .as_ref()
                    .map(HealthCheck::health)
                    .unwrap_or_default()
            }));
            match health {
                Ok(health) => {
                    let status = if health.is_healthy() { 200 } else { 503 };
                    respond(
                        &mut conn,
                        status,
                        "application/json",
                        health.to_json().as_bytes(),
                    )
                }
                Err(_) => respond(
                    &mut conn,
                    500,
                    "text/plain",
                    b"an output's health check panicked\n",
                ),
            }
        }
        Request::Get(_) => respond(&mut conn, 404, "text/plain", b"not found\n"),
        Request::OtherMethod => respond(&mut conn, 405, "text/plain", b"method not allowed\n"),
        Request::Bad => respond(&mut conn, 400, "text/plain", b"bad request\n"),
    };
    linger(conn, deadline);
}

/// Closes after the answer without losing it: closing with unread bytes
/// in the receive buffer sends a reset, which can destroy the answer on
/// its way; so end our side, then read and discard what the client still
/// sends (bounded in bytes and by the request deadline) until it closes.
fn linger(mut conn: TcpStream, deadline: Instant) {
    let _ = conn.shutdown(Shutdown::Write);
    let mut sink = [0u8; 4096];
    let mut budget: usize = 1 << 20;
    while budget > 0 {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || conn.set_read_timeout(Some(left)).is_err() {
            break;
        }
        match conn.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(n) => budget = budget.saturating_sub(n),
        }
    }
}

fn respond(conn: &mut TcpStream, status: u16, content_type: &str, body: &[u8]) -> io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        _ => "Service Unavailable",
    };
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if status == 405 {
        out.push_str("Allow: GET\r\n");
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    conn.write_all(&bytes)?;
    conn.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines_parse_or_are_refused() {
        assert_eq!(
            parse(b"GET /metrics HTTP/1.1\r\n\r\n"),
            Request::Get("/metrics")
        );
        assert_eq!(
            parse(b"GET /health?verbose=1 HTTP/1.0\r\n\r\n"),
            Request::Get("/health")
        );
        assert_eq!(
            parse(b"POST /metrics HTTP/1.1\r\n\r\n"),
            Request::OtherMethod
        );
        for bad in [
            &b"\xff\xfe garbage\r\n\r\n"[..],
            b"GET\r\n\r\n",
            b"GET /metrics\r\n\r\n",
            b"GET metrics HTTP/1.1\r\n\r\n",
            b"GET /metrics SPDY/3\r\n\r\n",
            b"get /metrics HTTP/1.1\r\n\r\n",
            b"GET /a b HTTP/1.1\r\n\r\n",
            b"",
        ] {
            assert_eq!(parse(bad), Request::Bad, "{bad:?}");
        }
    }
}
