//! W3C Trace Context identifiers and the `traceparent` header.
//!
//! Ids are fixed-size byte arrays, rendered as lowercase hex only when a line
//! is written, so carrying them through spans costs a copy of 24 bytes.

use std::fmt;
use std::str::FromStr;

/// A W3C trace id: 16 bytes, written as 32 lowercase hex digits. Never all zero.
///
/// ```
/// use eventlog::TraceId;
///
/// let id: TraceId = "4bf92f3577b34da6a3ce929d0e0e4736".parse()?;
/// assert_eq!(id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// assert!("00000000000000000000000000000000".parse::<TraceId>().is_err());
/// # Ok::<(), eventlog::ParseIdError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceId([u8; 16]);

/// A W3C span (parent) id: 8 bytes, written as 16 lowercase hex digits. Never all zero.
///
/// ```
/// use eventlog::SpanId;
///
/// let id: SpanId = "00f067aa0ba902b7".parse()?;
/// assert_eq!(id.to_bytes(), [0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]);
/// # Ok::<(), eventlog::ParseIdError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpanId([u8; 8]);

/// Why a trace id, span id or `traceparent` value was refused.
///
/// ```
/// use eventlog::{ParseIdError, SpanId};
///
/// assert_eq!("xyz".parse::<SpanId>(), Err(ParseIdError::Length { expected: 16, found: 3 }));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseIdError {
    /// The text has the wrong number of characters.
    #[error("expected {expected} hex digits, found {found} characters")]
    Length {
        /// How many were expected.
        expected: usize,
        /// How many there were.
        found: usize,
    },
    /// A character is not a lowercase hex digit.
    #[error("`{0}` is not a lowercase hex digit")]
    NotHex(char),
    /// All-zero ids are invalid in W3C Trace Context.
    #[error("an all-zero id is invalid")]
    Zero,
    /// The `traceparent` value does not have the `version-trace-parent-flags` shape,
    /// or uses the forbidden version `ff`.
    #[error("`{0}` is not a valid traceparent")]
    TraceParent(String),
}

macro_rules! hex_id {
    ($ty:ident, $n:literal) => {
        impl $ty {
            /// Builds an id from its bytes; `None` if they are all zero.
            pub fn from_bytes(bytes: [u8; $n]) -> Option<Self> {
                (bytes != [0; $n]).then_some(Self(bytes))
            }

            /// The id's bytes.
            pub fn to_bytes(self) -> [u8; $n] {
                self.0
            }

            /// A fresh random, non-zero id.
            pub(crate) fn random() -> Self {
                loop {
                    let mut bytes = [0u8; $n];
                    for chunk in bytes.chunks_mut(8) {
                        let r = fastrand::u64(..).to_le_bytes();
                        chunk.copy_from_slice(&r[..chunk.len()]);
                    }
                    if let Some(id) = Self::from_bytes(bytes) {
                        return id;
                    }
                }
            }
        }

        impl FromStr for $ty {
            type Err = ParseIdError;

            fn from_str(s: &str) -> Result<Self, ParseIdError> {
                let bytes = parse_hex::<$n>(s)?;
                Self::from_bytes(bytes).ok_or(ParseIdError::Zero)
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                for b in self.0 {
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({self})", stringify!($ty))
            }
        }
    };
}

hex_id!(TraceId, 16);
hex_id!(SpanId, 8);

fn parse_hex<const N: usize>(s: &str) -> Result<[u8; N], ParseIdError> {
    if s.len() != N * 2 {
        return Err(ParseIdError::Length {
            expected: N * 2,
            found: s.chars().count(),
        });
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Ok(c - b'0'),
        b'a'..=b'f' => Ok(c - b'a' + 10),
        _ => Err(ParseIdError::NotHex(char::from(c))),
    };
    let mut out = [0u8; N];
    for (i, pair) in s.as_bytes().chunks_exact(2).enumerate() {
        out[i] = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Ok(out)
}

/// The ids that place a record in a distributed trace: W3C trace id, the
/// span's own id, and the trace flags (bit 0 = sampled).
///
/// ```
/// use eventlog::TraceContext;
///
/// let parent: TraceContext =
///     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse()?;
/// assert_eq!(parent.trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// assert_eq!(parent.span_id().to_string(), "00f067aa0ba902b7");
/// assert!(parent.is_sampled());
/// assert_eq!(parent.to_traceparent(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
/// # Ok::<(), eventlog::ParseIdError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceContext {
    trace_id: TraceId,
    span_id: SpanId,
    flags: u8,
}

impl TraceContext {
    /// A context from its parts; `flags` bit 0 means sampled.
    pub fn new(trace_id: TraceId, span_id: SpanId, flags: u8) -> Self {
        Self {
            trace_id,
            span_id,
            flags,
        }
    }

    /// The trace this record belongs to.
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// The span the record was emitted in.
    pub fn span_id(&self) -> SpanId {
        self.span_id
    }

    /// The W3C trace flags byte.
    pub fn flags(&self) -> u8 {
        self.flags
    }

    /// Whether the caller asked for this trace to be sampled (flags bit 0).
    pub fn is_sampled(&self) -> bool {
        self.flags & 1 == 1
    }

    /// The `traceparent` header value naming this span as the parent.
    pub fn to_traceparent(&self) -> String {
        format!("00-{}-{}-{:02x}", self.trace_id, self.span_id, self.flags)
    }

    /// A child of this context: same trace and flags, a fresh span id.
    pub(crate) fn child(&self) -> Self {
        Self {
            span_id: SpanId::random(),
            ..*self
        }
    }

    /// A new root: fresh trace and span ids, sampled.
    pub(crate) fn root() -> Self {
        Self {
            trace_id: TraceId::random(),
            span_id: SpanId::random(),
            flags: 1,
        }
    }
}

impl FromStr for TraceContext {
    type Err = ParseIdError;

    /// Parses a W3C `traceparent` header value
    /// (`version-traceid-parentid-flags`). Versions other than `00` are
    /// accepted if the first four parts have the version-00 shape, as the
    /// specification asks; version `ff` is refused.
    fn from_str(s: &str) -> Result<Self, ParseIdError> {
        let bad = || ParseIdError::TraceParent(s.chars().take(64).collect());
        let s = s.trim();
        let mut parts = s.split('-');
        let (Some(version), Some(trace), Some(span), Some(flags)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let version = parse_hex::<1>(version).map_err(|_| bad())?[0];
        if version == 0xff || (version == 0 && parts.next().is_some()) {
            return Err(bad());
        }
        Ok(Self {
            trace_id: trace.parse()?,
            span_id: span.parse()?,
            flags: parse_hex::<1>(flags).map_err(|_| bad())?[0],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparent_round_trips() {
        let tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        let cx: TraceContext = tp.parse().unwrap();
        assert_eq!(cx.to_traceparent(), tp);
    }

    #[test]
    fn bad_traceparents_are_refused() {
        let bad = [
            "",
            "00",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
            "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
            "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",
            "00-0af7651916cd43dd8448eb211c80319-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0g",
            "00-0af7651916cd43dd8448eb211c80319é-b7ad6b7169203331-01",
        ];
        for tp in bad {
            assert!(tp.parse::<TraceContext>().is_err(), "{tp:?} was accepted");
        }
    }

    #[test]
    fn future_versions_with_extra_parts_are_accepted() {
        let tp = "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-ever";
        assert!(tp.parse::<TraceContext>().is_ok());
    }

    #[test]
    fn random_ids_are_distinct_and_hex() {
        let a = TraceId::random();
        let b = TraceId::random();
        assert_ne!(a, b);
        assert_eq!(a.to_string().parse::<TraceId>().unwrap(), a);
    }
}
