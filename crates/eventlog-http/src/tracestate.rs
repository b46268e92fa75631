//! The incoming `tracestate`, kept beside the request span so the client
//! side can pass it on.
//!
//! ```text
//! server: tracestate header ─> checked ─> request span's extensions (tracing-subscriber Registry)
//! client: current span ─> nearest span with one ─> tracestate header
//! ```
//!
//! eventlog's `PropagationContext` carries the ids, not `tracestate`, so it
//! is stored here through the registry's public span extensions.

use http::HeaderValue;
use tracing_subscriber::Registry;
use tracing_subscriber::registry::LookupSpan;

/// The W3C limit on a `tracestate` value we keep: 32 members of at most
/// 256 characters would be more; 512 is what the specification says a
/// vendor may rely on being propagated.
pub(crate) const MAX_TRACESTATE_LEN: usize = 512;

/// A checked `tracestate` value.
#[derive(Debug, Clone)]
struct TraceState(HeaderValue);

/// The value if it may travel on: at most [`MAX_TRACESTATE_LEN`] bytes of
/// printable ASCII (the specification's alphabet is a subset).
pub(crate) fn checked(value: &HeaderValue) -> Option<&HeaderValue> {
    let bytes = value.as_bytes();
    (!bytes.is_empty()
        && bytes.len() <= MAX_TRACESTATE_LEN
        && bytes.iter().all(|b| (0x20..0x7f).contains(b)))
    .then_some(value)
}

/// Stores `value` on `span`, when the subscriber is a tracing-subscriber
/// `Registry` (otherwise there is nowhere to keep it, and it is not passed on).
pub(crate) fn attach(span: &tracing::Span, value: HeaderValue) {
    span.with_subscriber(|(id, dispatch)| {
        if let Some(span) = dispatch
            .downcast_ref::<Registry>()
            .and_then(|registry| registry.span(id))
        {
            span.extensions_mut().replace(TraceState(value));
        }
    });
}

/// The `tracestate` of the nearest span in scope that has one.
pub(crate) fn current() -> Option<HeaderValue> {
    // `Span::current` must run outside `get_default`, which does not nest.
    let span = tracing::Span::current();
    let id = span.id()?;
    tracing::dispatcher::get_default(|dispatch| {
        let registry = dispatch.downcast_ref::<Registry>()?;
        let span = registry.span(&id)?;
        span.scope()
            .find_map(|s| s.extensions().get::<TraceState>().map(|t| t.0.clone()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_printable_values_travel() {
        assert!(
            checked(&HeaderValue::from_static(
                "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
            ))
            .is_some()
        );
        assert!(checked(&HeaderValue::from_static("")).is_none());
        let long = HeaderValue::from_str(&"a".repeat(513)).unwrap();
        assert!(checked(&long).is_none());
        let high = HeaderValue::from_bytes(b"k=\xc3\xa9").unwrap();
        assert!(checked(&high).is_none());
    }
}
