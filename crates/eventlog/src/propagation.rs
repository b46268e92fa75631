//! Propagation: the current span's context as it leaves the process
//! (`traceparent`, `X-Request-ID`, …) for the next service.
//!
//! ```text
//! current_context() ─> PropagationContext ─> headers for the next service
//! ```

use tracing_subscriber::Registry;
use tracing_subscriber::registry::LookupSpan;

use crate::layer::SpanState;
use crate::trace::{SpanId, TraceContext, TraceId};

/// The current span's trace ids and correlation fields, ready to send to
/// the next service so its events join the same trace.
///
/// Get it with [`current_context`]. On the receiving side, record the
/// `traceparent` value as a span field and the ids continue:
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// let capture = eventlog::testing::Capture::new();
/// let subscriber = tracing_subscriber::registry().with(eventlog::layer().writer(capture.clone()));
/// tracing::subscriber::with_default(subscriber, || {
///     // Service A handles a request and calls service B.
///     let headers = {
///         let _req = tracing::info_span!("checkout", correlation_id = "c-77").entered();
///         tracing::info!(event_name = "payment_requested");
///         eventlog::current_context().expect("inside a span").headers()
///     };
///     // Service B receives the headers.
///     let get = |name: &str| headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.clone());
///     let _req = tracing::info_span!(
///         "charge",
///         traceparent = get("traceparent").unwrap(),
///         correlation_id = get("x-correlation-id").unwrap(),
///     )
///     .entered();
///     tracing::info!(event_name = "payment_captured");
/// });
/// let a = capture.expect_event("payment_requested");
/// let b = capture.expect_event("payment_captured");
/// assert_eq!(a.get("trace_id"), b.get("trace_id"));
/// assert_eq!(b.get("correlation_id").unwrap(), "c-77");
/// assert_ne!(a.get("span_id"), b.get("span_id"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropagationContext {
    trace: TraceContext,
    correlation: Vec<(String, String)>,
}

/// Header names for correlation fields, by field name.
const HEADER_NAMES: [(&str, &str); 4] = [
    ("request_id", "x-request-id"),
    ("correlation_id", "x-correlation-id"),
    ("session_id", "x-session-id"),
    ("user_id", "x-user-id"),
];

/// The correlation fields [`PropagationContext::headers`] sends: the ids
/// that name a request, never the ones that name a person. `user_id` and
/// `session_id` leave the process only when asked for by name, with
/// [`PropagationContext::headers_with`].
///
/// ```
/// assert_eq!(eventlog::DEFAULT_HEADER_FIELDS, ["request_id", "correlation_id"]);
/// ```
pub const DEFAULT_HEADER_FIELDS: [&str; 2] = ["request_id", "correlation_id"];

impl PropagationContext {
    /// The trace id.
    pub fn trace_id(&self) -> TraceId {
        self.trace.trace_id()
    }

    /// The current span's id (the parent id for the next service).
    pub fn span_id(&self) -> SpanId {
        self.trace.span_id()
    }

    /// The ids as a [`TraceContext`].
    pub fn trace(&self) -> TraceContext {
        self.trace
    }

    /// The W3C `traceparent` header value.
    pub fn traceparent(&self) -> String {
        self.trace.to_traceparent()
    }

    /// A promoted correlation field (nearest span wins), by field name.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.correlation
            .iter()
            .find(|(k, _)| k == field)
            .map(|(_, v)| v.as_str())
    }

    /// The `request_id`, if a span in scope recorded one.
    pub fn request_id(&self) -> Option<&str> {
        self.get("request_id")
    }

    /// The `correlation_id`, if a span in scope recorded one.
    pub fn correlation_id(&self) -> Option<&str> {
        self.get("correlation_id")
    }

    /// Every promoted correlation field in scope, as `(field, value)`.
    pub fn correlation(&self) -> impl Iterator<Item = (&str, &str)> {
        self.correlation
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// Headers for an outgoing HTTP request or message: `traceparent`, and
    /// `x-request-id` and `x-correlation-id` for the fields that are set
    /// (the allow-list [`DEFAULT_HEADER_FIELDS`]). A `user_id` or
    /// `session_id` in scope is not sent; name it in
    /// [`headers_with`](Self::headers_with) to send it.
    ///
    /// ```
    /// use tracing_subscriber::prelude::*;
    ///
    /// let subscriber = tracing_subscriber::registry().with(eventlog::layer().writer(std::io::sink));
    /// let headers = tracing::subscriber::with_default(subscriber, || {
    ///     let _req = tracing::info_span!("checkout", request_id = "r-1", user_id = "u-9").entered();
    ///     eventlog::current_context().map(|cx| cx.headers())
    /// });
    /// let names: Vec<&str> = headers.unwrap().iter().map(|(name, _)| *name).collect();
    /// assert_eq!(names, ["traceparent", "x-request-id"]);
    /// ```
    pub fn headers(&self) -> Vec<(&'static str, String)> {
        self.headers_with(&DEFAULT_HEADER_FIELDS)
    }

    /// Headers for an outgoing request with exactly the correlation fields
    /// named in `fields` (among `request_id`, `correlation_id`,
    /// `session_id`, `user_id`; other names are ignored), plus
    /// `traceparent`. The explicit opt-in for the ids that name a person:
    ///
    /// ```
    /// use tracing_subscriber::prelude::*;
    ///
    /// let subscriber = tracing_subscriber::registry().with(eventlog::layer().writer(std::io::sink));
    /// let headers = tracing::subscriber::with_default(subscriber, || {
    ///     let _req = tracing::info_span!("checkout", request_id = "r-1", user_id = "u-9").entered();
    ///     eventlog::current_context().map(|cx| cx.headers_with(&["request_id", "user_id", "nope"]))
    /// });
    /// let headers = headers.unwrap();
    /// assert_eq!(headers[1], ("x-request-id", "r-1".to_owned()));
    /// assert_eq!(headers[2], ("x-user-id", "u-9".to_owned()));
    /// assert_eq!(headers.len(), 3);
    /// ```
    pub fn headers_with(&self, fields: &[&str]) -> Vec<(&'static str, String)> {
        let mut headers = vec![("traceparent", self.traceparent())];
        for (field, header) in HEADER_NAMES {
            if fields.contains(&field)
                && let Some(v) = self.get(field)
            {
                headers.push((header, v.to_owned()));
            }
        }
        headers
    }
}

/// The current span's propagation context, or `None` outside any span or
/// when the default subscriber is not a `tracing_subscriber::Registry` with
/// the eventlog layer in it.
///
/// See [`PropagationContext`] for a two-service example.
pub fn current_context() -> Option<PropagationContext> {
    // `Span::current` must run outside `get_default`, which does not nest.
    let span = tracing::Span::current();
    let id = span.id()?;
    tracing::dispatcher::get_default(|dispatch| {
        let registry = dispatch.downcast_ref::<Registry>()?;
        let span = registry.span(&id)?;
        let mut trace = None;
        let mut pending = false;
        let mut correlation: Vec<(String, String)> = Vec::new();
        for s in span.scope() {
            let ext = s.extensions();
            let Some(state) = ext.get::<SpanState>() else {
                continue;
            };
            if trace.is_none() {
                trace = Some(state.trace);
                pending = state.otel_pending;
            }
            let cx = state.primary();
            for p in &cx.promoted {
                if correlation.iter().all(|(k, _)| k != p.field) {
                    correlation.push((p.field.to_owned(), p.value.clone()));
                }
            }
        }
        let mut trace = trace?;
        if pending && let Some(otel) = crate::otel::trace_of(&id, dispatch) {
            trace = otel;
        }
        Some(PropagationContext { trace, correlation })
    })
}
