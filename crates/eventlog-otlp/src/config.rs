//! Transport settings: endpoint, protocol, timeout, compression, headers,
//! and the resource's variables, resolved from the builder first, then the
//! `OTEL_EXPORTER_OTLP_*` variables (logs-specific ones first), then the
//! defaults, and checked: whatever [`TransportSettings::resolve_with`]
//! returns can be used by the export threads without failing later.
//!
//! ```text
//! builder ──┐
//! env (a lookup function) ──> resolve_with ──> Resolved (checked) ──> transport, resource
//! defaults ─┘                      └──> OtlpError naming the value and where it came from
//! ```

use std::collections::HashMap;
use std::time::Duration;

use eventlog::{OTEL_RESOURCE_ATTRIBUTES, OTEL_SERVICE_NAME};

pub(crate) use crate::env::{Lookup, process_env};
use crate::env::{var, var_pair};
use crate::tls::{TlsFiles, TlsMaterial};

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

/// `OTEL_SDK_DISABLED`: `true` switches the OTLP output off, as the
/// OpenTelemetry spec says for every SDK part: the output is built, starts
/// no export thread and refuses every record as filtered (not a loss).
///
/// ```
/// assert_eq!(eventlog_otlp::OTEL_SDK_DISABLED, "OTEL_SDK_DISABLED");
/// ```
pub const OTEL_SDK_DISABLED: &str = "OTEL_SDK_DISABLED";
/// `OTEL_LOGS_EXPORTER`: `none` switches the OTLP output off as
/// [`OTEL_SDK_DISABLED`] does; `otlp` (or unset) keeps it on; anything
/// else is an [`OtlpError::Env`] (this output exports OTLP only).
///
/// ```
/// assert_eq!(eventlog_otlp::OTEL_LOGS_EXPORTER, "OTEL_LOGS_EXPORTER");
/// ```
pub const OTEL_LOGS_EXPORTER: &str = "OTEL_LOGS_EXPORTER";

/// Whether the variables switch the output off.
pub(crate) fn exporter_disabled(env: Lookup<'_>) -> Result<bool, OtlpError> {
    if let Some(v) = var(env, OTEL_SDK_DISABLED)? {
        match v.trim().to_ascii_lowercase().as_str() {
            "true" => return Ok(true),
            "false" => {}
            _ => {
                return Err(OtlpError::Env {
                    name: OTEL_SDK_DISABLED,
                    value: v,
                    expected: "`true` or `false`",
                });
            }
        }
    }
    match var(env, OTEL_LOGS_EXPORTER)? {
        None => Ok(false),
        Some(v) => {
            let names: Vec<String> = v
                .split(',')
                .map(|n| n.trim().to_ascii_lowercase())
                .collect();
            if names.iter().any(|n| n == "otlp") {
                Ok(false)
            } else if names.iter().all(|n| n == "none") {
                Ok(true)
            } else {
                Err(OtlpError::Env {
                    name: OTEL_LOGS_EXPORTER,
                    value: v,
                    expected: "`otlp` or `none`",
                })
            }
        }
    }
}

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
/// The longest export timeout: a longer one (from
/// [`timeout`](crate::OtlpOutputBuilder::timeout) or `OTEL_EXPORTER_OTLP_TIMEOUT`)
/// is clamped to it. An hour is already far past any collector's answer;
/// shutdown never waits for it (it abandons an export still in flight).
///
/// ```
/// assert_eq!(eventlog_otlp::MAX_TIMEOUT, std::time::Duration::from_secs(3600));
/// ```
pub const MAX_TIMEOUT: Duration = Duration::from_secs(3600);
/// The shortest export timeout; a shorter one is an [`OtlpError::Setting`].
const MIN_TIMEOUT: Duration = Duration::from_millis(1);

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
    pub(crate) tls: TlsFiles,
}

/// Settings after the environment and the defaults were applied, all checked.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub(crate) endpoint: String,
    pub(crate) protocol: Protocol,
    /// Between 1 ms and [`MAX_TIMEOUT`].
    pub(crate) timeout: Duration,
    // Read by the HTTP transport, and by gRPC with the `gzip` feature.
    #[cfg_attr(not(any(feature = "gzip", feature = "http")), allow(dead_code))]
    pub(crate) gzip: bool,
    /// Names and values that every transport can send.
    pub(crate) headers: http::HeaderMap,
    /// `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_SERVICE_NAME`, parsed.
    pub(crate) resource: ResourceEnv,
    /// The endpoint is `https://`.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) https: bool,
    /// Certificate files for an `https://` endpoint, read and checked;
    /// `None` with `https`: the system's roots, no client certificate.
    #[cfg_attr(not(feature = "tls"), allow(dead_code))]
    pub(crate) tls: Option<TlsMaterial>,
}

/// The resource's variables, read at build time (not on the export thread).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ResourceEnv {
    /// `OTEL_RESOURCE_ATTRIBUTES`, in order, percent-decoded.
    pub(crate) attributes: Vec<(String, String)>,
    /// `OTEL_SERVICE_NAME`, when set and not empty.
    pub(crate) service_name: Option<String>,
}

impl TransportSettings {
    /// Applies the environment read through `env` and the defaults, and
    /// validates everything.
    pub(crate) fn resolve_with(&self, env: Lookup<'_>) -> Result<Resolved, OtlpError> {
        let protocol = match self.protocol {
            Some(p) => p,
            None => match var_pair(
                env,
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
            None => match var(env, OTEL_EXPORTER_OTLP_LOGS_ENDPOINT)? {
                Some(e) => (e, OTEL_EXPORTER_OTLP_LOGS_ENDPOINT.to_owned()),
                None => match var(env, OTEL_EXPORTER_OTLP_ENDPOINT)? {
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
        validate_endpoint(&endpoint, &from, protocol)?;
        let https = endpoint
            .get(..6)
            .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https:"));
        let tls = if https {
            self.tls.resolve(env)?
        } else if self.tls.any() {
            return Err(OtlpError::Setting {
                setting: "tls_ca_certificate / tls_client_certificate",
                value: format!("{endpoint:?}"),
                reason: "certificate files only apply to an https:// endpoint",
            });
        } else {
            // The variables may be set for other exporters: ignored, as
            // the OpenTelemetry spec has it for a plain endpoint.
            None
        };

        let gzip = match self.gzip {
            Some(g) => g,
            None => match var_pair(
                env,
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

        Ok(Resolved {
            endpoint,
            protocol,
            timeout: self.timeout(env)?,
            gzip,
            headers: self.headers(env, protocol)?,
            resource: resource_env(env)?,
            https,
            tls,
        })
    }

    /// The builder's timeout, else the variables', checked and clamped.
    fn timeout(&self, env: Lookup<'_>) -> Result<Duration, OtlpError> {
        let timeout = match self.timeout {
            Some(t) if t < MIN_TIMEOUT => {
                return Err(OtlpError::Setting {
                    setting: "timeout",
                    value: format!("{t:?}"),
                    reason: "must be at least 1 ms",
                });
            }
            Some(t) => t,
            None => match var_pair(
                env,
                OTEL_EXPORTER_OTLP_LOGS_TIMEOUT,
                OTEL_EXPORTER_OTLP_TIMEOUT,
            )? {
                Some((name, value)) => parse_timeout(&value).ok_or(OtlpError::Env {
                    name,
                    value,
                    expected: "a positive number of milliseconds",
                })?,
                None => DEFAULT_TIMEOUT,
            },
        }
        .min(MAX_TIMEOUT);

        Ok(timeout)
    }

    /// Headers from the variables and the builder, checked for `protocol`.
    fn headers(&self, env: Lookup<'_>, protocol: Protocol) -> Result<http::HeaderMap, OtlpError> {
        // Generic, then logs-specific, then the builder's: later wins, key
        // by key (names are case-insensitive, so compared lowercased).
        let mut merged: Vec<(String, String, String)> = Vec::new();
        let mut put = |key: String, value: String, from: &str| {
            let lower = key.to_ascii_lowercase();
            merged.retain(|(k, _, _)| k.to_ascii_lowercase() != lower);
            merged.push((key, value, from.to_owned()));
        };
        for name in [OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_LOGS_HEADERS] {
            if let Some(value) = var(env, name)? {
                for (k, v) in parse_headers(name, &value)? {
                    put(k, v, name);
                }
            }
        }
        let mut builder_headers: Vec<_> = self.headers.iter().collect();
        builder_headers.sort();
        for (k, v) in builder_headers {
            put(k.clone(), v.clone(), "the builder");
        }
        let mut headers = http::HeaderMap::new();
        for (key, value, from) in &merged {
            let (name, value) = check_header(key, value, from, protocol)?;
            headers.insert(name, value);
        }

        Ok(headers)
    }
}

/// Milliseconds as OTLP writes them: digits only, at least 1; any number
/// of digits (clamped to [`MAX_TIMEOUT`] by the caller).
fn parse_timeout(value: &str) -> Option<Duration> {
    let digits = value.trim();
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // Only digits: the parse fails only when the number overflows.
    let ms = digits.parse::<u64>().unwrap_or(u64::MAX);
    (ms > 0).then(|| Duration::from_millis(ms))
}

/// `OTEL_RESOURCE_ATTRIBUTES` and `OTEL_SERVICE_NAME`, with the rules of
/// [`eventlog::Deployment::from_resource_attributes`]: `key=value` pairs,
/// values percent-decoded; a malformed entry is an error.
fn resource_env(env: Lookup<'_>) -> Result<ResourceEnv, OtlpError> {
    let attributes = match var(env, OTEL_RESOURCE_ATTRIBUTES)? {
        Some(value) => key_values(&value).ok_or_else(|| OtlpError::Env {
            name: OTEL_RESOURCE_ATTRIBUTES,
            value: value.clone(),
            expected: "`key=value` pairs separated by commas, values percent-encoded",
        })?,
        None => Vec::new(),
    };
    Ok(ResourceEnv {
        attributes,
        service_name: var(env, OTEL_SERVICE_NAME)?,
    })
}

/// `key=value,key2=value2`, as the OTLP exporter specification writes
/// headers (W3C baggage format): whitespace trimmed, values percent-decoded.
/// A malformed variable is an error whose value has every header value
/// masked: they are usually credentials, and errors end up in logs.
fn parse_headers(name: &'static str, value: &str) -> Result<Vec<(String, String)>, OtlpError> {
    let bad = || OtlpError::Env {
        name,
        value: mask_header_values(value),
        expected: "`key=value` pairs separated by commas",
    };
    key_values(value).ok_or_else(bad)
}

/// `key=value` pairs separated by commas (the W3C baggage form both the
/// header and the resource variables use): whitespace trimmed, empty entries
/// skipped, values percent-decoded; `None` if an entry has no `=`, an empty
/// key, or a value that does not decode to UTF-8.
fn key_values(value: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    for pair in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=')?;
        let k = k.trim();
        if k.is_empty() {
            return None;
        }
        let v = percent_encoding::percent_decode_str(v.trim())
            .decode_utf8()
            .ok()?;
        out.push((k.to_owned(), v.into_owned()));
    }
    Some(out)
}

/// `a=1,b,=c` → `a=***,***,=***`: names kept, anything that may be a
/// value replaced.
fn mask_header_values(value: &str) -> String {
    value
        .split(',')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) => format!("{k}=***"),
            None if pair.trim().is_empty() => pair.to_owned(),
            None => "***".to_owned(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Names the exporter sets itself, or that break the request's framing
/// (HTTP/1.1) or are refused by HTTP/2 (connection-specific headers).
const RESERVED_HEADERS: [&str; 10] = [
    "content-type",
    "content-encoding",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "proxy-connection",
    "upgrade",
    "te",
    "host",
];

/// A header every transport can send, or why not. The value is never
/// repeated in the error.
fn check_header(
    key: &str,
    value: &str,
    from: &str,
    protocol: Protocol,
) -> Result<(http::HeaderName, http::HeaderValue), OtlpError> {
    let bad = |reason| OtlpError::Header {
        key: key.to_owned(),
        from: from.to_owned(),
        reason,
    };
    let name =
        http::HeaderName::from_bytes(key.as_bytes()).map_err(|_| bad("not a valid header name"))?;
    if RESERVED_HEADERS.contains(&name.as_str()) {
        return Err(bad("set by the exporter itself, or not allowed by HTTP/2"));
    }
    if protocol == Protocol::Grpc {
        // The gRPC specification's Header-Name; servers refuse others.
        if !name
            .as_str()
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'z' | b'-' | b'_' | b'.'))
        {
            return Err(bad(
                "gRPC metadata names hold only letters, digits, `-`, `_` and `.`",
            ));
        }
        if name.as_str().starts_with("grpc-") {
            return Err(bad("`grpc-` names are reserved by gRPC"));
        }
        if name.as_str().ends_with("-bin") {
            return Err(bad("binary (`-bin`) gRPC metadata is not supported"));
        }
    }
    // Printable ASCII, as gRPC's ASCII-Value: control characters split or
    // corrupt a request, and non-ASCII bytes are refused by gRPC servers.
    if !value.bytes().all(|b| (0x20..=0x7e).contains(&b)) {
        return Err(bad(
            "the value must be printable ASCII (no control characters, no non-ASCII)",
        ));
    }
    let value = http::HeaderValue::from_str(value).map_err(|_| {
        bad("the value must be printable ASCII (no control characters, no non-ASCII)")
    })?;
    Ok((name, value))
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

/// `http://user:pw@host/…` → `http://***@host/…`, so errors do not carry
/// credentials.
fn mask_userinfo(endpoint: &str) -> String {
    let Some((scheme, rest)) = endpoint.split_once("://") else {
        return endpoint.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://***@{host}{tail}"),
        None => endpoint.to_owned(),
    }
}

/// An endpoint the transport of `protocol` can connect to: `http`, a host
/// (an IPv6 literal in brackets), a port from 1 to 65535 if any, no
/// credentials, no fragment.
fn validate_endpoint(endpoint: &str, from: &str, protocol: Protocol) -> Result<(), OtlpError> {
    let bad = |reason| OtlpError::Endpoint {
        value: mask_userinfo(endpoint),
        from: from.to_owned(),
        reason,
    };
    let uri: http::Uri = endpoint.parse().map_err(|_| bad("not a URL"))?;
    match uri.scheme_str() {
        Some("https") if !cfg!(feature = "tls") => {
            return Err(OtlpError::FeatureDisabled {
                what: "an https:// endpoint",
                feature: "tls",
            });
        }
        Some("http" | "https") => {}
        _ => return Err(bad("the scheme must be http or https")),
    }
    let authority = uri.authority().map_or("", http::uri::Authority::as_str);
    if authority.contains('@') {
        return Err(bad(
            "credentials in the URL are not supported: send them in a header",
        ));
    }
    let host = uri.host().unwrap_or_default();
    if host.is_empty() {
        return Err(bad("the URL has no host"));
    }
    if let Some(literal) = host.strip_prefix('[') {
        let inner = literal.strip_suffix(']').unwrap_or(literal);
        if inner.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(bad("not an IPv6 address (zone ids are not supported)"));
        }
    }
    // `http::Uri` keeps any text after the host's `:` (99999, -1, +80) and
    // only `port_u16` says it is not a port: check the text itself.
    if let Some(port) = authority
        .strip_prefix(host)
        .and_then(|p| p.strip_prefix(':'))
    {
        let valid = !port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u16>().is_ok_and(|p| p > 0);
        if !valid {
            return Err(bad("the port must be a number from 1 to 65535"));
        }
    }
    if endpoint.contains('#') {
        return Err(bad("a URL fragment (`#…`) has no meaning in an endpoint"));
    }
    // reqwest parses the URL again, with other rules (the WHATWG URL
    // standard): check here, so the error names where the value came from.
    #[cfg(feature = "http")]
    if protocol == Protocol::HttpProtobuf && reqwest::Url::parse(endpoint).is_err() {
        return Err(bad("not a URL"));
    }
    #[cfg(not(feature = "http"))]
    let _ = protocol;
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;
    use std::ffi::OsString;

    use proptest::prelude::*;

    use super::*;

    /// Every variable this crate reads.
    pub(crate) const VARIABLES: [&str; 12] = [
        OTEL_EXPORTER_OTLP_ENDPOINT,
        OTEL_EXPORTER_OTLP_LOGS_ENDPOINT,
        OTEL_EXPORTER_OTLP_PROTOCOL,
        OTEL_EXPORTER_OTLP_LOGS_PROTOCOL,
        OTEL_EXPORTER_OTLP_TIMEOUT,
        OTEL_EXPORTER_OTLP_LOGS_TIMEOUT,
        OTEL_EXPORTER_OTLP_COMPRESSION,
        OTEL_EXPORTER_OTLP_LOGS_COMPRESSION,
        OTEL_EXPORTER_OTLP_HEADERS,
        OTEL_EXPORTER_OTLP_LOGS_HEADERS,
        OTEL_RESOURCE_ATTRIBUTES,
        OTEL_SERVICE_NAME,
    ];

    fn resolve(s: &TransportSettings, vars: &[(&str, &str)]) -> Result<Resolved, OtlpError> {
        let map: BTreeMap<String, OsString> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), OsString::from(v)))
            .collect();
        s.resolve_with(&|name| map.get(name).cloned())
    }

    fn check(endpoint: &str, protocol: Protocol) -> Result<(), OtlpError> {
        validate_endpoint(endpoint, "test", protocol)
    }

    #[test]
    fn endpoints_are_checked() {
        for ok in [
            "http://127.0.0.1:4317",
            "http://collector:4318/v1/logs",
            "http://[::1]:4317",
            "http://[::1]",
            "http://collector",
            "HTTP://Collector:65535",
            "http://127.0.0.1:1/v1/logs?tenant=a",
        ] {
            check(ok, Protocol::Grpc).unwrap();
            #[cfg(feature = "http")]
            check(ok, Protocol::HttpProtobuf).unwrap();
        }
        let port = "the port must be a number from 1 to 65535";
        for (bad, reason) in [
            ("127.0.0.1:4317", "the scheme must be http or https"),
            ("ftp://x", "the scheme must be http or https"),
            ("unix:///tmp/otlp.sock", "not a URL"),
            ("unix://collector:4317", "the scheme must be http or https"),
            ("http://", "not a URL"),
            ("not a url", "not a URL"),
            ("http://::1:4317", "not a URL"),
            ("http://café:4317", "not a URL"),
            ("http://h:4317\n", "not a URL"),
            ("http://:4317", "the URL has no host"),
            ("http://127.0.0.1:99999", port),
            ("http://127.0.0.1:65536", port),
            ("http://127.0.0.1:-1", port),
            ("http://127.0.0.1:0", port),
            ("http://127.0.0.1:+80", port),
            ("http://127.0.0.1:1a", port),
            ("http://collector:", port),
            ("http://[::1]:", port),
            (
                "http://[fe80::1%25eth0]:4317",
                "not an IPv6 address (zone ids are not supported)",
            ),
            (
                "http://user:pw@collector:4317",
                "credentials in the URL are not supported: send them in a header",
            ),
            (
                "http://@collector:4317",
                "credentials in the URL are not supported: send them in a header",
            ),
            (
                "http://collector:4317#logs",
                "a URL fragment (`#…`) has no meaning in an endpoint",
            ),
        ] {
            match check(bad, Protocol::Grpc) {
                Err(OtlpError::Endpoint { reason: r, .. }) => assert_eq!(r, reason, "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
        // What only the HTTP client's parser (WHATWG rules) refuses.
        #[cfg(feature = "http")]
        assert!(matches!(
            check("http://1.2.3.4.5:4318/v1/logs", Protocol::HttpProtobuf),
            Err(OtlpError::Endpoint {
                reason: "not a URL",
                ..
            })
        ));
    }

    #[test]
    fn https_needs_the_tls_feature_and_is_checked_like_http() {
        let https = check("https://collector:4317", Protocol::Grpc);
        if cfg!(feature = "tls") {
            https.unwrap();
            assert!(matches!(
                check("https://user:pw@collector:4317", Protocol::Grpc),
                Err(OtlpError::Endpoint { .. })
            ));
        } else {
            assert!(matches!(
                https,
                Err(OtlpError::FeatureDisabled { feature: "tls", .. })
            ));
        }
    }

    #[test]
    fn the_sdk_and_logs_exporter_variables_switch_the_output_off() {
        let disabled = |vars: &[(&str, &str)]| {
            let map: BTreeMap<String, OsString> = vars
                .iter()
                .map(|(k, v)| ((*k).to_owned(), OsString::from(v)))
                .collect();
            exporter_disabled(&|name| map.get(name).cloned())
        };
        assert!(!disabled(&[]).unwrap());
        assert!(disabled(&[(OTEL_SDK_DISABLED, "true")]).unwrap());
        assert!(disabled(&[(OTEL_SDK_DISABLED, " TRUE ")]).unwrap());
        assert!(!disabled(&[(OTEL_SDK_DISABLED, "false")]).unwrap());
        assert!(disabled(&[(OTEL_LOGS_EXPORTER, "none")]).unwrap());
        assert!(!disabled(&[(OTEL_LOGS_EXPORTER, "otlp")]).unwrap());
        assert!(!disabled(&[(OTEL_LOGS_EXPORTER, "console,otlp")]).unwrap());
        assert!(!disabled(&[(OTEL_LOGS_EXPORTER, "")]).unwrap());
        for (name, bad) in [(OTEL_SDK_DISABLED, "yes"), (OTEL_LOGS_EXPORTER, "console")] {
            assert!(
                matches!(disabled(&[(name, bad)]), Err(OtlpError::Env { name: n, .. }) if n == name),
                "{name}={bad}"
            );
        }
    }

    #[test]
    fn endpoint_errors_mask_credentials() {
        let err = check("http://app:hunter2@collector:4317/x", Protocol::Grpc).unwrap_err();
        assert!(
            matches!(&err, OtlpError::Endpoint { value, .. } if value == "http://***@collector:4317/x"),
            "{err:?}"
        );
        assert!(!err.to_string().contains("hunter2"), "{err}");
        let err = check("http://a:b@c:99999", Protocol::Grpc).unwrap_err();
        assert!(!err.to_string().contains("a:b"), "{err}");
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
        for (bad, masked) in [
            ("novalue", "***"),
            ("=v", "=***"),
            ("k=%FF", "k=***"),
            ("a=s3cret,Bearer s3cret", "a=***,***"),
        ] {
            match parse_headers("X", bad) {
                Err(OtlpError::Env {
                    name: "X", value, ..
                }) => assert_eq!(value, masked, "{bad}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn headers_are_checked_and_their_values_never_repeated() {
        let grpc = Protocol::Grpc;
        check_header("x-api-key", "k-1 with spaces", "test", grpc).unwrap();
        check_header("X-Api-Key", "", "test", grpc).unwrap();
        #[cfg(feature = "http")]
        check_header("x-api-key!", "v", "test", Protocol::HttpProtobuf).unwrap();
        for (key, value, protocol, reason) in [
            ("bad key", "v", grpc, "not a valid header name"),
            ("", "v", grpc, "not a valid header name"),
            ("clé", "v", grpc, "not a valid header name"),
            (
                "content-type",
                "v",
                grpc,
                "set by the exporter itself, or not allowed by HTTP/2",
            ),
            (
                "Connection",
                "close",
                grpc,
                "set by the exporter itself, or not allowed by HTTP/2",
            ),
            (
                "x-api-key!",
                "v",
                grpc,
                "gRPC metadata names hold only letters, digits, `-`, `_` and `.`",
            ),
            (
                "grpc-timeout",
                "1S",
                grpc,
                "`grpc-` names are reserved by gRPC",
            ),
            (
                "x-token-bin",
                "AAAA",
                grpc,
                "binary (`-bin`) gRPC metadata is not supported",
            ),
        ] {
            match check_header(key, value, "test", protocol) {
                Err(OtlpError::Header { reason: r, .. }) => assert_eq!(r, reason, "{key}"),
                other => panic!("{key}: {other:?}"),
            }
        }
        for value in [
            "s3cret\r\nx: y",
            "s3cret\0",
            "s3cret\u{7f}",
            "s3crét",
            "s3cret\t",
        ] {
            let err = check_header("x-api-key", value, "the builder", grpc).unwrap_err();
            assert!(matches!(err, OtlpError::Header { .. }), "{err:?}");
            assert!(!err.to_string().contains("s3cr"), "{err}");
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
            tls: TlsFiles::default(),
        };
        let r = resolve(
            &s,
            &[
                (OTEL_EXPORTER_OTLP_ENDPOINT, "bad"),
                (OTEL_EXPORTER_OTLP_TIMEOUT, "soon"),
                (OTEL_EXPORTER_OTLP_COMPRESSION, "zstd"),
                (OTEL_EXPORTER_OTLP_PROTOCOL, "carrier pigeon"),
            ],
        )
        .unwrap();
        assert_eq!(r.endpoint, "http://127.0.0.1:1");
        assert_eq!(r.timeout, Duration::from_millis(1500));
        assert!(!r.gzip);
        let r = resolve(&TransportSettings::default(), &[]).unwrap();
        assert_eq!(r.endpoint, DEFAULT_GRPC_ENDPOINT);
        assert_eq!(r.timeout, DEFAULT_TIMEOUT);
        assert_eq!(r.resource, ResourceEnv::default());
    }

    #[test]
    fn timeouts_are_at_least_a_millisecond_and_clamped_to_an_hour() {
        let code = |t| TransportSettings {
            timeout: Some(t),
            ..TransportSettings::default()
        };
        assert_eq!(
            resolve(&code(Duration::MAX), &[]).unwrap().timeout,
            MAX_TIMEOUT
        );
        assert_eq!(
            resolve(&code(Duration::from_millis(1)), &[])
                .unwrap()
                .timeout,
            Duration::from_millis(1)
        );
        for t in [Duration::ZERO, Duration::from_micros(999)] {
            assert!(matches!(
                resolve(&code(t), &[]),
                Err(OtlpError::Setting {
                    setting: "timeout",
                    ..
                })
            ));
        }
        let env = |v: &str| {
            resolve(
                &TransportSettings::default(),
                &[(OTEL_EXPORTER_OTLP_TIMEOUT, v)],
            )
        };
        assert_eq!(env(" 250 ").unwrap().timeout, Duration::from_millis(250));
        for huge in ["99999999999999999999999999", "18446744073709551615"] {
            assert_eq!(env(huge).unwrap().timeout, MAX_TIMEOUT, "{huge}");
        }
        for bad in ["0", "-1", "1e3", "1.5", "+5", "10ms", "٣"] {
            assert!(
                matches!(
                    env(bad),
                    Err(OtlpError::Env {
                        name: OTEL_EXPORTER_OTLP_TIMEOUT,
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn resource_variables_are_parsed_at_build() {
        let r = resolve(
            &TransportSettings::default(),
            &[
                (
                    OTEL_RESOURCE_ATTRIBUTES,
                    "team=pay%20ments, k8s.pod.name = p-1 ,",
                ),
                (OTEL_SERVICE_NAME, "checkout"),
            ],
        )
        .unwrap();
        assert_eq!(
            r.resource.attributes,
            [
                ("team".to_owned(), "pay ments".to_owned()),
                ("k8s.pod.name".to_owned(), "p-1".to_owned())
            ]
        );
        assert_eq!(r.resource.service_name.as_deref(), Some("checkout"));
        for bad in ["team", "=x", "k=%FF"] {
            assert!(
                matches!(
                    resolve(
                        &TransportSettings::default(),
                        &[(OTEL_RESOURCE_ATTRIBUTES, bad)]
                    ),
                    Err(OtlpError::Env {
                        name: OTEL_RESOURCE_ATTRIBUTES,
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_non_utf8_variable_is_an_error_naming_it() {
        use std::os::unix::ffi::OsStringExt as _;
        for name in VARIABLES {
            let bytes = OsString::from_vec(vec![b'h', 0xff, 0xfe]);
            let got =
                TransportSettings::default().resolve_with(&|n| (n == name).then(|| bytes.clone()));
            assert!(
                matches!(got, Err(OtlpError::Env { name: n, expected: "UTF-8 text", .. }) if n == name),
                "{name}: {got:?}"
            );
        }
    }

    /// Garbage for any variable: arbitrary Unicode, huge and negative
    /// numbers, blanks, control characters, non-UTF-8 bytes, and
    /// near-valid values of every variable.
    pub(crate) fn garbage() -> impl Strategy<Value = OsString> {
        use std::os::unix::ffi::OsStringExt as _;
        prop_oneof![
            any::<String>().prop_map(OsString::from),
            "[0-9]{1,40}".prop_map(OsString::from),
            "-[0-9]{1,20}".prop_map(OsString::from),
            "[ \t\r\n]{0,3}".prop_map(OsString::from),
            "[\\x00-\\x1f\\x7f]{1,4}".prop_map(OsString::from),
            proptest::collection::vec(any::<u8>(), 0..12).prop_map(OsString::from_vec),
            proptest::sample::select(vec![
                "grpc",
                "http/protobuf",
                "http/json",
                "gzip",
                "none",
                "http://127.0.0.1:9",
                "http://[::1]:9/v1/logs",
                "https://collector:4317",
                "http://127.0.0.1:99999",
                "http://127.0.0.1:-1",
                "http://u:p@h:1",
                "http://:1",
                "team=payments,service.name=a",
                "k=%FF",
                "=",
                ",,,",
                "1",
                "18446744073709551616",
            ])
            .prop_map(OsString::from),
            ("[a-z:/.\\[\\]@%-]{0,12}", any::<u16>(), ".{0,6}")
                .prop_map(|(h, p, t)| OsString::from(format!("http://{h}:{p}{t}"))),
        ]
    }

    /// Header-shaped garbage whose values hold a marker, to check that no
    /// error repeats a header value.
    pub(crate) fn header_garbage() -> impl Strategy<Value = OsString> {
        prop_oneof![
            garbage(),
            proptest::collection::vec(
                (
                    "[A-Z0-9 _.:,=@!-]{0,8}",
                    "[ -~\\x00-\\x1f\\u{80}-\\u{10ffff}%]{0,8}"
                ),
                1..4,
            )
            .prop_map(|pairs| {
                let pairs: Vec<String> = pairs
                    .into_iter()
                    .map(|(k, v)| format!("{k}=s3cr3t{v}"))
                    .collect();
                OsString::from(pairs.join(","))
            }),
        ]
    }

    /// Values this variable accepts, so that some environments build.
    fn valid(name: &str) -> Vec<&'static str> {
        match name {
            OTEL_EXPORTER_OTLP_ENDPOINT | OTEL_EXPORTER_OTLP_LOGS_ENDPOINT => {
                vec![
                    "http://127.0.0.1:9",
                    "http://127.0.0.1:9/",
                    "http://[::1]:9",
                ]
            }
            OTEL_EXPORTER_OTLP_PROTOCOL | OTEL_EXPORTER_OTLP_LOGS_PROTOCOL => {
                vec!["grpc", " http/protobuf "]
            }
            OTEL_EXPORTER_OTLP_TIMEOUT | OTEL_EXPORTER_OTLP_LOGS_TIMEOUT => {
                vec!["1", "250", "99999999999999999999999"]
            }
            OTEL_EXPORTER_OTLP_COMPRESSION | OTEL_EXPORTER_OTLP_LOGS_COMPRESSION => {
                vec!["gzip", "none"]
            }
            OTEL_EXPORTER_OTLP_HEADERS | OTEL_EXPORTER_OTLP_LOGS_HEADERS => {
                vec!["api-key=k%201", "a=1,b=2,", ""]
            }
            OTEL_RESOURCE_ATTRIBUTES => vec!["team=payments,service.name=a%2Cb", ""],
            _ => vec!["checkout", "caf\u{e9} \u{1f600}"],
        }
    }

    /// A map of every variable this crate reads to a valid value, garbage,
    /// or nothing.
    pub(crate) fn environments() -> impl Strategy<Value = BTreeMap<&'static str, OsString>> {
        let one = |name: &'static str| {
            let bad = if name.ends_with("_HEADERS") {
                header_garbage().boxed()
            } else {
                garbage().boxed()
            };
            let good = proptest::sample::select(valid(name)).prop_map(OsString::from);
            let value = prop_oneof![3 => good, 2 => bad];
            proptest::option::weighted(0.35, value).prop_map(move |v| (name, v))
        };
        VARIABLES.map(one).to_vec().prop_map(|pairs| {
            pairs
                .into_iter()
                .filter_map(|(k, v)| Some((k, v?)))
                .collect()
        })
    }

    /// Checks that `result` is a success or an error naming a variable that
    /// was set, and that no error repeats a header value.
    pub(crate) fn assert_named(
        result: Result<(), &OtlpError>,
        env: &BTreeMap<&'static str, OsString>,
    ) {
        let Err(err) = result else { return };
        let set = |name: &str| env.contains_key(name);
        match err {
            OtlpError::Env { name, .. } => assert!(set(name), "{err:?} names an unset variable"),
            OtlpError::Endpoint { from, .. } => {
                assert!(set(from) || from == "the default", "{err:?}");
            }
            OtlpError::Header { from, .. } => assert!(set(from), "{err:?}"),
            OtlpError::FeatureDisabled { .. } => {}
            other => panic!("unexpected error from the environment: {other:?}"),
        }
        assert!(
            !err.to_string().contains("s3cr3t"),
            "a header value leaked: {err}"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(
            std::env::var("EVENTLOG_OTLP_PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2048)
        ))]

        /// Any environment resolves or is a typed error naming a variable
        /// that was set; whatever resolves is within the documented bounds.
        #[test]
        fn any_environment_resolves_or_names_the_variable(env in environments()) {
            let got = TransportSettings::default().resolve_with(&|name| env.get(name).cloned());
            assert_named(got.as_ref().map(|_| ()), &env);
            if let Ok(r) = got {
                prop_assert!(r.timeout >= MIN_TIMEOUT && r.timeout <= MAX_TIMEOUT);
                prop_assert!(validate_endpoint(&r.endpoint, "again", r.protocol).is_ok());
            }
        }
    }
}
