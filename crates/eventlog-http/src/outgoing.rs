//! The allow-list of headers the client side sends.
//!
//! ```text
//! current span ─> eventlog::current_context() ─> traceparent, request / correlation id
//!              └> tracestate (kept by the server layer)
//!                                           └─> only the headers on the list ─> outgoing request
//! ```

use http::header::{HeaderMap, HeaderName, HeaderValue};

use crate::error::{HttpConfigError, quoted};

/// Which context headers an outgoing request carries: an allow-list.
///
/// By default: `traceparent`, `tracestate` (when the incoming request had
/// one), `x-request-id` and `x-correlation-id`. `user_id` and
/// `session_id` never leave the process unless a header name is given for
/// them ([`user_id_header`](OutgoingHeadersBuilder::user_id_header),
/// [`session_id_header`](OutgoingHeadersBuilder::session_id_header)).
///
/// ```
/// use eventlog_http::OutgoingHeaders;
///
/// let default = OutgoingHeaders::default();
/// assert_eq!(default.names(), ["traceparent", "tracestate", "x-request-id", "x-correlation-id"]);
///
/// let with_user = OutgoingHeaders::builder().user_id_header("x-user-id").build()?;
/// assert_eq!(with_user.names().last(), Some(&"x-user-id"));
/// # Ok::<(), eventlog_http::HttpConfigError>(())
/// ```
// The fields are named for the correlation fields they carry.
#[allow(clippy::struct_field_names)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingHeaders {
    request_id: HeaderName,
    correlation_id: HeaderName,
    user_id: Option<HeaderName>,
    session_id: Option<HeaderName>,
}

impl Default for OutgoingHeaders {
    fn default() -> Self {
        Self {
            request_id: HeaderName::from_static("x-request-id"),
            correlation_id: HeaderName::from_static("x-correlation-id"),
            user_id: None,
            session_id: None,
        }
    }
}

impl OutgoingHeaders {
    /// A builder, starting from the default list.
    ///
    /// ```
    /// let headers = eventlog_http::OutgoingHeaders::builder().request_id_header("X-Trace-Req").build()?;
    /// assert_eq!(headers.names()[2], "x-trace-req");
    /// # Ok::<(), eventlog_http::HttpConfigError>(())
    /// ```
    pub fn builder() -> OutgoingHeadersBuilder {
        OutgoingHeadersBuilder::default()
    }

    /// The header names that may be sent, in the order they are written.
    ///
    /// ```
    /// assert_eq!(eventlog_http::OutgoingHeaders::default().names().len(), 4);
    /// ```
    pub fn names(&self) -> Vec<&str> {
        let mut names = vec![
            "traceparent",
            "tracestate",
            self.request_id.as_str(),
            self.correlation_id.as_str(),
        ];
        names.extend(self.session_id.as_ref().map(HeaderName::as_str));
        names.extend(self.user_id.as_ref().map(HeaderName::as_str));
        names
    }

    /// Writes the current span's context into `headers`: the names on the
    /// list whose values are known, replacing any already there. Outside
    /// any span (or without the eventlog layer) nothing is written. A
    /// correlation value that is not a valid header value is left out.
    ///
    /// ```
    /// use tracing_subscriber::prelude::*;
    ///
    /// let subscriber = tracing_subscriber::registry().with(eventlog::layer().writer(std::io::sink));
    /// let mut headers = http::HeaderMap::new();
    /// tracing::subscriber::with_default(subscriber, || {
    ///     let _s = tracing::info_span!("call", request_id = "r-1", user_id = "u-9").entered();
    ///     eventlog_http::OutgoingHeaders::default().apply(&mut headers);
    /// });
    /// assert_eq!(headers["x-request-id"], "r-1");
    /// assert_eq!(headers["traceparent"].len(), 55);
    /// assert!(headers.get("x-user-id").is_none());
    /// ```
    pub fn apply(&self, headers: &mut HeaderMap) {
        let Some(cx) = eventlog::current_context() else {
            return;
        };
        if let Ok(v) = HeaderValue::from_str(&cx.traceparent()) {
            headers.insert(HeaderName::from_static("traceparent"), v);
        }
        if let Some(state) = crate::tracestate::current() {
            headers.insert(HeaderName::from_static("tracestate"), state);
        }
        let fields = [
            ("request_id", Some(&self.request_id)),
            ("correlation_id", Some(&self.correlation_id)),
            ("session_id", self.session_id.as_ref()),
            ("user_id", self.user_id.as_ref()),
        ];
        for (field, name) in fields {
            let (Some(name), Some(value)) = (name, cx.get(field)) else {
                continue;
            };
            if let Ok(v) = HeaderValue::from_str(value) {
                headers.insert(name.clone(), v);
            }
        }
    }
}

/// Builds an [`OutgoingHeaders`] list; `build()` checks the header names.
///
/// | setting | default |
/// |---|---|
/// | `request_id_header` | `x-request-id` |
/// | `correlation_id_header` | `x-correlation-id` |
/// | `user_id_header` | none: `user_id` is not sent |
/// | `session_id_header` | none: `session_id` is not sent |
///
/// ```
/// let headers = eventlog_http::OutgoingHeaders::builder()
///     .session_id_header("x-session-id")
///     .build()?;
/// assert!(headers.names().contains(&"x-session-id"));
/// assert!(!headers.names().contains(&"x-user-id"));
/// # Ok::<(), eventlog_http::HttpConfigError>(())
/// ```
#[allow(clippy::struct_field_names)]
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct OutgoingHeadersBuilder {
    request_id: Option<String>,
    correlation_id: Option<String>,
    user_id: Option<String>,
    session_id: Option<String>,
}

impl OutgoingHeadersBuilder {
    /// The header that carries `request_id` (default `x-request-id`).
    ///
    /// ```
    /// use tracing_subscriber::prelude::*;
    ///
    /// let subscriber = tracing_subscriber::registry().with(eventlog::layer().writer(std::io::sink));
    /// let _default = tracing::subscriber::set_default(subscriber);
    /// let list = eventlog_http::OutgoingHeaders::builder().request_id_header("X-Req").build()?;
    /// assert_eq!(list.names()[2], "x-req");
    /// let mut headers = http::HeaderMap::new();
    /// let _s = tracing::info_span!("call", request_id = "r-1").entered();
    /// list.apply(&mut headers);
    /// assert_eq!(headers["x-req"], "r-1");
    /// assert!(headers.get("x-request-id").is_none());
    /// # Ok::<(), eventlog_http::HttpConfigError>(())
    /// ```
    pub fn request_id_header(mut self, name: impl Into<String>) -> Self {
        self.request_id = Some(name.into());
        self
    }

    /// The header that carries `correlation_id` (default `x-correlation-id`).
    ///
    /// ```
    /// use tracing_subscriber::prelude::*;
    ///
    /// let subscriber = tracing_subscriber::registry().with(eventlog::layer().writer(std::io::sink));
    /// let _default = tracing::subscriber::set_default(subscriber);
    /// let list = eventlog_http::OutgoingHeaders::builder().correlation_id_header("X-Flow-Id").build()?;
    /// assert_eq!(list.names()[3], "x-flow-id");
    /// let mut headers = http::HeaderMap::new();
    /// let _s = tracing::info_span!("call", correlation_id = "flow-1").entered();
    /// list.apply(&mut headers);
    /// assert_eq!(headers["x-flow-id"], "flow-1");
    /// assert!(headers.get("x-correlation-id").is_none());
    /// # Ok::<(), eventlog_http::HttpConfigError>(())
    /// ```
    pub fn correlation_id_header(mut self, name: impl Into<String>) -> Self {
        self.correlation_id = Some(name.into());
        self
    }

    /// Sends `user_id` under this header: the opt-in for an id that names a person.
    ///
    /// ```
    /// use tracing_subscriber::prelude::*;
    ///
    /// let subscriber = tracing_subscriber::registry().with(eventlog::layer().writer(std::io::sink));
    /// let _default = tracing::subscriber::set_default(subscriber);
    /// let _s = tracing::info_span!("call", user_id = "u-9").entered();
    /// let mut default = http::HeaderMap::new();
    /// eventlog_http::OutgoingHeaders::default().apply(&mut default);
    /// assert!(default.get("x-user-id").is_none());
    ///
    /// let list = eventlog_http::OutgoingHeaders::builder().user_id_header("X-User-Id").build()?;
    /// let mut headers = http::HeaderMap::new();
    /// list.apply(&mut headers);
    /// assert_eq!(headers["x-user-id"], "u-9");
    /// # Ok::<(), eventlog_http::HttpConfigError>(())
    /// ```
    pub fn user_id_header(mut self, name: impl Into<String>) -> Self {
        self.user_id = Some(name.into());
        self
    }

    /// Sends `session_id` under this header: the opt-in for an id that names a person.
    ///
    /// ```
    /// use tracing_subscriber::prelude::*;
    ///
    /// let subscriber = tracing_subscriber::registry().with(eventlog::layer().writer(std::io::sink));
    /// let _default = tracing::subscriber::set_default(subscriber);
    /// let _s = tracing::info_span!("call", session_id = "s-3").entered();
    /// let mut default = http::HeaderMap::new();
    /// eventlog_http::OutgoingHeaders::default().apply(&mut default);
    /// assert!(default.get("x-session-id").is_none());
    ///
    /// let list = eventlog_http::OutgoingHeaders::builder().session_id_header("x-session-id").build()?;
    /// let mut headers = http::HeaderMap::new();
    /// list.apply(&mut headers);
    /// assert_eq!(headers["x-session-id"], "s-3");
    /// # Ok::<(), eventlog_http::HttpConfigError>(())
    /// ```
    pub fn session_id_header(mut self, name: impl Into<String>) -> Self {
        self.session_id = Some(name.into());
        self
    }

    /// The list, or the first header name that is not one.
    ///
    /// ```
    /// let err = eventlog_http::OutgoingHeaders::builder().user_id_header("").build().unwrap_err();
    /// assert_eq!(err.to_string(), "`` is not a valid header name");
    /// ```
    pub fn build(self) -> Result<OutgoingHeaders, HttpConfigError> {
        let default = OutgoingHeaders::default();
        Ok(OutgoingHeaders {
            request_id: self
                .request_id
                .as_deref()
                .map_or(Ok(default.request_id), header_name)?,
            correlation_id: self
                .correlation_id
                .as_deref()
                .map_or(Ok(default.correlation_id), header_name)?,
            user_id: self.user_id.as_deref().map(header_name).transpose()?,
            session_id: self.session_id.as_deref().map(header_name).transpose()?,
        })
    }
}

/// A header name from a setting (any case), or the typed error naming it.
pub(crate) fn header_name(name: &str) -> Result<HeaderName, HttpConfigError> {
    HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes())
        .map_err(|_| HttpConfigError::HeaderName { name: quoted(name) })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn any_header_name_setting_is_a_name_or_a_typed_error(name in "\\PC{0,40}|[a-zA-Z0-9!#$%&'*+.^_`|~-]{1,40}") {
            match OutgoingHeaders::builder().user_id_header(name.clone()).build() {
                Ok(h) => {
                    let lower = name.to_ascii_lowercase();
                    prop_assert_eq!(h.names().last().copied(), Some(lower.as_str()));
                }
                Err(HttpConfigError::HeaderName { name: n }) => prop_assert_eq!(n, quoted(&name)),
                Err(e) => prop_assert!(false, "{e}"),
            }
        }
    }

    #[test]
    fn a_huge_header_name_is_a_typed_error() {
        let name = "x".repeat(100 << 10);
        let err = OutgoingHeaders::builder()
            .request_id_header(name)
            .build()
            .unwrap_err();
        assert_eq!(
            err,
            HttpConfigError::HeaderName {
                name: "x".repeat(64)
            }
        );
    }
}
