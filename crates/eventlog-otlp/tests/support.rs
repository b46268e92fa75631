//! Helpers shared by the test modules.

use eventlog_otlp::{OtlpGuard, OtlpOutput, OtlpOutputBuilder};
use tracing_subscriber::prelude::*;

/// Builds `builder` with the layer's `Stats` wired to it, and emits `n`
/// `order_placed` events numbered by their `seq` field through a layer
/// whose only output it is.
#[cfg_attr(not(feature = "http"), allow(dead_code))] // Used by the HTTP tests.
pub fn emit_numbered(
    builder: OtlpOutputBuilder,
    n: u64,
) -> (OtlpOutput, OtlpGuard, eventlog::Stats) {
    let layer = eventlog::layer().without_writer();
    let stats = layer.stats();
    let (otlp, guard) = builder.stats(stats.clone()).build().unwrap();
    let layer = layer.output(otlp.clone());
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for seq in 0..n {
            tracing::info!(event_name = "order_placed", seq);
        }
    });
    (otlp, guard, stats)
}
