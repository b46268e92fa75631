//! The one record per exchange: `http_request_completed` (server side) and
//! `http_client_request_completed` (client side), at a level chosen by the
//! outcome.
//!
//! ```text
//! status < 400 ─> INFO  system_event
//! 4xx          ─> WARN  system_event
//! 5xx, panic, timeout, service or transport error ─> ERROR  error (error_type says which)
//! ```

use std::time::Instant;

use http::StatusCode;

/// The event name of the server side's record.
pub(crate) const SERVER_EVENT: &str = "http_request_completed";
/// The event name of the client side's record.
pub(crate) const CLIENT_EVENT: &str = "http_client_request_completed";

/// How an exchange ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A response with this status.
    Status(StatusCode),
    /// The handler panicked; the layer answered 500.
    Panic,
    /// The handler did not answer in time; the layer answered 504.
    Timeout,
    /// The service returned an error instead of a response.
    Error,
}

impl Outcome {
    /// The status the client saw, if there was a response.
    pub(crate) fn status(self) -> Option<u16> {
        match self {
            Self::Status(s) => Some(s.as_u16()),
            Self::Panic => Some(500),
            Self::Timeout => Some(504),
            Self::Error => None,
        }
    }

    /// The error record's message, in words (the schema's `error` category
    /// requires one); the details, when there are any, are in
    /// `exception.message`.
    fn describe(self) -> &'static str {
        match self {
            Self::Status(s) if s.is_server_error() => "the response is a server error (5xx)",
            Self::Status(_) => "the exchange completed",
            Self::Panic => "the handler panicked",
            Self::Timeout => "the handler did not answer in time",
            Self::Error => "the exchange failed without a response",
        }
    }

    /// The level of the record, and for an error its `error_type`.
    fn level(self, transport: &'static str) -> (tracing::Level, Option<&'static str>) {
        match self {
            Self::Status(s) if s.is_server_error() => (tracing::Level::ERROR, Some("http_5xx")),
            Self::Status(s) if s.is_client_error() => (tracing::Level::WARN, None),
            Self::Status(_) => (tracing::Level::INFO, None),
            Self::Panic => (tracing::Level::ERROR, Some("panic")),
            Self::Timeout => (tracing::Level::ERROR, Some("timeout")),
            Self::Error => (tracing::Level::ERROR, Some(transport)),
        }
    }
}

/// What the record says beside the outcome.
#[derive(Debug)]
pub(crate) struct Completed<'a> {
    pub(crate) outcome: Outcome,
    pub(crate) start: Instant,
    pub(crate) request_size: Option<u64>,
    pub(crate) response_size: Option<u64>,
    /// The panic message or the error's text.
    pub(crate) message: Option<&'a str>,
}

impl Completed<'_> {
    fn latency_ms(&self) -> f64 {
        self.start.elapsed().as_secs_f64() * 1000.0
    }
}

// One macro per side, because a `tracing` event's level, target and name
// are fixed at its callsite: the three arms are the three callsites.
macro_rules! completed {
    ($target:literal, $name:expr, $transport:literal, $c:expr) => {{
        let c = $c;
        let (level, error_type) = c.outcome.level($transport);
        let status = c.outcome.status();
        let latency_ms = c.latency_ms();
        match level {
            tracing::Level::ERROR => tracing::error!(
                target: $target,
                event_name = $name,
                event_type = "error",
                error_type,
                http.response.status_code = status,
                latency_ms,
                http.request.body.size = c.request_size,
                http.response.body.size = c.response_size,
                exception.message = c.message,
                "{}",
                c.outcome.describe(),
            ),
            tracing::Level::WARN => tracing::warn!(
                target: $target,
                event_name = $name,
                event_type = "system_event",
                http.response.status_code = status,
                latency_ms,
                http.request.body.size = c.request_size,
                http.response.body.size = c.response_size,
            ),
            _ => tracing::info!(
                target: $target,
                event_name = $name,
                event_type = "system_event",
                http.response.status_code = status,
                latency_ms,
                http.request.body.size = c.request_size,
                http.response.body.size = c.response_size,
            ),
        }
    }};
}

/// Emits the server side's record, in the current span.
pub(crate) fn server(c: &Completed<'_>) {
    completed!("eventlog_http::server", SERVER_EVENT, "service_error", c);
}

/// Emits the client side's record, in the current span.
pub(crate) fn client(c: &Completed<'_>) {
    completed!("eventlog_http::client", CLIENT_EVENT, "transport", c);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_follow_the_status() {
        let level = |o: Outcome| o.level("transport");
        assert_eq!(
            level(Outcome::Status(StatusCode::OK)),
            (tracing::Level::INFO, None)
        );
        assert_eq!(
            level(Outcome::Status(StatusCode::FOUND)),
            (tracing::Level::INFO, None)
        );
        assert_eq!(
            level(Outcome::Status(StatusCode::NOT_FOUND)),
            (tracing::Level::WARN, None)
        );
        assert_eq!(
            level(Outcome::Status(StatusCode::BAD_GATEWAY)),
            (tracing::Level::ERROR, Some("http_5xx"))
        );
        assert_eq!(
            level(Outcome::Panic),
            (tracing::Level::ERROR, Some("panic"))
        );
        assert_eq!(
            level(Outcome::Timeout),
            (tracing::Level::ERROR, Some("timeout"))
        );
        assert_eq!(
            level(Outcome::Error),
            (tracing::Level::ERROR, Some("transport"))
        );
        assert_eq!(Outcome::Error.status(), None);
    }
}
