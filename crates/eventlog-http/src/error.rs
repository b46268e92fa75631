//! The typed errors of this crate: a bad setting, refused at `build()`.

/// A setting that `build()` refused. Nothing that touches the network is
/// made with it.
///
/// Values at fault are quoted cut to their first 64 characters, so a huge
/// setting cannot make a huge message.
///
/// ```
/// use eventlog_http::{HttpConfigError, ServerLayer};
///
/// let err = ServerLayer::builder().request_id_header("x request id").build().unwrap_err();
/// assert_eq!(err, HttpConfigError::HeaderName { name: "x request id".into() });
/// assert_eq!(err.to_string(), "`x request id` is not a valid header name");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpConfigError {
    /// A header name with characters HTTP does not allow in one (spaces,
    /// `:`, anything outside visible ASCII), or empty. Use a name such as
    /// `x-request-id`; case does not matter.
    ///
    /// ```
    /// use eventlog_http::{HttpConfigError, OutgoingHeaders};
    ///
    /// let err = OutgoingHeaders::builder().request_id_header("x-request-id:").build().unwrap_err();
    /// assert!(matches!(err, HttpConfigError::HeaderName { .. }));
    /// ```
    #[error("`{name}` is not a valid header name")]
    HeaderName {
        /// The name given, cut to its first 64 characters.
        ///
        /// ```
        /// use eventlog_http::{HttpConfigError, ServerLayer};
        ///
        /// let long = format!("x y{}", "z".repeat(100));
        /// let Err(HttpConfigError::HeaderName { name }) = ServerLayer::builder().request_id_header(&*long).build() else {
        ///     panic!("a space is not allowed in a header name");
        /// };
        /// assert_eq!(name.len(), 64);
        /// assert!(long.starts_with(&name));
        /// ```
        name: String,
    },
    /// A trusted proxy that is neither an IP address (`10.1.2.3`, `::1`)
    /// nor a network in CIDR form (`10.0.0.0/8`, `fd00::/8`) with a prefix
    /// no longer than the address.
    ///
    /// ```
    /// use eventlog_http::{HttpConfigError, ServerLayer};
    ///
    /// let err = ServerLayer::builder().trusted_proxies(["fd00::/129"]).build().unwrap_err();
    /// assert!(matches!(err, HttpConfigError::ProxyNetwork { .. }));
    /// ```
    #[error("`{value}` is not an IP address or network (`10.0.0.0/8`, `::1`)")]
    ProxyNetwork {
        /// The value given, cut to its first 64 characters.
        ///
        /// ```
        /// use eventlog_http::{HttpConfigError, ServerLayer};
        ///
        /// let Err(HttpConfigError::ProxyNetwork { value }) = ServerLayer::builder().trusted_proxies(["10.0.0.1", "proxy.internal"]).build() else {
        ///     panic!("a host name is not an IP address");
        /// };
        /// assert_eq!(value, "proxy.internal");
        /// ```
        value: String,
    },
}

/// The first 64 characters of a value at fault.
pub(crate) fn quoted(value: &str) -> String {
    value.chars().take(64).collect()
}

/// Why a request or correlation id taken from a header was refused (the
/// layer then generates one).
///
/// ```
/// use eventlog_http::{RequestId, RequestIdError};
///
/// assert_eq!(RequestId::parse(""), Err(RequestIdError::Empty));
/// assert_eq!(RequestId::parse("a\nb"), Err(RequestIdError::Character { byte: b'\n', at: 1 }));
/// assert_eq!(
///     RequestId::parse(&"a".repeat(200)),
///     Err(RequestIdError::TooLong { len: 200, max: 128 })
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestIdError {
    /// The value is empty (or only spaces).
    ///
    /// ```
    /// use eventlog_http::{RequestId, RequestIdError};
    ///
    /// assert_eq!(RequestId::parse(" \t "), Err(RequestIdError::Empty));
    /// assert_eq!(RequestIdError::Empty.to_string(), "empty id");
    /// ```
    #[error("empty id")]
    Empty,
    /// The value is longer than the limit, in bytes.
    ///
    /// ```
    /// use eventlog_http::{RequestId, RequestIdError};
    ///
    /// let err = RequestId::parse(&"é".repeat(100)).unwrap_err();
    /// assert_eq!(err, RequestIdError::TooLong { len: 200, max: 128 });
    /// assert_eq!(err.to_string(), "id of 200 bytes is longer than 128");
    /// ```
    #[error("id of {len} bytes is longer than {max}")]
    TooLong {
        /// Its length in bytes (after trimming).
        ///
        /// ```
        /// use eventlog_http::{RequestId, RequestIdError};
        ///
        /// let Err(RequestIdError::TooLong { len, .. }) = RequestId::parse(&format!("  {}  ", "a".repeat(130))) else {
        ///     panic!("130 bytes are over the default limit");
        /// };
        /// assert_eq!(len, 130);
        /// ```
        len: usize,
        /// The limit (`ServerLayerBuilder::max_id_len`).
        ///
        /// ```
        /// use eventlog_http::{RequestId, RequestIdError};
        ///
        /// let Err(RequestIdError::TooLong { max, .. }) = RequestId::parse(&"a".repeat(129)) else {
        ///     panic!("129 bytes are over the default limit");
        /// };
        /// assert_eq!(max, 128);
        /// ```
        max: usize,
    },
    /// A byte outside the id alphabet (ASCII letters, digits and
    /// `-_.:;/+=@~`).
    ///
    /// ```
    /// use eventlog_http::{RequestId, RequestIdError};
    ///
    /// let err = RequestId::parse("req\u{1b}[31m").unwrap_err();
    /// assert_eq!(err, RequestIdError::Character { byte: 0x1b, at: 3 });
    /// assert_eq!(err.to_string(), "byte 0x1b at 3 is not allowed in an id");
    /// ```
    #[error("byte 0x{byte:02x} at {at} is not allowed in an id")]
    Character {
        /// The byte.
        ///
        /// ```
        /// use eventlog_http::{RequestId, RequestIdError};
        ///
        /// let Err(RequestIdError::Character { byte, .. }) = RequestId::parse("ord\"1") else {
        ///     panic!("a quote is not allowed in an id");
        /// };
        /// assert_eq!(byte, b'"');
        /// ```
        byte: u8,
        /// Its offset in the trimmed value.
        ///
        /// ```
        /// use eventlog_http::{RequestId, RequestIdError};
        ///
        /// let Err(RequestIdError::Character { at, .. }) = RequestId::parse("  ab\\c") else {
        ///     panic!("a backslash is not allowed in an id");
        /// };
        /// assert_eq!(at, 2);
        /// ```
        at: usize,
    },
}
