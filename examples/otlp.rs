//! Events to an OpenTelemetry collector over OTLP/gRPC, and the same events
//! as JSON lines on stdout.
//!
//! The endpoint is `OTEL_EXPORTER_OTLP_ENDPOINT` (or the logs-specific
//! variable), else `http://127.0.0.1:4317`. Against a local rotel:
//!
//! ```text
//! ROTEL_AGENT=$(./scripts/install-collector)
//! $ROTEL_AGENT start --otlp-grpc-endpoint 127.0.0.1:4317 --exporter blackhole --debug-log logs --debug-log-verbosity detailed &
//! cargo run --example otlp
//! ```
//!
//! rotel prints every record it received; stop it with `kill %1`.

// An example reports its result on stderr (stdout carries the JSON lines).
#![allow(clippy::print_stderr)]

use std::time::Duration;

use tracing::{info, info_span, warn};
use tracing_subscriber::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let from_env = [
        "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ]
    .iter()
    .any(|v| std::env::var_os(v).is_some_and(|e| !e.is_empty()));
    let mut output = eventlog_otlp::OtlpOutput::builder();
    if !from_env {
        output = output.endpoint("http://127.0.0.1:4317");
    }
    let (otlp, guard) = output.build()?;
    let layer = eventlog::layer().service("checkout").output(otlp.clone());
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))?;

    let request = info_span!("checkout", request_id = "req-42", user_id = "u-7");
    request.in_scope(|| {
        info!(
            event_name = "checkout_started",
            items = 2,
            "checkout started"
        );
        warn!(
            event_name = "payment_retried",
            event_type = "error",
            attempt = 2
        );
        info!(
            event_name = "order_placed",
            event_type = "business",
            order_id = "ord_1001",
            amount = 72.49,
            currency = "USD",
            "order placed"
        );
    });

    // Exports what is queued; an error says how many records were lost
    // (for example when no collector listens).
    let stats = guard.shutdown(Duration::from_secs(5))?;
    eprintln!(
        "exported {} records to the collector, dropped {}",
        stats.exported,
        stats.dropped()
    );
    Ok(())
}
