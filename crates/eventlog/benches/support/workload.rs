//! The per-event workload that every comparison in this project runs (the
//! `layer` and `otlp` benches, the allocation test, `examples/per_event.rs`),
//! written once so that all their figures measure the same thing: an INFO
//! event with six fields (`event_name`, a string id, an f64, a string, a
//! u64, a bool) and a message, inside two nested spans with three fields
//! each.
//!
//! Included with `#[path]`: it is not a bench target of its own.

/// Emits the workload's event.
pub(crate) fn emit_event() {
    tracing::info!(
        event_name = "order_placed",
        order_id = "ord_1001",
        amount = 72.49,
        currency = "USD",
        items = 2u64,
        gift = false,
        "order placed"
    );
}

/// Runs `f` inside the workload's two nested spans.
pub(crate) fn in_two_spans<R>(f: impl FnOnce() -> R) -> R {
    let _request = tracing::info_span!(
        "request",
        request_id = "req_7f3a9b",
        user_id = "user_12345",
        session_id = "sess_9c2e41"
    )
    .entered();
    let _payment = tracing::info_span!(
        "payment",
        step = "authorize",
        attempt = 1u64,
        region = "eu-west-1"
    )
    .entered();
    f()
}
