//! Errors: building an output, and shutting one down.

use std::time::Duration;

/// Why an [`OtlpOutput`](crate::OtlpOutput) could not be built.
///
/// Returned by [`OtlpOutputBuilder::build`](crate::OtlpOutputBuilder::build)
/// and [`OtlpLayerBuilder::build`](crate::OtlpLayerBuilder::build): bad
/// configuration is an error at build time, never a panic later.
///
/// ```
/// use eventlog_otlp::{OtlpError, OtlpOutput};
///
/// let err = OtlpOutput::builder().endpoint("127.0.0.1:4317").build().unwrap_err();
/// assert!(matches!(err, OtlpError::Endpoint { .. }));
/// assert_eq!(
///     err.to_string(),
///     "invalid OTLP endpoint `127.0.0.1:4317` (from the builder): the scheme must be http or https"
/// );
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OtlpError {
    /// The endpoint is not an `http://` or `https://` URL with a host and,
    /// if any, a port from 1 to 65535 (`https://` needs the `tls` feature;
    /// credentials in the URL are refused, send them in a header). Fix the
    /// value in code or in the variable named by `from`.
    #[error("invalid OTLP endpoint `{value}` (from {from}): {reason}")]
    Endpoint {
        /// The offending value (with any `user:password@` masked as `***@`).
        value: String,
        /// Where it came from: `the builder` or a variable name.
        from: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An `OTEL_EXPORTER_OTLP_*`, `OTEL_RESOURCE_ATTRIBUTES` or
    /// `OTEL_SERVICE_NAME` variable holds a value this crate cannot use
    /// (the values of a `…_HEADERS` variable are masked as `***`). Fix or
    /// unset the variable.
    #[error("{name}={value:?} is not valid: expected {expected}")]
    Env {
        /// The variable.
        name: &'static str,
        /// Its value (header values masked).
        value: String,
        /// What it should hold.
        expected: &'static str,
    },
    /// The chosen protocol (or compression, or TLS) needs a cargo feature
    /// that is off. Turn the feature on.
    #[error("{what} needs the `{feature}` feature of eventlog-otlp")]
    FeatureDisabled {
        /// What was asked for (`http/protobuf`, `gzip`, `https`).
        what: &'static str,
        /// The feature that provides it.
        feature: &'static str,
    },
    /// A builder setting is out of range (a zero batch size, a zero byte
    /// budget, a timeout under 1 ms). The message names the setting and
    /// the value. Settings with a documented bound are clamped instead.
    #[error("invalid setting `{setting}` ({value}): {reason}")]
    Setting {
        /// The builder method.
        setting: &'static str,
        /// The rejected value, as written by `Debug`.
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// A header (gRPC metadata), from the builder or an
    /// `OTEL_EXPORTER_OTLP_[LOGS_]HEADERS` variable, cannot be sent: a name
    /// that is not a header name or that the exporter sets itself, or a
    /// value with control characters or non-ASCII text. The value is not
    /// repeated here (headers usually carry credentials). Fix it where
    /// `from` says.
    ///
    /// ```
    /// use eventlog_otlp::{OtlpError, OtlpOutput};
    ///
    /// let err = OtlpOutput::builder().header("x-api-key", "k\r\nx-evil: 1").build().unwrap_err();
    /// assert!(matches!(&err, OtlpError::Header { key, .. } if key == "x-api-key"));
    /// assert_eq!(
    ///     err.to_string(),
    ///     "invalid OTLP header `x-api-key` (from the builder): the value must be printable ASCII (no control characters, no non-ASCII)"
    /// );
    /// ```
    #[error("invalid OTLP header `{}` (from {from}): {reason}", .key.escape_debug())]
    Header {
        /// The header's name, as given.
        key: String,
        /// Where it came from: `the builder` or a variable name.
        from: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A certificate or key file for an `https://` endpoint cannot be used:
    /// missing or unreadable, no PEM certificate (or key) in it, a key that
    /// does not fit its certificate, or a client certificate without its
    /// key. Problems only the collector can show (a wrong CA, an expired
    /// certificate) fail at connect instead: see
    /// [`OtlpOutput::last_error`](crate::OtlpOutput::last_error).
    ///
    /// ```
    /// # #[cfg(feature = "tls")] {
    /// use eventlog_otlp::{OtlpError, OtlpOutput};
    ///
    /// let err = OtlpOutput::builder()
    ///     .endpoint("https://collector:4317")
    ///     .tls_ca_certificate("/nonexistent/ca.pem")
    ///     .build()
    ///     .unwrap_err();
    /// assert!(matches!(&err, OtlpError::Tls { what: "CA certificate", .. }));
    /// assert!(err.to_string().starts_with(
    ///     "cannot use the OTLP CA certificate /nonexistent/ca.pem (from the builder): cannot open it"
    /// ));
    /// # }
    /// ```
    #[error("cannot use the OTLP {what} {} (from {from}): {reason}", .path.display())]
    Tls {
        /// Which file: `CA certificate`, `client certificate` or `client key`.
        what: &'static str,
        /// Its path.
        path: std::path::PathBuf,
        /// Where the path came from: `the builder` or a variable name.
        from: String,
        /// What is wrong with it (never the file's content).
        reason: String,
    },
    /// The HTTP client could not be built (for example, the system's TLS
    /// or proxy configuration could not be read).
    #[error("cannot build the OTLP client")]
    Client(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The export thread or its runtime could not be started.
    #[error("cannot start the OTLP export thread")]
    Thread(#[source] std::io::Error),
}

/// Why a guard's `flush_within` or `shutdown` did not finish: the same
/// two cases, under the same names, as `eventlog_appender::GuardError`.
///
/// ```
/// use eventlog_otlp::OtlpGuardError;
/// use std::time::Duration;
///
/// let err = OtlpGuardError::Timeout { timeout: Duration::from_secs(5), pending_records: 12 };
/// assert_eq!(err.to_string(), "OTLP export did not finish within 5s (12 records still queued)");
/// assert_eq!(OtlpGuardError::WorkerStopped.to_string(), "the OTLP export thread has stopped");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OtlpGuardError {
    /// The queue was not empty when the timeout expired (the collector was
    /// down or slow). After a flush the records stay queued and export
    /// goes on; at shutdown they are dropped and counted
    /// ([`OtlpStats::dropped_shutdown`](crate::OtlpStats::dropped_shutdown)).
    #[error(
        "OTLP export did not finish within {timeout:?} ({pending_records} records still queued)"
    )]
    Timeout {
        /// The timeout that expired.
        timeout: Duration,
        /// Records queued or in flight when it expired.
        pending_records: u64,
    },
    /// The export threads have stopped (the guard shut them down, or one
    /// stopped abnormally). Records left behind are counted as dropped
    /// ([`OtlpStats::dropped_shutdown`](crate::OtlpStats::dropped_shutdown)).
    /// Not expected while running: an export thread catches a panic of its
    /// transport and counts the batch as rejected.
    #[error("the OTLP export thread has stopped")]
    WorkerStopped,
}

/// The name of [`OtlpGuardError`] before the guards of both crates shared
/// their words.
#[deprecated(since = "0.2.0", note = "renamed to `OtlpGuardError`")]
pub type ShutdownError = OtlpGuardError;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_culprit() {
        let e = OtlpError::Env {
            name: "OTEL_EXPORTER_OTLP_TIMEOUT",
            value: "soon".into(),
            expected: "milliseconds as an integer",
        };
        assert_eq!(
            e.to_string(),
            "OTEL_EXPORTER_OTLP_TIMEOUT=\"soon\" is not valid: expected milliseconds as an integer"
        );
        let e = OtlpError::FeatureDisabled {
            what: "http/protobuf",
            feature: "http",
        };
        assert_eq!(
            e.to_string(),
            "http/protobuf needs the `http` feature of eventlog-otlp"
        );
    }
}
