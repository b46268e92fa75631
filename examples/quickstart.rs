//! The smallest useful setup: JSON event records on stdout from an
//! `#[instrument]`ed flow with nested spans.
//!
//! ```text
//! cargo run --example quickstart
//! ```

use tracing::{info, instrument, warn};
use tracing_subscriber::prelude::*;

#[derive(Debug)]
struct Request {
    id: &'static str,
    user: &'static str,
}

#[instrument(skip_all, fields(request_id = %req.id, user_id = %req.user))]
fn checkout(req: &Request) {
    info!(
        event_name = "checkout_started",
        items = 2,
        "checkout started"
    );
    let total = price_cart(2);
    charge(total);
    info!(
        event_name = "order_placed",
        event_type = "business",
        order_id = "ord_1001",
        amount = total,
        currency = "USD",
        items = 2
    );
}

#[instrument(fields(step = "cart"))]
fn price_cart(items: u64) -> f64 {
    let total = 36.245 * f64::from(u32::try_from(items).unwrap_or(u32::MAX));
    info!(event_name = "cart_priced", total, "cart priced");
    total
}

#[instrument(fields(step = "payment", attempt = 1))]
fn charge(amount: f64) {
    warn!(
        event_name = "payment_retried",
        event_type = "error",
        error_type = "gateway_timeout",
        retry_attempt = 1
    );
    info!(
        event_name = "payment_captured",
        event_type = "business",
        amount,
        currency = "USD"
    );
}

fn main() {
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with(
            eventlog::layer()
                .service("checkout")
                .environment("dev")
                .version(env!("CARGO_PKG_VERSION"))
                .close_events(true),
        )
        .init();

    info!(
        event_name = "service_started",
        event_type = "system_event",
        "quickstart up"
    );
    checkout(&Request {
        id: "req_7f3a",
        user: "user_12345",
    });
}
