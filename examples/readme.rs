//! The twenty-line example of the README, as a program that runs.
//!
//! ```text
//! cargo run --example readme
//! ```

use tracing::{info, instrument};
use tracing_subscriber::prelude::*;

#[instrument(skip_all, fields(request_id = %req_id, user_id = %user))]
fn checkout(req_id: &str, user: &str) {
    info!(
        event_name = "order_placed",
        event_type = "business",
        order_id = "ord_1001",
        amount = 72.49,
        currency = "USD",
        items = 2
    );
    info!(
        event_name = "payment_failed",
        event_type = "error",
        error_type = "card_declined",
        card = "4111 1111 1111 1111"
    );
}

fn main() {
    tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new("info"))
        .with(eventlog::layer().service("checkout").environment("prod"))
        .init();
    checkout("req_7f3a", "user_12345");
}
