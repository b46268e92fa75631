//! Record → OpenTelemetry log record.
//!
//! ```text
//! caller thread:  &Record ──copy──> Pending (one text arena + typed attributes)
//! export thread:  Pending ──────────> SdkLogRecord ──> LogBatch ──> exporter
//! ```
//!
//! The caller only copies what the record borrows (two allocations: the
//! arena and the attribute list); building OpenTelemetry values, interning
//! event names and grouping happen on the export thread.

use std::collections::HashMap;
use std::ops::Range;
use std::time::SystemTime;

use eventlog::{Deployment, Record, Value};
use opentelemetry::logs::{AnyValue, LogRecord as _, Severity};
use opentelemetry::trace::{SpanId, TraceFlags, TraceId};
use opentelemetry::{Key, KeyValue};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::SdkLogRecord;
use tracing_core::Level;

/// Correlation keys renamed to their OpenTelemetry semantic-convention
/// names; every other correlation key keeps its record name.
const SEMCONV_CORRELATION: [(&str, &str); 2] =
    [("user_id", "user.id"), ("session_id", "session.id")];

/// Attribute keys this mapping writes itself; an event field with one of
/// these names is written as `metadata.<name>` instead.
const RESERVED: [&str; 9] = [
    "event.type",
    "user.id",
    "session.id",
    "request_id",
    "correlation_id",
    "span.name",
    "duration_ms",
    "code.file.path",
    "code.line.number",
];

/// Targets whose events never go through this output: the exporter's own
/// stack. Exporting them would feed the exporter's diagnostics back into it.
pub(crate) const OWN_TARGETS: [&str; 7] = [
    "opentelemetry",
    "tonic",
    "hyper",
    "h2",
    "reqwest",
    "tower",
    "eventlog_otlp",
];

/// Whether `target` belongs to the exporter's own stack.
pub(crate) fn is_own_target(target: &str) -> bool {
    // First-byte check first: most targets are the application's own.
    matches!(
        target.as_bytes().first(),
        Some(b'o' | b't' | b'h' | b'r' | b'e')
    ) && OWN_TARGETS.iter().any(|own| {
        target.starts_with(own)
            && matches!(target.as_bytes().get(own.len()), None | Some(b':' | b'_'))
    })
}

/// A typed attribute value, pointing into the arena for strings.
#[derive(Debug, Clone)]
enum PendingValue {
    Str(Range<u32>),
    I64(i64),
    F64(f64),
    Bool(bool),
}

#[derive(Debug, Clone)]
enum PendingKey {
    Static(&'static str),
    Text(Range<u32>),
    /// `prefix` followed by the text (`span.` + field name).
    Prefixed(&'static str, Range<u32>),
}

#[derive(Debug, Clone)]
struct PendingAttr {
    key: PendingKey,
    value: PendingValue,
}

/// An owned copy of one record, waiting in the queue.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    timestamp: SystemTime,
    level: Level,
    trace: Option<([u8; 16], [u8; 8], u8)>,
    text: String,
    target: Range<u32>,
    event_name: Option<Range<u32>>,
    message: Option<Range<u32>>,
    attrs: Vec<PendingAttr>,
}

/// Fixed per-record cost counted against the byte budget, beside the text:
/// timestamps, severity, ids and the struct itself.
const RECORD_OVERHEAD: usize = 160;
/// Per-attribute cost counted against the byte budget.
const ATTR_OVERHEAD: usize = 40;

impl Pending {
    /// Copies `record` (already redacted and checked by the layer).
    pub(crate) fn from_record(record: &Record<'_>) -> Self {
        let fields = record.fields();
        let span_fields = record.span_fields();
        let mut p = Pending {
            timestamp: record.timestamp(),
            level: record.level(),
            trace: record
                .trace()
                .map(|t| (t.trace_id().to_bytes(), t.span_id().to_bytes(), t.flags())),
            text: String::with_capacity(256),
            target: 0..0,
            event_name: None,
            message: None,
            attrs: Vec::with_capacity(fields.len() + span_fields.len() + 6),
        };
        p.target = p.push_text(record.target());
        p.event_name = record.event_name().map(|n| p.push_text(n));
        p.message = record.message().map(|m| p.push_text(m));
        let event_type = p.push_text(record.event_type());
        p.push_attr(
            PendingKey::Static("event.type"),
            PendingValue::Str(event_type),
        );
        for (key, value) in record.correlation() {
            let key = match SEMCONV_CORRELATION.iter().find(|(k, _)| *k == key) {
                Some((_, semconv)) => PendingKey::Static(semconv),
                None => PendingKey::Text(p.push_text(key)),
            };
            let value = PendingValue::Str(p.push_text(value));
            p.push_attr(key, value);
        }
        for field in fields {
            let key = if RESERVED.contains(&field.name) {
                PendingKey::Prefixed("metadata.", p.push_text(field.name))
            } else {
                PendingKey::Text(p.push_text(field.name))
            };
            let value = p.value(field.value);
            p.push_attr(key, value);
        }
        if let Some(name) = record.span_name() {
            let name = p.push_text(name);
            p.push_attr(PendingKey::Static("span.name"), PendingValue::Str(name));
            for field in span_fields {
                let key = PendingKey::Prefixed("span.", p.push_text(field.name));
                let value = p.value(field.value);
                p.push_attr(key, value);
            }
        }
        if let Some(d) = record.duration() {
            let ms = d.as_secs_f64() * 1000.0;
            p.push_attr(PendingKey::Static("duration_ms"), PendingValue::F64(ms));
        }
        let meta = record.metadata();
        if let Some(file) = meta.file() {
            let file = p.push_text(file);
            p.push_attr(
                PendingKey::Static("code.file.path"),
                PendingValue::Str(file),
            );
        }
        if let Some(line) = meta.line() {
            p.push_attr(
                PendingKey::Static("code.line.number"),
                PendingValue::I64(i64::from(line)),
            );
        }
        p
    }

    /// What this record counts against the byte budget: its text plus a
    /// fixed cost per record and per attribute (close to its protobuf size).
    pub(crate) fn budget_bytes(&self) -> usize {
        RECORD_OVERHEAD + self.text.len() + self.attrs.len() * ATTR_OVERHEAD
    }

    fn push_text(&mut self, s: &str) -> Range<u32> {
        let clamp = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        let start = clamp(self.text.len());
        self.text.push_str(s);
        start..clamp(self.text.len())
    }

    fn push_attr(&mut self, key: PendingKey, value: PendingValue) {
        self.attrs.push(PendingAttr { key, value });
    }

    fn value(&mut self, value: Value<'_>) -> PendingValue {
        match value {
            Value::I64(v) => PendingValue::I64(v),
            Value::F64(v) => PendingValue::F64(v),
            Value::Bool(v) => PendingValue::Bool(v),
            Value::Str(s) => PendingValue::Str(self.push_text(s)),
            Value::U64(v) => i64::try_from(v).map_or_else(
                |_| PendingValue::Str(self.push_display(v)),
                PendingValue::I64,
            ),
            Value::I128(v) => i64::try_from(v).map_or_else(
                |_| PendingValue::Str(self.push_display(v)),
                PendingValue::I64,
            ),
            Value::U128(v) => i64::try_from(v).map_or_else(
                |_| PendingValue::Str(self.push_display(v)),
                PendingValue::I64,
            ),
            // `Value` is non-exhaustive: a future kind travels as its Debug text.
            other => PendingValue::Str(self.push_debug(&other)),
        }
    }

    fn push_display(&mut self, v: impl std::fmt::Display) -> Range<u32> {
        use std::fmt::Write as _;
        let clamp = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        let start = clamp(self.text.len());
        let _ = write!(self.text, "{v}");
        start..clamp(self.text.len())
    }

    fn push_debug(&mut self, v: &dyn std::fmt::Debug) -> Range<u32> {
        use std::fmt::Write as _;
        let clamp = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        let start = clamp(self.text.len());
        let _ = write!(self.text, "{v:?}");
        start..clamp(self.text.len())
    }

    fn text(&self, r: &Range<u32>) -> &str {
        self.text
            .get(r.start as usize..r.end as usize)
            .unwrap_or_default()
    }

    /// The drop report the export thread sends once the collector is back.
    pub(crate) fn drop_report(dropped: u64, reason: &'static str) -> Self {
        let mut p = Pending {
            timestamp: SystemTime::now(),
            level: Level::WARN,
            trace: None,
            text: String::new(),
            target: 0..0,
            event_name: None,
            message: None,
            attrs: Vec::with_capacity(3),
        };
        p.target = p.push_text("eventlog_otlp");
        p.event_name = Some(p.push_text(DROP_REPORT_EVENT));
        p.message = Some(p.push_display(format_args!(
            "eventlog-otlp dropped {dropped} records ({reason})"
        )));
        let kind = p.push_text("system_event");
        p.push_attr(PendingKey::Static("event.type"), PendingValue::Str(kind));
        p.push_attr(
            PendingKey::Static("dropped.records"),
            PendingValue::I64(i64::try_from(dropped).unwrap_or(i64::MAX)),
        );
        let reason = p.push_text(reason);
        p.push_attr(
            PendingKey::Static("dropped.reason"),
            PendingValue::Str(reason),
        );
        p
    }
}

/// The event name of the record that reports drops once the collector is
/// reachable again.
///
/// ```
/// assert_eq!(eventlog_otlp::DROP_REPORT_EVENT, "otlp_records_dropped");
/// ```
pub const DROP_REPORT_EVENT: &str = "otlp_records_dropped";

/// How many distinct event names are interned (the OpenTelemetry API takes
/// `&'static str`). Past it, the name travels as the `event.name` attribute.
const MAX_INTERNED_NAMES: usize = 4096;

/// Converts pending records on the export thread.
#[derive(Debug, Default)]
pub(crate) struct Mapper {
    names: HashMap<Box<str>, &'static str>,
}

impl Mapper {
    fn intern(&mut self, name: &str) -> Option<&'static str> {
        if let Some(interned) = self.names.get(name) {
            return Some(interned);
        }
        if self.names.len() >= MAX_INTERNED_NAMES {
            return None;
        }
        // Leaked on purpose: at most MAX_INTERNED_NAMES names, once each,
        // for the process lifetime (the API wants `&'static str`).
        let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
        self.names.insert(name.into(), leaked);
        Some(leaked)
    }

    /// Fills `out` (a fresh record from the SDK) from `p`.
    pub(crate) fn fill(&mut self, p: &Pending, out: &mut SdkLogRecord) {
        out.set_timestamp(p.timestamp);
        out.set_observed_timestamp(p.timestamp);
        let (number, text) = severity(p.level);
        out.set_severity_number(number);
        out.set_severity_text(text);
        out.set_target(p.text(&p.target).to_owned());
        let name = p.event_name.as_ref().map(|r| p.text(r));
        let body = p.message.as_ref().map(|r| p.text(r)).or(name);
        if let Some(body) = body {
            out.set_body(AnyValue::String(body.to_owned().into()));
        }
        if let Some(name) = name {
            match self.intern(name) {
                Some(interned) => out.set_event_name(interned),
                None => out.add_attribute("event.name", name.to_owned()),
            }
        }
        if let Some((trace_id, span_id, flags)) = p.trace {
            out.set_trace_context(
                TraceId::from_bytes(trace_id),
                SpanId::from_bytes(span_id),
                Some(TraceFlags::new(flags)),
            );
        }
        for attr in &p.attrs {
            let key: Key = match &attr.key {
                PendingKey::Static(k) => Key::from_static_str(k),
                PendingKey::Text(r) => Key::from(p.text(r).to_owned()),
                PendingKey::Prefixed(prefix, r) => Key::from(format!("{prefix}{}", p.text(r))),
            };
            let value = match &attr.value {
                PendingValue::Str(r) => AnyValue::String(p.text(r).to_owned().into()),
                PendingValue::I64(v) => AnyValue::Int(*v),
                PendingValue::F64(v) => AnyValue::Double(*v),
                PendingValue::Bool(v) => AnyValue::Boolean(*v),
            };
            out.add_attribute(key, value);
        }
    }
}

/// Severity number and text for a `tracing` level (OpenTelemetry log data
/// model: TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17).
pub(crate) fn severity(level: Level) -> (Severity, &'static str) {
    match level {
        Level::TRACE => (Severity::Trace, "TRACE"),
        Level::DEBUG => (Severity::Debug, "DEBUG"),
        Level::INFO => (Severity::Info, "INFO"),
        Level::WARN => (Severity::Warn, "WARN"),
        _ => (Severity::Error, "ERROR"),
    }
}

/// The resource: `OTEL_RESOURCE_ATTRIBUTES` / `OTEL_SERVICE_NAME` (read by
/// the SDK's detectors), overridden by the deployment context.
pub(crate) fn resource(deployment: &Deployment) -> Resource {
    let pairs = [
        ("service.name", deployment.service_name()),
        ("service.version", deployment.version_name()),
        ("deployment.environment.name", deployment.environment_name()),
        ("cloud.region", deployment.region_name()),
        ("host.name", deployment.host_name()),
    ];
    let mut builder = Resource::builder();
    if let Some(service) = deployment.service_name() {
        builder = builder.with_service_name(service.to_owned());
    }
    builder
        .with_attributes(
            pairs
                .into_iter()
                .filter_map(|(k, v)| Some(KeyValue::new(k, v?.to_owned()))),
        )
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_targets_are_recognised_by_crate_name() {
        for own in [
            "opentelemetry_sdk::logs",
            "tonic::transport",
            "h2",
            "hyper_util::client",
            "reqwest::connect",
            "eventlog_otlp",
        ] {
            assert!(is_own_target(own), "{own}");
        }
        for app in [
            "checkout",
            "h2o::boil",
            "opentelemetryx",
            "hyperloop",
            "ticket",
            "eventlog",
        ] {
            assert!(!is_own_target(app), "{app}");
        }
    }

    #[test]
    fn severities_follow_the_log_data_model() {
        let numbers: Vec<i32> = [
            Level::TRACE,
            Level::DEBUG,
            Level::INFO,
            Level::WARN,
            Level::ERROR,
        ]
        .into_iter()
        .map(|l| severity(l).0 as i32)
        .collect();
        assert_eq!(numbers, [1, 5, 9, 13, 17]);
    }

    #[test]
    fn names_are_interned_once_and_bounded() {
        let mut m = Mapper::default();
        let a = m.intern("order_placed").unwrap();
        let b = m.intern("order_placed").unwrap();
        assert!(std::ptr::eq(a, b));
        for i in 0..MAX_INTERNED_NAMES {
            let _ = m.intern(&format!("n{i}"));
        }
        assert!(m.intern("one_too_many").is_none());
        assert!(m.intern("order_placed").is_some());
    }

    #[test]
    fn resource_carries_the_deployment() {
        let d = Deployment::new()
            .service("checkout")
            .environment("prod")
            .region("eu-west-1")
            .version("1.2.3")
            .host("web-1");
        let r = resource(&d);
        let get = |k: &'static str| r.get(&Key::from_static_str(k)).map(|v| v.to_string());
        assert_eq!(get("service.name").as_deref(), Some("checkout"));
        assert_eq!(get("deployment.environment.name").as_deref(), Some("prod"));
        assert_eq!(get("cloud.region").as_deref(), Some("eu-west-1"));
        assert_eq!(get("service.version").as_deref(), Some("1.2.3"));
        assert_eq!(get("host.name").as_deref(), Some("web-1"));
    }
}
