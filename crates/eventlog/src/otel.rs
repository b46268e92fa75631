//! Interop with `tracing-opentelemetry`: take ids from its spans so logs and
//! exported traces share `trace_id` / `span_id`.
//!
//! The feature tracks one `tracing-opentelemetry` release (0.34, OpenTelemetry
//! 0.33). Interop is switched on by [`EventLayer::with_opentelemetry`], which
//! takes a reference to the user's `OpenTelemetryLayer`: if the user's
//! `tracing-opentelemetry` is a different release, that type does not match
//! and the program does not compile, instead of silently losing the ids.
//!
//! [`EventLayer::with_opentelemetry`]: crate::EventLayer::with_opentelemetry

use tracing::Dispatch;
use tracing_core::span;

use crate::trace::TraceContext;

/// The OpenTelemetry span context of span `id`, if `tracing-opentelemetry`
/// tracks it and it is valid.
///
/// Must not be called while holding the span's extensions.
#[cfg(feature = "opentelemetry")]
pub(crate) fn trace_of(id: &span::Id, dispatch: &Dispatch) -> Option<TraceContext> {
    use opentelemetry::trace::TraceContextExt as _;

    use crate::trace::{SpanId, TraceId};

    let cx = tracing_opentelemetry::get_otel_context(id, dispatch)?;
    let span = cx.span();
    let sc = span.span_context();
    if !sc.is_valid() {
        return None;
    }
    Some(TraceContext::new(
        TraceId::from_bytes(sc.trace_id().to_bytes())?,
        SpanId::from_bytes(sc.span_id().to_bytes())?,
        sc.trace_flags().to_u8(),
    ))
}

/// Without the feature there is never an OpenTelemetry context.
#[cfg(not(feature = "opentelemetry"))]
pub(crate) fn trace_of(_id: &span::Id, _dispatch: &Dispatch) -> Option<TraceContext> {
    None
}
