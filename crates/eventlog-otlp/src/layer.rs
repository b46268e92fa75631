//! `layer()`: an eventlog layer whose only output is OTLP.

use std::time::Duration;

use eventlog::EventLayer;

use crate::{OtlpError, OtlpGuard, OtlpOutputBuilder, Protocol};

/// An event layer exporting over OTLP, for programs that want no JSON
/// lines; see [`layer`].
#[derive(Debug)]
#[must_use]
pub struct OtlpLayerBuilder {
    layer: EventLayer,
    output: OtlpOutputBuilder,
}

/// A builder for an [`eventlog::EventLayer`] that writes no JSON lines and
/// exports every record over OTLP.
///
/// The layer's settings (service, environment, envelope) come from
/// [`OtlpLayerBuilder::layer`] (default: [`eventlog::layer`]; the resource
/// still takes `OTEL_SERVICE_NAME` / `OTEL_RESOURCE_ATTRIBUTES`, read by the
/// output when it is built), the transport's from
/// the shortcuts here or [`OtlpLayerBuilder::output`]. Drops after `emit`
/// are counted in the layer's [`Stats`](eventlog::Stats).
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let (layer, guard) = eventlog_otlp::layer()
///     .endpoint("http://127.0.0.1:9") // nothing listens: records wait
///     .service("checkout")
///     .build()?;
/// let stats = layer.stats();
/// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
///     tracing::info!(event_name = "order_placed", order_id = "o-1");
/// });
/// assert_eq!(stats.snapshot().accepted, 1); // queued for export
/// assert_eq!(guard.stats().queued, 1);
/// # drop(guard.shutdown(std::time::Duration::ZERO)); Ok(()) }
/// ```
pub fn layer() -> OtlpLayerBuilder {
    OtlpLayerBuilder {
        layer: eventlog::layer(),
        output: OtlpOutputBuilder::new(),
    }
}

impl OtlpLayerBuilder {
    /// The collector URL; see [`OtlpOutputBuilder::endpoint`].
    ///
    /// ```
    /// assert!(eventlog_otlp::layer().endpoint("nope").build().is_err());
    /// ```
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.output = self.output.endpoint(url);
        self
    }

    /// The wire protocol; see [`OtlpOutputBuilder::protocol`].
    ///
    /// ```
    /// let b = eventlog_otlp::layer().protocol(eventlog_otlp::Protocol::Grpc);
    /// # let _ = b;
    /// ```
    pub fn protocol(mut self, protocol: Protocol) -> Self {
        self.output = self.output.protocol(protocol);
        self
    }

    /// The export timeout; see [`OtlpOutputBuilder::timeout`].
    ///
    /// ```
    /// let b = eventlog_otlp::layer().timeout(std::time::Duration::from_secs(3));
    /// # let _ = b;
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.output = self.output.timeout(timeout);
        self
    }

    /// The service name (`service.name`); see [`eventlog::EventLayer::service`].
    ///
    /// ```
    /// let b = eventlog_otlp::layer().service("checkout");
    /// # let _ = b;
    /// ```
    pub fn service(mut self, name: impl Into<String>) -> Self {
        self.layer = self.layer.service(name);
        self
    }

    /// Replaces the event layer (for an envelope, a deployment, close
    /// events, …). Its JSON writer is removed.
    ///
    /// ```
    /// let b = eventlog_otlp::layer().layer(eventlog::layer().environment("prod").close_events(true));
    /// # let _ = b;
    /// ```
    pub fn layer(mut self, layer: EventLayer) -> Self {
        self.layer = layer;
        self
    }

    /// Replaces every transport and queue setting.
    ///
    /// ```
    /// let b = eventlog_otlp::layer().output(eventlog_otlp::OtlpOutput::builder().max_batch(512));
    /// # let _ = b;
    /// ```
    pub fn output(mut self, output: OtlpOutputBuilder) -> Self {
        self.output = output;
        self
    }

    /// Builds the output and returns the layer with its guard: keep the
    /// guard alive while the program logs; dropping it exports what is
    /// queued.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let (layer, _guard) = eventlog_otlp::layer().endpoint("http://127.0.0.1:9").build()?;
    /// assert_eq!(layer.stats().snapshot().emitted, 0);
    /// # Ok(()) }
    /// ```
    pub fn build(self) -> Result<(EventLayer, OtlpGuard), OtlpError> {
        let stats = self.layer.stats();
        let (output, guard) = self.output.stats(stats).build()?;
        Ok((self.layer.without_writer().output(output), guard))
    }
}
