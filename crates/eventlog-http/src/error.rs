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
    #[error("`{name}` is not a valid header name")]
    HeaderName {
        /// The name given.
        name: String,
    },
    /// A trusted proxy that is neither an IP address (`10.1.2.3`, `::1`)
    /// nor a network in CIDR form (`10.0.0.0/8`, `fd00::/8`) with a prefix
    /// no longer than the address.
    #[error("`{value}` is not an IP address or network (`10.0.0.0/8`, `::1`)")]
    ProxyNetwork {
        /// The value given.
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
    #[error("empty id")]
    Empty,
    /// The value is longer than the limit, in bytes.
    #[error("id of {len} bytes is longer than {max}")]
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// The limit (`ServerLayerBuilder::max_id_len`).
        max: usize,
    },
    /// A byte outside the id alphabet (ASCII letters, digits and
    /// `-_.:;/+=@~`).
    #[error("byte 0x{byte:02x} at {at} is not allowed in an id")]
    Character {
        /// The byte.
        byte: u8,
        /// Its offset.
        at: usize,
    },
}
