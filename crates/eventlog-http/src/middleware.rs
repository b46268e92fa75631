//! The client side for `reqwest-middleware` (feature `reqwest`).
//!
//! ```text
//! request ─> span outgoing_request ─> OutgoingHeaders::apply ─> next.run ─> http_client_request_completed
//! ```

use std::time::Instant;

use http::Extensions;
use reqwest_middleware::{Middleware, Next};
use tracing::Instrument;

use crate::client::outgoing_span;
use crate::completion::{self, Completed, Outcome};
use crate::outgoing::OutgoingHeaders;

/// A `reqwest-middleware` middleware doing what [`ClientLayer`](crate::ClientLayer)
/// does for tower clients: a span `outgoing_request` per request, the
/// headers an [`OutgoingHeaders`] list allows, and one
/// `http_client_request_completed` record (`http.response.status_code`,
/// `latency_ms`; ERROR with `error_type` `transport` when reqwest fails).
///
/// ```
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(eventlog_http::ClientMiddleware::new())
///     .build();
/// # let _ = client;
/// let middleware = eventlog_http::ClientMiddleware::with_headers(
///     eventlog_http::OutgoingHeaders::builder().user_id_header("x-user-id").build()?,
/// );
/// assert!(middleware.headers().names().contains(&"x-user-id"));
/// # Ok::<(), eventlog_http::HttpConfigError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct ClientMiddleware {
    headers: OutgoingHeaders,
}

impl ClientMiddleware {
    /// A middleware sending the default [`OutgoingHeaders`].
    ///
    /// ```
    /// assert_eq!(eventlog_http::ClientMiddleware::new().headers().names().len(), 4);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// A middleware sending the headers on `headers`.
    ///
    /// ```
    /// let list = eventlog_http::OutgoingHeaders::builder().request_id_header("x-req").build()?;
    /// let middleware = eventlog_http::ClientMiddleware::with_headers(list.clone());
    /// assert_eq!(middleware.headers(), &list);
    /// assert_eq!(middleware.headers().names()[2], "x-req");
    /// # Ok::<(), eventlog_http::HttpConfigError>(())
    /// ```
    pub fn with_headers(headers: OutgoingHeaders) -> Self {
        Self { headers }
    }

    /// The allow-list this middleware sends.
    ///
    /// ```
    /// let middleware = eventlog_http::ClientMiddleware::new();
    /// assert_eq!(middleware.headers(), &eventlog_http::OutgoingHeaders::default());
    /// assert!(!middleware.headers().names().contains(&"x-user-id"));
    /// ```
    pub fn headers(&self) -> &OutgoingHeaders {
        &self.headers
    }
}

#[async_trait::async_trait]
impl Middleware for ClientMiddleware {
    async fn handle(
        &self,
        mut req: reqwest::Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> reqwest_middleware::Result<reqwest::Response> {
        let start = Instant::now();
        let url = req.url();
        let span = outgoing_span(
            req.method(),
            url.host_str(),
            url.port_or_known_default(),
            url.path(),
        );
        let request_size = req
            .body()
            .and_then(reqwest::Body::as_bytes)
            .map(|b| b.len() as u64);
        span.in_scope(|| self.headers.apply(req.headers_mut()));
        let result = next.run(req, extensions).instrument(span.clone()).await;
        let _entered = span.enter();
        let mut completed = Completed {
            outcome: Outcome::Error,
            start,
            request_size,
            response_size: None,
            message: None,
        };
        match &result {
            Ok(response) => {
                completed.outcome = Outcome::Status(response.status());
                completed.response_size = response.content_length();
                completion::client(&completed);
            }
            Err(error) => {
                let message = error.to_string();
                completed.message = Some(&message);
                completion::client(&completed);
            }
        }
        result
    }
}
