//! Transport settings: endpoint, protocol, timeout, compression, headers,
//! resolved from the builder first, then the `OTEL_EXPORTER_OTLP_*`
//! variables (logs-specific ones first), then the defaults.

use std::collections::HashMap;
use std::time::Duration;

use crate::OtlpError;

/// `OTEL_EXPORTER_OTLP_ENDPOINT`: base URL for every signal (HTTP appends `/v1/logs`).
///
/// ```
/// assert_eq!(eventlog_otlp::OTEL_EXPORTER_OTLP_ENDPOINT, "OTEL_EXPORTER_OTLP_ENDPOINT");
/// ```
pub const OTEL_EXPORTER_OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT`: the logs URL, used as is; wins over the generic one.
///
/// ```
/// assert_eq!(eventlog_otlp::OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT");
/// ```
pub const OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT";
/// `OTEL_EXPORTER_OTLP_PROTOCOL`: `grpc` or `http/protobuf`.
///
/// ```
/// assert_eq!(eventlog_otlp::OTEL_EXPORTER_OTLP_PROTOCOL, "OTEL_EXPORTER_OTLP_PROTOCOL");
/// ```
pub const OTEL_EXPORTER_OTLP_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";
/// `OTEL_EXPORTER_OTLP_LOGS_PROTOCOL`: wins over `OTEL_EXPORTER_OTLP_PROTOCOL`.
///
/// ```
/// assert_eq!(eventlog_otlp::OTEL_EXPORTER_OTLP_LOGS_PROTOCOL, "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL");
/// ```
pub const OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL";
/// `OTEL_EXPORTER_OTLP_TIMEOUT`: export timeout in milliseconds.
///
/// ```
/// assert_eq!(eventlog_otlp::OTEL_EXPORTER_OTLP_TIMEOUT, "OTEL_EXPORTER_OTLP_TIMEOUT");
/// ```
pub const OTEL_EXPORTER_OTLP_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TIMEOUT";
/// `OTEL_EXPORTER_OTLP_LOGS_TIMEOUT`: wins over `OTEL_EXPORTER_OTLP_TIMEOUT`.
///
/// ```
/// assert_eq!(eventlog_otlp::OTEL_EXPORTER_OTLP_LOGS_TIMEOUT, "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT");
/// ```
pub const OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT";
/// `OTEL_EXPORTER_OTLP_COMPRESSION`: `gzip` or `none`.
///
/// ```
/// assert_eq!(eventlog_otlp::OTEL_EXPORTER_OTLP_COMPRESSION, "OTEL_EXPORTER_OTLP_COMPRESSION");
/// ```
pub const OTEL_EXPORTER_OTLP_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_COMPRESSION";
/// `OTEL_EXPORTER_OTLP_LOGS_COMPRESSION`: wins over `OTEL_EXPORTER_OTLP_COMPRESSION`.
///
/// ```
/// assert_eq!(eventlog_otlp::OTEL_EXPORTER_OTLP_LOGS_COMPRESSION, "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION");
/// ```
pub const OTEL_EXPORTER_OTLP_LOGS_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION";
/// `OTEL_EXPORTER_OTLP_HEADERS`: `key=value,…` (values percent-decoded)
/// added to every request; the logs-specific variable wins key by key, and
/// [`header`](crate::OtlpOutputBuilder::header) wins over both.
///
/// ```
/// assert_eq!(eventlog_otlp::OTEL_EXPORTER_OTLP_HEADERS, "OTEL_EXPORTER_OTLP_HEADERS");
/// ```
pub const OTEL_EXPORTER_OTLP_HEADERS: &str = "OTEL_EXPORTER_OTLP_HEADERS";
/// `OTEL_EXPORTER_OTLP_LOGS_HEADERS`: wins over `OTEL_EXPORTER_OTLP_HEADERS`.
///
/// ```
/// assert_eq!(eventlog_otlp::OTEL_EXPORTER_OTLP_LOGS_HEADERS, "OTEL_EXPORTER_OTLP_LOGS_HEADERS");
/// ```
pub const OTEL_EXPORTER_OTLP_LOGS_HEADERS: &str = "OTEL_EXPORTER_OTLP_LOGS_HEADERS";

/// The gRPC endpoint when nothing else is set.
///
/// ```
/// assert_eq!(eventlog_otlp::DEFAULT_GRPC_ENDPOINT, "http://localhost:4317");
/// ```
pub const DEFAULT_GRPC_ENDPOINT: &str = "http://localhost:4317";
/// The HTTP endpoint when nothing else is set.
///
/// ```
/// assert_eq!(eventlog_otlp::DEFAULT_HTTP_ENDPOINT, "http://localhost:4318/v1/logs");
/// ```
pub const DEFAULT_HTTP_ENDPOINT: &str = "http://localhost:4318/v1/logs";
/// The export timeout when nothing else is set.
///
/// ```
/// assert_eq!(eventlog_otlp::DEFAULT_TIMEOUT, std::time::Duration::from_secs(10));
/// ```
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The OTLP wire protocol.
///
/// ```
/// use eventlog_otlp::Protocol;
///
/// assert_eq!(Protocol::default(), Protocol::Grpc);
/// assert_eq!(Protocol::from_name("http/protobuf"), Some(Protocol::HttpProtobuf));
/// assert_eq!(Protocol::Grpc.as_str(), "grpc");
/// assert_eq!(Protocol::from_name("http/json"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Protocol {
    /// OTLP/gRPC (feature `grpc`, on by default), port 4317.
    #[default]
    Grpc,
    /// OTLP/HTTP with protobuf bodies (feature `http`), port 4318.
    HttpProtobuf,
}

impl Protocol {
    /// The name used by `OTEL_EXPORTER_OTLP_PROTOCOL`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::HttpProtobuf => "http/protobuf",
        }
    }

    /// The protocol with this `OTEL_EXPORTER_OTLP_PROTOCOL` name, if supported.
    pub fn from_name(name: &str) -> Option<Self> {
        match name.trim() {
            "grpc" => Some(Protocol::Grpc),
            "http/protobuf" => Some(Protocol::HttpProtobuf),
            _ => None,
        }
    }
}

/// Settings as given to the builder (`None` = not set in code).
#[derive(Debug, Clone, Default)]
pub(crate) struct TransportSettings {
    pub(crate) endpoint: Option<String>,
    pub(crate) protocol: Option<Protocol>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) gzip: Option<bool>,
    pub(crate) headers: HashMap<String, String>,
}

/// Settings after the environment and the defaults were applied.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub(crate) endpoint: String,
    pub(crate) protocol: Protocol,
    pub(crate) timeout: Duration,
    // Read by the HTTP transport, and by gRPC with the `gzip` feature.
    #[cfg_attr(not(any(feature = "gzip", feature = "http")), allow(dead_code))]
    pub(crate) gzip: bool,
    pub(crate) headers: HashMap<String, String>,
}

/// Reads a variable; unset or empty is `None`, non-UTF-8 is an error.
fn var(name: &'static str) -> Result<Option<String>, OtlpError> {
    match std::env::var(name) {
        Ok(v) if v.trim().is_empty() => Ok(None),
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(v)) => Err(OtlpError::Env {
            name,
            value: v.to_string_lossy().into_owned(),
            expected: "UTF-8 text",
        }),
    }
}

/// The logs-specific variable, else the generic one, with its name.
fn var_pair(
    logs: &'static str,
    generic: &'static str,
) -> Result<Option<(&'static str, String)>, OtlpError> {
    Ok(match var(logs)? {
        Some(v) => Some((logs, v)),
        None => var(generic)?.map(|v| (generic, v)),
    })
}

impl TransportSettings {
    /// Applies the environment and the defaults, and validates.
    pub(crate) fn resolve(&self) -> Result<Resolved, OtlpError> {
        let protocol = match self.protocol {
            Some(p) => p,
            None => match var_pair(
                OTEL_EXPORTER_OTLP_LOGS_PROTOCOL,
                OTEL_EXPORTER_OTLP_PROTOCOL,
            )? {
                Some((name, value)) => Protocol::from_name(&value).ok_or(OtlpError::Env {
                    name,
                    value,
                    expected: "`grpc` or `http/protobuf`",
                })?,
                None => Protocol::Grpc,
            },
        };
        check_protocol_feature(protocol)?;

        let (endpoint, from) = match &self.endpoint {
            Some(e) => (e.clone(), "the builder".to_owned()),
            None => match var(OTEL_EXPORTER_OTLP_LOGS_ENDPOINT)? {
                Some(e) => (e, OTEL_EXPORTER_OTLP_LOGS_ENDPOINT.to_owned()),
                None => match var(OTEL_EXPORTER_OTLP_ENDPOINT)? {
                    Some(base) => {
                        let e = match protocol {
                            Protocol::Grpc => base,
                            Protocol::HttpProtobuf => {
                                format!("{}/v1/logs", base.trim_end_matches('/'))
                            }
                        };
                        (e, OTEL_EXPORTER_OTLP_ENDPOINT.to_owned())
                    }
                    None => match protocol {
                        Protocol::Grpc => (DEFAULT_GRPC_ENDPOINT.to_owned(), "the default".into()),
                        Protocol::HttpProtobuf => {
                            (DEFAULT_HTTP_ENDPOINT.to_owned(), "the default".into())
                        }
                    },
                },
            },
        };
        validate_endpoint(&endpoint, &from)?;

        let timeout = match self.timeout {
            Some(t) => t,
            None => match var_pair(OTEL_EXPORTER_OTLP_LOGS_TIMEOUT, OTEL_EXPORTER_OTLP_TIMEOUT)? {
                Some((name, value)) => match value.trim().parse::<u64>() {
                    Ok(ms) if ms > 0 => Duration::from_millis(ms),
                    _ => {
                        return Err(OtlpError::Env {
                            name,
                            value,
                            expected: "a positive number of milliseconds",
                        });
                    }
                },
                None => DEFAULT_TIMEOUT,
            },
        };

        let gzip = match self.gzip {
            Some(g) => g,
            None => match var_pair(
                OTEL_EXPORTER_OTLP_LOGS_COMPRESSION,
                OTEL_EXPORTER_OTLP_COMPRESSION,
            )? {
                Some((name, value)) => match value.trim() {
                    "gzip" => true,
                    "none" => false,
                    _ => {
                        return Err(OtlpError::Env {
                            name,
                            value,
                            expected: "`gzip` or `none`",
                        });
                    }
                },
                None => false,
            },
        };
        if gzip && !cfg!(feature = "gzip") {
            return Err(OtlpError::FeatureDisabled {
                what: "gzip compression",
                feature: "gzip",
            });
        }

        let mut headers = HashMap::new();
        for name in [OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_LOGS_HEADERS] {
            if let Some(value) = var(name)? {
                headers.extend(parse_headers(name, &value)?);
            }
        }
        headers.extend(self.headers.clone());

        Ok(Resolved {
            endpoint,
            protocol,
            timeout,
            gzip,
            headers,
        })
    }
}

/// `key=value,key2=value2`, as the OTLP exporter specification writes
/// headers (W3C baggage format): whitespace trimmed, values percent-decoded.
fn parse_headers(name: &'static str, value: &str) -> Result<Vec<(String, String)>, OtlpError> {
    let bad = || OtlpError::Env {
        name,
        value: value.to_owned(),
        expected: "`key=value` pairs separated by commas",
    };
    let mut out = Vec::new();
    for pair in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').ok_or_else(bad)?;
        let k = k.trim();
        if k.is_empty() {
            return Err(bad());
        }
        let v = percent_encoding::percent_decode_str(v.trim())
            .decode_utf8()
            .map_err(|_| bad())?;
        out.push((k.to_owned(), v.into_owned()));
    }
    Ok(out)
}

fn check_protocol_feature(protocol: Protocol) -> Result<(), OtlpError> {
    match protocol {
        Protocol::Grpc if !cfg!(feature = "grpc") => Err(OtlpError::FeatureDisabled {
            what: "OTLP/gRPC",
            feature: "grpc",
        }),
        Protocol::HttpProtobuf if !cfg!(feature = "http") => Err(OtlpError::FeatureDisabled {
            what: "OTLP/HTTP (http/protobuf)",
            feature: "http",
        }),
        _ => Ok(()),
    }
}

fn validate_endpoint(endpoint: &str, from: &str) -> Result<(), OtlpError> {
    let bad = |reason| OtlpError::Endpoint {
        value: endpoint.to_owned(),
        from: from.to_owned(),
        reason,
    };
    let uri: http::Uri = endpoint.parse().map_err(|_| bad("not a URL"))?;
    match uri.scheme_str() {
        Some("http") => {}
        Some("https") => return Err(bad("https needs TLS, which this build does not include")),
        _ => return Err(bad("the scheme must be http or https")),
    }
    match uri.host() {
        Some(h) if !h.is_empty() => Ok(()),
        _ => Err(bad("the URL has no host")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_checked() {
        for ok in [
            "http://127.0.0.1:4317",
            "http://collector:4318/v1/logs",
            "http://[::1]:4317",
        ] {
            validate_endpoint(ok, "test").unwrap();
        }
        for (bad, reason) in [
            ("127.0.0.1:4317", "the scheme must be http or https"),
            ("ftp://x", "the scheme must be http or https"),
            ("http://", "not a URL"),
            ("not a url", "not a URL"),
            (
                "https://collector:4317",
                "https needs TLS, which this build does not include",
            ),
        ] {
            match validate_endpoint(bad, "test") {
                Err(OtlpError::Endpoint { reason: r, .. }) => assert_eq!(r, reason, "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn header_variables_are_parsed_and_decoded() {
        let got = parse_headers("X", " api-key = s%3Dcret , tenant=a%20b,").unwrap();
        assert_eq!(
            got,
            [
                ("api-key".to_owned(), "s=cret".to_owned()),
                ("tenant".to_owned(), "a b".to_owned())
            ]
        );
        for bad in ["novalue", "=v", "k=%FF"] {
            assert!(
                matches!(
                    parse_headers("X", bad),
                    Err(OtlpError::Env { name: "X", .. })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn code_wins_and_defaults_apply() {
        let s = TransportSettings {
            endpoint: Some("http://127.0.0.1:1".into()),
            protocol: Some(Protocol::Grpc),
            timeout: Some(Duration::from_millis(1500)),
            gzip: Some(false),
            headers: HashMap::new(),
        };
        let r = s.resolve().unwrap();
        assert_eq!(r.endpoint, "http://127.0.0.1:1");
        assert_eq!(r.timeout, Duration::from_millis(1500));
        assert!(!r.gzip);
    }
}
