//! The smallest useful setup: checked, redacted JSON event records on
//! stdout from an `#[instrument]`ed flow with nested spans.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! The schema is `examples/events.toml`. One event breaks it on purpose (a
//! lowercase currency) and comes out with `schema_errors`; one carries a
//! password and a card number, which come out redacted.

use std::path::Path;

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
        event_name = "user_login_attempt",
        result = "success",
        attempt_count = 1u64,
        password = "hunter2"
    );
    info!(
        event_name = "checkout_started",
        items = 2u64,
        "checkout started"
    );
    let total = price_cart(2);
    charge(total);
    info!(
        event_name = "order_placed",
        order_id = "ord_1001",
        amount = total,
        currency = "USD",
        items = 2u64
    );
    // Deliberately broken: the schema wants an ISO currency code.
    info!(
        event_name = "order_placed",
        order_id = "ord_1002",
        amount = 5.0,
        currency = "usd"
    );
}

#[instrument(fields(step = "cart"))]
fn price_cart(items: u32) -> f64 {
    let total = 36.245 * f64::from(items);
    info!(event_name = "cart_priced", total, "cart priced");
    total
}

#[instrument(fields(step = "payment", attempt = 1))]
fn charge(amount: f64) {
    warn!(
        event_name = "payment_retried",
        error_type = "gateway_timeout",
        retry_attempt = 1u64,
        "gateway timed out charging card 4111 1111 1111 1111, retrying"
    );
    info!(event_name = "payment_captured", amount, currency = "USD");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let schema =
        eventlog::Schema::from_file(Path::new(env!("CARGO_MANIFEST_DIR")).join("events.toml"))?;
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    tracing_subscriber::registry()
        .with(filter)
        .with(
            eventlog::layer()
                .service("checkout")
                .environment("dev")
                .version(env!("CARGO_PKG_VERSION"))
                .schema(schema)
                .close_events(true),
        )
        .init();

    info!(event_name = "service_started", "quickstart up");
    checkout(&Request {
        id: "req_7f3a",
        user: "user_12345",
    });
    Ok(())
}
