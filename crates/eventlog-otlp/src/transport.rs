//! Sending an encoded export request: OTLP/gRPC over tonic, OTLP/HTTP
//! (protobuf bodies) over reqwest, both on the export thread's own
//! current-thread tokio runtime.
//!
//! Each failure is classified here from its status code, as the OTLP
//! specification says: transient ones (gRPC `UNAVAILABLE`, HTTP 429, 502,
//! 503, 504, connection errors …) are retried, honouring `Retry-After`;
//! the rest are final.

use std::time::Duration;

use crate::OtlpError;
use crate::config::{Protocol, Resolved};
use crate::proto::{PartialSuccess, read_response};

/// An error and its causes, `outer: inner: …`: reqwest's and hyper's
/// messages say only "error sending request", and the cause (a refused
/// certificate, a closed connection) is what an operator needs.
#[cfg_attr(not(feature = "http"), allow(dead_code))]
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    // Bounded: a cause chain is a few links; never loop on a cyclic one.
    for _ in 0..8 {
        let Some(cause) = source else { break };
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

/// Why an export failed, and whether it may succeed later.
#[derive(Debug)]
pub(crate) struct ExportFailure {
    pub(crate) transient: bool,
    /// What the collector asked for (HTTP `Retry-After`).
    pub(crate) retry_after: Option<Duration>,
    pub(crate) message: String,
}

impl ExportFailure {
    fn transient(message: String) -> Self {
        ExportFailure {
            transient: true,
            retry_after: None,
            message,
        }
    }

    /// Encoding or sending panicked: final (retrying the same batch would
    /// likely panic again).
    pub(crate) fn panicked(payload: &(dyn std::any::Any + Send)) -> Self {
        let what = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("no message");
        ExportFailure {
            transient: false,
            retry_after: None,
            message: format!("the export panicked: {what}"),
        }
    }
}

/// The export thread's connection to the collector.
pub(crate) enum Transport {
    #[cfg(feature = "grpc")]
    Grpc(Grpc),
    #[cfg(feature = "http")]
    Http(Http),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            #[cfg(feature = "grpc")]
            Transport::Grpc(_) => f.write_str("Transport::Grpc"),
            #[cfg(feature = "http")]
            Transport::Http(h) => write!(f, "Transport::Http({})", h.url),
        }
    }
}

impl Transport {
    /// Builds the client for `r`. Must run inside `rt` (tonic spawns its
    /// connection task on the current runtime); connects lazily, so a
    /// collector that is down is not an error.
    pub(crate) fn new(r: &Resolved, rt: &tokio::runtime::Runtime) -> Result<Self, OtlpError> {
        let _enter = rt.enter();
        // Checked by `resolve_with`: every name and value can be sent.
        let headers = r.headers.clone();
        match r.protocol {
            #[cfg(feature = "grpc")]
            Protocol::Grpc => Grpc::new(r, headers).map(Transport::Grpc),
            #[cfg(feature = "http")]
            Protocol::HttpProtobuf => Http::new(r, headers).map(Transport::Http),
            #[allow(unreachable_patterns)] // `resolve` checked the feature.
            other => Err(OtlpError::FeatureDisabled {
                what: other.as_str(),
                feature: if other == Protocol::Grpc {
                    "grpc"
                } else {
                    "http"
                },
            }),
        }
    }

    /// The same client, sending `ExportMetricsServiceRequest`s instead:
    /// gRPC `MetricsService/Export`, HTTP the logs URL with `/v1/logs`
    /// replaced by `/v1/metrics` (a path not ending in `/v1/logs` is
    /// replaced by `/v1/metrics`).
    pub(crate) fn for_metrics(mut self) -> Self {
        match &mut self {
            #[cfg(feature = "grpc")]
            Transport::Grpc(g) => g.path = grpc::METRICS_PATH,
            #[cfg(feature = "http")]
            Transport::Http(h) => h.url = http_proto::metrics_url(&h.url),
        }
        self
    }

    /// Sends one export request (logs, or metrics after [`for_metrics`](Self::for_metrics)).
    pub(crate) async fn export(&mut self, body: Vec<u8>) -> Result<PartialSuccess, ExportFailure> {
        match self {
            #[cfg(feature = "grpc")]
            Transport::Grpc(g) => g.export(body).await,
            #[cfg(feature = "http")]
            Transport::Http(h) => h.export(body).await,
        }
    }
}

#[cfg(feature = "grpc")]
pub(crate) use grpc::Grpc;

#[cfg(feature = "grpc")]
mod grpc {
    use bytes::{Buf as _, BufMut as _};
    use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
    use tonic::transport::{Channel, Endpoint};

    use super::{ExportFailure, OtlpError, PartialSuccess, Resolved, read_response, with_causes};

    const EXPORT_PATH: &str = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";
    pub(super) const METRICS_PATH: &str =
        "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export";

    /// OTLP/gRPC: one lazily connected channel.
    pub(crate) struct Grpc {
        client: tonic::client::Grpc<Channel>,
        metadata: tonic::metadata::MetadataMap,
        /// The service method: logs, or metrics.
        pub(super) path: &'static str,
        /// `https://`: a connection cut mid-request may be the server's
        /// refusal of a missing client certificate.
        tls: bool,
    }

    impl Grpc {
        pub(super) fn new(r: &Resolved, headers: http::HeaderMap) -> Result<Self, OtlpError> {
            let endpoint = Endpoint::from_shared(r.endpoint.clone())
                .map_err(|_| OtlpError::Endpoint {
                    value: r.endpoint.clone(),
                    from: "the resolved settings".into(),
                    reason: "not a URL",
                })?
                .timeout(r.timeout)
                .connect_timeout(r.timeout)
                .tcp_nodelay(true);
            #[cfg(feature = "tls")]
            let endpoint = if r.https {
                endpoint
                    .tls_config(crate::tls::tonic_config(r.tls.as_ref()))
                    .map_err(|e| OtlpError::Client(Box::new(e)))?
            } else {
                endpoint
            };
            #[cfg_attr(not(feature = "gzip"), allow(unused_mut))]
            let mut client = tonic::client::Grpc::new(endpoint.connect_lazy());
            #[cfg(feature = "gzip")]
            if r.gzip {
                client = client.send_compressed(tonic::codec::CompressionEncoding::Gzip);
            }
            Ok(Grpc {
                client,
                metadata: tonic::metadata::MetadataMap::from_headers(headers),
                path: EXPORT_PATH,
                tls: r.https,
            })
        }

        pub(super) async fn export(
            &mut self,
            body: Vec<u8>,
        ) -> Result<PartialSuccess, ExportFailure> {
            self.client
                .ready()
                .await
                .map_err(|e| ExportFailure::transient(format!("gRPC connection: {e}")))?;
            let mut request = tonic::Request::new(body);
            *request.metadata_mut() = self.metadata.clone();
            let path = http::uri::PathAndQuery::from_static(self.path);
            match self.client.unary(request, path, RawCodec).await {
                Ok(response) => Ok(read_response(&response.into_inner())),
                Err(status) => {
                    let mut message = format!(
                        "gRPC export failed: {:?}: {}",
                        status.code(),
                        status.message()
                    );
                    if let Some(cause) = std::error::Error::source(&status) {
                        message.push_str(": ");
                        message.push_str(&with_causes(cause));
                    }
                    // With TLS 1.3 the client's handshake is done before the
                    // server checks the client's certificate, so a refusal
                    // shows here as a connection cut mid-request: say so.
                    if self.tls && status.code() == tonic::Code::Cancelled {
                        message.push_str(
                            " (the connection ended mid-request; a TLS server that \
                             requires a client certificate ends it this way)",
                        );
                    }
                    Err(ExportFailure {
                        transient: code_is_transient(status.code()),
                        retry_after: None,
                        message,
                    })
                }
            }
        }
    }

    /// The OTLP specification's retryable gRPC codes; everything else
    /// (invalid argument, unauthenticated, unimplemented …) is final.
    pub(crate) fn code_is_transient(code: tonic::Code) -> bool {
        use tonic::Code;
        matches!(
            code,
            Code::Cancelled
                | Code::DeadlineExceeded
                | Code::ResourceExhausted
                | Code::Aborted
                | Code::OutOfRange
                | Code::Unavailable
                | Code::DataLoss
                // tonic reports connection failures as `Unknown`/`Internal`
                // before the collector answers at all.
                | Code::Unknown
                | Code::Internal
        )
    }

    /// Sends bytes already encoded as protobuf, and hands back the
    /// response's bytes.
    #[derive(Debug, Clone, Copy)]
    struct RawCodec;

    impl Codec for RawCodec {
        type Encode = Vec<u8>;
        type Decode = Vec<u8>;
        type Encoder = RawCodec;
        type Decoder = RawCodec;

        fn encoder(&mut self) -> Self::Encoder {
            RawCodec
        }

        fn decoder(&mut self) -> Self::Decoder {
            RawCodec
        }
    }

    impl Encoder for RawCodec {
        type Item = Vec<u8>;
        type Error = tonic::Status;

        fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), Self::Error> {
            dst.put_slice(&item);
            Ok(())
        }
    }

    impl Decoder for RawCodec {
        type Item = Vec<u8>;
        type Error = tonic::Status;

        fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, Self::Error> {
            let mut out = vec![0; src.remaining()];
            src.copy_to_slice(&mut out);
            Ok(Some(out))
        }
    }
}

#[cfg(feature = "http")]
pub(crate) use http_proto::Http;

#[cfg(feature = "http")]
mod http_proto {
    use std::time::{Duration, SystemTime};

    use super::{ExportFailure, OtlpError, PartialSuccess, Resolved, read_response, with_causes};

    /// Longest `Retry-After` honoured; a collector asking for more is
    /// retried after this, so a misconfigured one cannot stall export for hours.
    pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

    /// OTLP/HTTP with protobuf bodies.
    pub(crate) struct Http {
        client: reqwest::Client,
        pub(super) url: reqwest::Url,
        headers: http::HeaderMap,
        gzip: bool,
    }

    impl Http {
        pub(super) fn new(r: &Resolved, mut headers: http::HeaderMap) -> Result<Self, OtlpError> {
            let url = reqwest::Url::parse(&r.endpoint).map_err(|_| OtlpError::Endpoint {
                value: r.endpoint.clone(),
                from: "the resolved settings".into(),
                reason: "not a URL",
            })?;
            let builder = reqwest::Client::builder()
                .timeout(r.timeout)
                .connect_timeout(r.timeout)
                .tcp_nodelay(true);
            // Always our own rustls configuration (ring; the roots or files
            // asked for): with reqwest's `rustls-no-provider` its default
            // needs a process-wide provider, and panics in `build` without
            // one, even for an `http://` URL.
            #[cfg(feature = "tls")]
            let builder = builder.tls_backend_preconfigured(match (&r.tls, r.https) {
                (Some(material), _) => material.rustls_config()?,
                (None, true) => crate::tls::system_rustls_config()?,
                (None, false) => crate::tls::plain_rustls_config()?,
            });
            let client = builder
                .build()
                .map_err(|e| OtlpError::Client(Box::new(e)))?;
            headers.insert(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static("application/x-protobuf"),
            );
            if r.gzip {
                headers.insert(
                    http::header::CONTENT_ENCODING,
                    http::HeaderValue::from_static("gzip"),
                );
            }
            Ok(Http {
                client,
                url,
                headers,
                gzip: r.gzip,
            })
        }

        pub(super) async fn export(
            &mut self,
            body: Vec<u8>,
        ) -> Result<PartialSuccess, ExportFailure> {
            let body = if self.gzip { gzip(&body)? } else { body };
            let response = self
                .client
                .post(self.url.clone())
                .headers(self.headers.clone())
                .body(body)
                .send()
                .await
                .map_err(|e| {
                    ExportFailure::transient(format!("HTTP export failed: {}", with_causes(&e)))
                })?;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(http::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, SystemTime::now()));
            let bytes = response.bytes().await;
            if (200..300).contains(&status) {
                return Ok(bytes.map(|b| read_response(&b)).unwrap_or_default());
            }
            Err(ExportFailure {
                transient: status_is_transient(status),
                retry_after,
                message: format!("HTTP export failed with status {status}"),
            })
        }
    }

    /// The metrics URL beside a logs URL.
    pub(super) fn metrics_url(logs: &reqwest::Url) -> reqwest::Url {
        let mut url = logs.clone();
        let path = logs.path();
        let metrics = match path.strip_suffix("/v1/logs") {
            Some(base) => format!("{base}/v1/metrics"),
            None => "/v1/metrics".to_owned(),
        };
        url.set_path(&metrics);
        url
    }

    /// The OTLP specification's retryable HTTP statuses; every other 4xx
    /// and 5xx "MUST NOT be retried".
    pub(crate) fn status_is_transient(status: u16) -> bool {
        // 408 too: the request timed out before the collector saw it.
        matches!(status, 408 | 429 | 502 | 503 | 504)
    }

    /// `Retry-After` as delay-seconds or an HTTP date, capped.
    pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
        let value = value.trim();
        let wait = match value.parse::<u64>() {
            Ok(secs) => Duration::from_secs(secs),
            Err(_) => httpdate::parse_http_date(value)
                .ok()?
                .duration_since(now)
                .unwrap_or(Duration::ZERO),
        };
        Some(wait.min(MAX_RETRY_AFTER))
    }

    #[cfg(feature = "gzip")]
    fn gzip(body: &[u8]) -> Result<Vec<u8>, ExportFailure> {
        use std::io::Write as _;
        let mut encoder = flate2::write::GzEncoder::new(
            Vec::with_capacity(body.len() / 4),
            flate2::Compression::fast(),
        );
        encoder
            .write_all(body)
            .and_then(|()| encoder.finish())
            .map_err(|e| ExportFailure {
                transient: false,
                retry_after: None,
                message: format!("gzip failed: {e}"),
            })
    }

    #[cfg(not(feature = "gzip"))]
    #[allow(clippy::unnecessary_wraps)] // The signature of the `gzip` feature's version.
    fn gzip(body: &[u8]) -> Result<Vec<u8>, ExportFailure> {
        // `resolve` refuses gzip without the feature; never reached.
        Ok(body.to_vec())
    }
}

#[cfg(test)]
mod tests {
    #[cfg(feature = "grpc")]
    #[test]
    fn grpc_codes_follow_the_specification() {
        use tonic::Code;
        for code in [
            Code::Unavailable,
            Code::DeadlineExceeded,
            Code::ResourceExhausted,
        ] {
            assert!(super::grpc::code_is_transient(code), "{code:?}");
        }
        for code in [
            Code::InvalidArgument,
            Code::Unauthenticated,
            Code::PermissionDenied,
            Code::Unimplemented,
            Code::NotFound,
        ] {
            assert!(!super::grpc::code_is_transient(code), "{code:?}");
        }
    }

    #[cfg(feature = "http")]
    #[test]
    fn the_metrics_url_sits_beside_the_logs_url() {
        use super::http_proto::metrics_url;
        let url = |s: &str| reqwest::Url::parse(s).unwrap();
        for (logs, metrics) in [
            (
                "http://127.0.0.1:4318/v1/logs",
                "http://127.0.0.1:4318/v1/metrics",
            ),
            (
                "http://c:1/otlp/v1/logs?x=1",
                "http://c:1/otlp/v1/metrics?x=1",
            ),
            ("http://c:1/ingest", "http://c:1/v1/metrics"),
        ] {
            assert_eq!(metrics_url(&url(logs)).as_str(), metrics, "{logs}");
        }
    }

    #[cfg(feature = "http")]
    #[test]
    fn http_statuses_follow_the_specification() {
        use super::http_proto::status_is_transient;
        for s in [408, 429, 502, 503, 504] {
            assert!(status_is_transient(s), "{s}");
        }
        for s in [400, 401, 403, 404, 413, 500, 501] {
            assert!(!status_is_transient(s), "{s}");
        }
    }

    #[cfg(feature = "http")]
    #[test]
    fn retry_after_is_read_as_seconds_or_a_date_and_capped() {
        use super::http_proto::parse_retry_after;
        use std::time::{Duration, SystemTime};
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("86400", now),
            Some(super::http_proto::MAX_RETRY_AFTER)
        );
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(30))
        );
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(parse_retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
