//! Request and correlation ids: taken from a header when they pass the
//! checks, generated otherwise.
//!
//! ```text
//! X-Request-ID ─> trim ─> 1..=max_id_len bytes of [A-Za-z0-9-_.:;/+=@~]? ─yes─> RequestId
//!                                                                       └─no──> generated
//! ```

use std::fmt;

use http::HeaderValue;

use crate::error::RequestIdError;

/// The default and bounds of [`ServerLayerBuilder::max_id_len`](crate::ServerLayerBuilder::max_id_len).
pub(crate) const DEFAULT_MAX_ID_LEN: usize = 128;
pub(crate) const MAX_ID_LEN_BOUNDS: (usize, usize) = (1, 1024);

/// A request (or correlation) id that passed the checks, or one the layer
/// generated: 1 to `max_id_len` bytes (default 128) of ASCII letters,
/// digits and `-_.:;/+=@~`. Nothing else reaches a record or a response
/// header, so a hostile header cannot break a log line or a log viewer.
///
/// The server layer puts it in the request's extensions, so a handler can
/// read it (with axum: `Extension<RequestId>`).
///
/// ```
/// use eventlog_http::RequestId;
///
/// let id = RequestId::parse(" req-7f3a ")?;
/// assert_eq!(id.as_str(), "req-7f3a");
/// assert!(RequestId::parse("req\u{1b}[31m").is_err());
/// # Ok::<(), eventlog_http::RequestIdError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RequestId(HeaderValue);

impl RequestId {
    /// Checks `value` with the default length limit (128 bytes); spaces and
    /// tabs around it are trimmed.
    ///
    /// ```
    /// use eventlog_http::{RequestId, RequestIdError};
    ///
    /// assert_eq!(RequestId::parse("\tRoot=1-5759e988;Parent=53995c3f ")?.as_str(), "Root=1-5759e988;Parent=53995c3f");
    /// assert!(RequestId::parse(&"a".repeat(128)).is_ok());
    /// assert_eq!(RequestId::parse(&"a".repeat(129)), Err(RequestIdError::TooLong { len: 129, max: 128 }));
    /// assert_eq!(RequestId::parse("a b"), Err(RequestIdError::Character { byte: b' ', at: 1 }));
    /// # Ok::<(), RequestIdError>(())
    /// ```
    pub fn parse(value: &str) -> Result<Self, RequestIdError> {
        Self::from_bytes(value.as_bytes(), DEFAULT_MAX_ID_LEN)
    }

    /// Checks a header's bytes against a length limit; spaces and tabs
    /// around it are trimmed.
    pub(crate) fn from_bytes(value: &[u8], max: usize) -> Result<Self, RequestIdError> {
        let value = check(value, max)?;
        HeaderValue::from_bytes(value)
            .map(Self)
            .map_err(|_| RequestIdError::Empty)
    }

    /// Takes a header value as it came: shares its bytes when it passes
    /// untrimmed.
    pub(crate) fn from_header(value: &HeaderValue, max: usize) -> Result<Self, RequestIdError> {
        let bytes = value.as_bytes();
        if check(bytes, max)?.len() == bytes.len() {
            Ok(Self(value.clone()))
        } else {
            Self::from_bytes(bytes, max)
        }
    }

    /// A fresh id: a random (version 4) UUID in its usual text form,
    /// `8-4-4-4-12` lowercase hex digits.
    ///
    /// ```
    /// let id = eventlog_http::RequestId::generate();
    /// assert_eq!(id.as_str().len(), 36);
    /// assert_eq!(&id.as_str()[14..15], "4");
    /// assert_ne!(id, eventlog_http::RequestId::generate());
    /// ```
    pub fn generate() -> Self {
        // fastrand (already a dependency of eventlog) rather than a uuid
        // crate: a request id must be unique, not secret, and 122 bits from
        // fastrand's per-thread generator (seeded from the OS's random
        // state) make a collision improbable at any request rate; a uuid
        // crate would add a dependency for twelve lines of formatting.
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut bytes = fastrand::u128(..).to_le_bytes();
        bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
        bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
        let mut text = [0u8; 36];
        let mut at = 0;
        for (i, b) in bytes.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                text[at] = b'-';
                at += 1;
            }
            text[at] = HEX[usize::from(b >> 4)];
            text[at + 1] = HEX[usize::from(b & 0xf)];
            at += 2;
        }
        Self(HeaderValue::from_bytes(&text).unwrap_or(HeaderValue::from_static("generated")))
    }

    /// The id's text.
    ///
    /// ```
    /// assert_eq!(eventlog_http::RequestId::parse("r-1").map(|id| id.as_str().len()), Ok(3));
    /// ```
    pub fn as_str(&self) -> &str {
        // Every byte was checked to be visible ASCII, so this never fails.
        self.0.to_str().unwrap_or_default()
    }

    /// The id as a header value.
    pub(crate) fn header_value(&self) -> &HeaderValue {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestId({})", self.as_str())
    }
}

/// The trimmed value, if it is an id.
fn check(value: &[u8], max: usize) -> Result<&[u8], RequestIdError> {
    let value = value.trim_ascii();
    if value.is_empty() {
        return Err(RequestIdError::Empty);
    }
    if value.len() > max {
        return Err(RequestIdError::TooLong {
            len: value.len(),
            max,
        });
    }
    match value.iter().position(|&b| !allowed(b)) {
        Some(at) => Err(RequestIdError::Character {
            byte: value.get(at).copied().unwrap_or_default(),
            at,
        }),
        None => Ok(value),
    }
}

/// The id alphabet: what proxies and tracing vendors put in ids (UUIDs,
/// base64, `Root=1-…;Parent=…`), and nothing a log line or terminal would
/// read as structure (space, quote, backslash, control, non-ASCII).
fn allowed(b: u8) -> bool {
    ALPHABET[usize::from(b)]
}

const ALPHABET: [bool; 256] = {
    let mut table = [false; 256];
    let mut b: u8 = 0;
    loop {
        table[b as usize] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'_' | b'.' | b':' | b';' | b'/' | b'+' | b'=' | b'@' | b'~'
            );
        if b == u8::MAX {
            break;
        }
        b += 1;
    }
    table
};

/// Where a span's `request_id` came from, for the `request_id_source` span
/// field (recorded only when not `Header`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Header,
    Generated,
    Refused,
}

impl Source {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Header => "header",
            Self::Generated => "generated",
            Self::Refused => "refused",
        }
    }
}

/// The request's id from `value`, or a generated one, and where it came from.
pub(crate) fn take_or_generate(value: Option<&HeaderValue>, max: usize) -> (RequestId, Source) {
    match value.map(|v| RequestId::from_header(v, max)) {
        Some(Ok(id)) => (id, Source::Header),
        Some(Err(_)) => (RequestId::generate(), Source::Refused),
        None => (RequestId::generate(), Source::Generated),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn generated_ids_are_uuid_v4_text() {
        for _ in 0..1000 {
            let id = RequestId::generate();
            let s = id.as_str();
            assert_eq!(s.len(), 36);
            assert_eq!(s.as_bytes()[14], b'4');
            assert!(matches!(s.as_bytes()[19], b'8' | b'9' | b'a' | b'b'));
            assert!(RequestId::parse(s).is_ok());
        }
    }

    #[test]
    fn a_header_value_with_spaces_around_is_trimmed() {
        let v = HeaderValue::from_static("  abc ");
        assert_eq!(RequestId::from_header(&v, 8).unwrap().as_str(), "abc");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn any_bytes_are_an_id_or_a_typed_refusal(bytes in proptest::collection::vec(any::<u8>(), 0..2048), max in 0usize..2048) {
            match RequestId::from_bytes(&bytes, max) {
                Ok(id) => {
                    prop_assert!(!id.as_str().is_empty() && id.as_str().len() <= max);
                    prop_assert!(id.as_str().bytes().all(allowed));
                }
                Err(RequestIdError::TooLong { len, max: m }) => prop_assert!(len > m),
                Err(_) => {}
            }
        }

        #[test]
        fn any_text_is_an_id_or_a_typed_refusal(text in "\\PC*") {
            if let Ok(id) = RequestId::parse(&text) {
                prop_assert_eq!(id.as_str(), text.trim_matches([' ', '\t', '\n', '\r', '\x0c']));
            }
        }
    }
}
