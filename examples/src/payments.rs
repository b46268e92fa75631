//! The payments service: `POST /orders/{order_id}/charge` with the amount
//! as the body. It retries a flaky card gateway up to three times.
//!
//! ```text
//! 200  payment_captured                (or, now and then, a capture without its amount: dead-lettered)
//! 402  payment_failed  card_declined, insufficient_funds, fraud_suspected
//! 503  payment_failed  retries_exhausted, after three timeout_occurred
//! ```
//!
//! Its records carry the caller's `trace_id` and `request_id`: the server
//! layer continued them from the headers checkout's client sent.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use tracing::{error, info, instrument, warn};

use crate::simulation::{Request, payment_rng};

/// The card number every simulated payment uses (only its last four may appear).
pub const CARD: &str = "4111 1111 1111 1111";

/// The warning of the fraud check's retry loop: the main job's log storm.
pub const RETRY_EVENT: &str = "fraud_check_retried";

/// Retries of the fraud check when it is down for a request.
pub const STORM_RETRIES: u64 = 300;

/// The service's routes; `seed` decides every outcome (its `/metrics`
/// are the library's endpoint, beside it).
pub fn app(seed: u64) -> Router {
    Router::new()
        .route("/orders/{order_id}/charge", post(charge))
        .with_state(seed)
}

async fn charge(
    State(seed): State<u64>,
    Path(order_id): Path<String>,
    amount: String,
) -> StatusCode {
    let (Some(n), Ok(amount)) = (
        order_id.strip_prefix("ord_").and_then(|n| n.parse().ok()),
        amount.trim().parse::<f64>(),
    ) else {
        warn!(
            event_name = "payment_rejected",
            order_id = %order_id,
            "not an order id and an amount"
        );
        return StatusCode::BAD_REQUEST;
    };
    capture(&mut payment_rng(seed, n), &order_id, amount).await
}

#[instrument(skip_all, fields(order_id = %order_id))]
async fn capture(req: &mut Request, order_id: &str, amount: f64) -> StatusCode {
    // The flaky dependency: for 2 % of the orders the fraud check is down
    // and a tight retry loop warns on every attempt (the storm the layer's
    // limits hold).
    if req.chance(0.02) {
        for attempt in 1..=STORM_RETRIES {
            warn!(
                event_name = RETRY_EVENT,
                attempt,
                dependency = "fraud_check",
                "fraud check unavailable, retrying"
            );
        }
    }
    for retry_attempt in 0..3u64 {
        req.work(300..2_500).await;
        if req.chance(0.10) {
            warn!(
                event_name = "timeout_occurred",
                error_type = "gateway_timeout",
                operation = "payment_gateway.charge",
                timeout_ms = 2_000.0,
                retry_attempt,
                "payment gateway timed out"
            );
            continue;
        }
        if req.chance(0.07) {
            let error_type =
                req.one_of(&["card_declined", "insufficient_funds", "fraud_suspected"]);
            error!(
                event_name = "payment_failed",
                error_type, order_id, retry_attempt, "charging card {CARD} failed: {error_type}"
            );
            return StatusCode::PAYMENT_REQUIRED;
        }
        if req.chance(0.005) {
            // A deliberate schema violation: no amount (dead-lettered).
            info!(event_name = "payment_captured", currency = "USD");
        } else {
            info!(event_name = "payment_captured", amount, currency = "USD");
        }
        return StatusCode::OK;
    }
    error!(
        event_name = "payment_failed",
        error_type = "retries_exhausted",
        order_id,
        retry_attempt = 3u64,
        "payment gave up after 3 timeouts"
    );
    StatusCode::SERVICE_UNAVAILABLE
}
