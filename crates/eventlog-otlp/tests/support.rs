//! Helpers shared by the test modules.

use eventlog_otlp::{OtlpGuard, OtlpOutput, OtlpOutputBuilder};
use eventlog_tests::collector::Collector;
use tracing_subscriber::prelude::*;

/// Builds `builder` with the layer's `Stats` wired to it, and emits `n`
/// `order_placed` events numbered by their `seq` field through a layer
/// whose only output it is.
#[cfg_attr(not(any(feature = "http", feature = "tls")), allow(dead_code))] // Used by the HTTP and TLS tests.
pub fn emit_numbered(
    builder: OtlpOutputBuilder,
    n: u64,
) -> (OtlpOutput, OtlpGuard, eventlog::Stats) {
    emit_numbered_through(eventlog::layer().without_writer(), builder, n)
}

/// [`emit_numbered`] through `layer` (a service name, say), `builder`'s
/// output added to it.
pub fn emit_numbered_through(
    layer: eventlog::EventLayer,
    builder: OtlpOutputBuilder,
    n: u64,
) -> (OtlpOutput, OtlpGuard, eventlog::Stats) {
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

/// A layer writing JSON lines to a capture and exporting the same records
/// over gRPC to `collector`, with the exporter's guard.
pub fn capture_and_export(
    collector: &Collector,
) -> (eventlog::testing::Capture, eventlog::EventLayer, OtlpGuard) {
    let capture = eventlog::testing::Capture::new();
    let (otlp, guard) = OtlpOutput::builder()
        .endpoint(collector.grpc_endpoint())
        .build()
        .unwrap();
    let layer = eventlog::layer().writer(capture.clone()).output(otlp);
    (capture, layer, guard)
}
