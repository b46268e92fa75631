//! Record → OpenTelemetry log record.
//!
//! ```text
//! caller thread:  &Record ──copy──> Pending (one text arena + packed typed attributes)
//! export thread:  Pending ──────────> OTLP protobuf (proto.rs) ──> transport
//! ```
//!
//! The caller only copies what the record borrows (into buffers recycled
//! from the export threads); building the wire message and grouping by
//! scope happen on the export thread.

use std::ops::Range;
use std::time::SystemTime;

use eventlog::{Deployment, Record, Value};

use crate::config::ResourceEnv;
use opentelemetry::KeyValue;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::resource::TelemetryResourceDetector;
use tracing_core::Level;

/// Correlation keys renamed to their OpenTelemetry semantic-convention
/// names; every other correlation key keeps its record name.
const SEMCONV_CORRELATION: [(&str, u8); 2] = [("user_id", K_USER_ID), ("session_id", K_SESSION_ID)];

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

/// Keys this mapping writes itself, by index (a `u8` keeps the queued
/// attribute small).
const STATIC_KEYS: [&str; 7] = [
    "event.type",
    "user.id",
    "session.id",
    "span.name",
    "duration_ms",
    "code.file.path",
    "code.line.number",
];
const K_EVENT_TYPE: u8 = 0;
const K_USER_ID: u8 = 1;
const K_SESSION_ID: u8 = 2;
const K_SPAN_NAME: u8 = 3;
const K_DURATION_MS: u8 = 4;
const K_CODE_FILE: u8 = 5;
const K_CODE_LINE: u8 = 6;

/// Prefixes of flattened keys, by index.
const PREFIXES: [&str; 2] = ["metadata.", "span."];
const P_METADATA: u8 = 0;
const P_SPAN: u8 = 1;

#[derive(Debug, Clone)]
enum PendingKey {
    /// An index into `STATIC_KEYS`.
    Static(u8),
    Text(Range<u32>),
    /// An index into `PREFIXES`, followed by the text (`span.` + field name).
    Prefixed(u8, Range<u32>),
}

/// One attribute as queued: 16 bytes, packed, because copying records is
/// memory-bound (every queued byte is written by the caller and read on
/// another core).
#[derive(Debug, Clone, Copy)]
struct PendingAttr {
    /// `I64` bits, `F64` bits, `Bool` as 0/1, or a `Str` range as `start << 32 | end`.
    value: u64,
    /// The key's arena start, or its `STATIC_KEYS` index.
    key_start: u32,
    /// The key's length in the arena (names are far below 64 KiB; longer
    /// ones are cut).
    key_len: u16,
    /// 0: static; 1: text; 2 + n: `PREFIXES[n]` + text.
    key_kind: u8,
    /// 0: string, 1: i64, 2: f64, 3: bool.
    value_kind: u8,
}

impl PendingAttr {
    fn pack(key: PendingKey, value: PendingValue) -> Self {
        let len = |r: &Range<u32>| u16::try_from(r.end - r.start).unwrap_or(u16::MAX);
        let (key_kind, key_start, key_len) = match key {
            PendingKey::Static(i) => (0, u32::from(i), 0),
            PendingKey::Text(r) => (1, r.start, len(&r)),
            PendingKey::Prefixed(n, r) => (2 + n, r.start, len(&r)),
        };
        let (value_kind, value) = match value {
            PendingValue::Str(r) => (0, u64::from(r.start) << 32 | u64::from(r.end)),
            PendingValue::I64(v) => (1, v.cast_unsigned()),
            PendingValue::F64(v) => (2, v.to_bits()),
            PendingValue::Bool(v) => (3, u64::from(v)),
        };
        PendingAttr {
            value,
            key_start,
            key_len,
            key_kind,
            value_kind,
        }
    }

    fn unpack(self) -> (PendingKey, PendingValue) {
        let range = self.key_start..self.key_start.saturating_add(u32::from(self.key_len));
        let key = match self.key_kind {
            0 => PendingKey::Static(u8::try_from(self.key_start).unwrap_or_default()),
            1 => PendingKey::Text(range),
            n => PendingKey::Prefixed(n - 2, range),
        };
        #[allow(clippy::cast_possible_truncation)] // The two halves of a packed range.
        let value = match self.value_kind {
            0 => PendingValue::Str((self.value >> 32) as u32..self.value as u32),
            1 => PendingValue::I64(self.value.cast_signed()),
            2 => PendingValue::F64(f64::from_bits(self.value)),
            _ => PendingValue::Bool(self.value != 0),
        };
        (key, value)
    }
}

/// An attribute key as written to the wire.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum AttrKey<'a> {
    Plain(&'a str),
    /// A prefix (`span.`, `metadata.`) and a field name.
    Prefixed(&'static str, &'a str),
}

/// An attribute value as written to the wire.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum AttrValue<'a> {
    Str(&'a str),
    I64(i64),
    F64(f64),
    Bool(bool),
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

impl Default for Pending {
    fn default() -> Self {
        Pending {
            timestamp: SystemTime::UNIX_EPOCH,
            level: Level::INFO,
            trace: None,
            text: String::new(),
            target: 0..0,
            event_name: None,
            message: None,
            attrs: Vec::new(),
        }
    }
}

/// Fixed per-record cost counted against the byte budget, beside the text:
/// the record itself (timestamps, severity, ids, buffers) and its queue
/// slot, so the budget bounds the memory the queue really holds.
const RECORD_OVERHEAD: usize = std::mem::size_of::<Pending>() + 16;
/// Per-attribute cost counted against the byte budget: one packed
/// attribute. Its key and text value are in the text already. This is also
/// at least what an attribute adds to the protobuf beyond its text (tags,
/// lengths, an 8-byte number), so budget bytes bound the request size.
const ATTR_OVERHEAD: usize = std::mem::size_of::<PendingAttr>();

impl Pending {
    /// Copies `record` (already redacted and checked by the layer) into
    /// this buffer, reusing its allocations (buffers
    /// come back from the export threads, so steady state allocates
    /// nothing and touches no fresh memory).
    pub(crate) fn fill_from(&mut self, record: &Record<'_>) {
        let fields = record.fields();
        let span_fields = record.span_fields();
        self.timestamp = record.timestamp();
        self.level = record.level();
        self.trace = record
            .trace()
            .map(|t| (t.trace_id().to_bytes(), t.span_id().to_bytes(), t.flags()));
        // Reused buffers keep their capacity, so only the first records
        // through a fresh buffer grow it (a second pass to size it exactly
        // cost more than it saved).
        self.text.clear();
        self.text.reserve(256);
        self.attrs.clear();
        self.attrs.reserve(fields.len() + span_fields.len() + 9);
        let p = self;
        p.target = p.push_text(record.target());
        p.event_name = record.event_name().map(|n| p.push_text(n));
        p.message = record.message().map(|m| p.push_text(m));
        let event_type = p.push_text(record.event_type());
        p.push_attr(
            PendingKey::Static(K_EVENT_TYPE),
            PendingValue::Str(event_type),
        );
        for (key, value) in record.correlation() {
            let key = match SEMCONV_CORRELATION.iter().find(|(k, _)| *k == key) {
                Some((_, semconv)) => PendingKey::Static(*semconv),
                None => PendingKey::Text(p.push_text(key)),
            };
            let value = PendingValue::Str(p.push_text(value));
            p.push_attr(key, value);
        }
        for field in fields {
            let key = if RESERVED.contains(&field.name) {
                PendingKey::Prefixed(P_METADATA, p.push_text(field.name))
            } else {
                PendingKey::Text(p.push_text(field.name))
            };
            let value = p.value(field.value);
            p.push_attr(key, value);
        }
        if let Some(name) = record.span_name() {
            let name = p.push_text(name);
            p.push_attr(PendingKey::Static(K_SPAN_NAME), PendingValue::Str(name));
            for field in span_fields {
                let key = PendingKey::Prefixed(P_SPAN, p.push_text(field.name));
                let value = p.value(field.value);
                p.push_attr(key, value);
            }
        }
        if let Some(d) = record.duration() {
            let ms = d.as_secs_f64() * 1000.0;
            p.push_attr(PendingKey::Static(K_DURATION_MS), PendingValue::F64(ms));
        }
        // The record's location: for a `log` record, the `log` record's,
        // not the `tracing-log` callsite's.
        if let Some(file) = record.file() {
            let file = p.push_text(file);
            p.push_attr(PendingKey::Static(K_CODE_FILE), PendingValue::Str(file));
        }
        if let Some(line) = record.line() {
            p.push_attr(
                PendingKey::Static(K_CODE_LINE),
                PendingValue::I64(i64::from(line)),
            );
        }
    }

    /// Whether this buffer is small enough to keep for reuse.
    pub(crate) fn reusable(&self) -> bool {
        self.text.capacity() <= 4096 && self.attrs.capacity() <= 64
    }

    /// What this record counts against the byte budget: its text plus the
    /// memory of the record and of each packed attribute (see
    /// `RECORD_OVERHEAD` and `ATTR_OVERHEAD`).
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
        self.attrs.push(PendingAttr::pack(key, value));
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

    /// The instrumentation scope name: the record's target.
    pub(crate) fn target_text(&self) -> &str {
        self.text(&self.target)
    }

    /// The record's `tracing` level.
    pub(crate) fn level(&self) -> Level {
        self.level
    }

    /// The timestamp as nanoseconds since the Unix epoch (0 before it).
    pub(crate) fn unix_nanos(&self) -> u64 {
        self.timestamp
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    }

    /// The event name, if any.
    pub(crate) fn event_name_text(&self) -> Option<&str> {
        self.event_name.as_ref().map(|r| self.text(r))
    }

    /// The body: the message, else the event name.
    pub(crate) fn body(&self) -> Option<&str> {
        self.message
            .as_ref()
            .map(|r| self.text(r))
            .or_else(|| self.event_name_text())
    }

    /// Trace id, span id and trace flags, when the record is in a trace.
    pub(crate) fn trace(&self) -> Option<([u8; 16], [u8; 8], u8)> {
        self.trace
    }

    /// The attributes, keys and values resolved to text.
    pub(crate) fn attributes(&self) -> impl Iterator<Item = (AttrKey<'_>, AttrValue<'_>)> {
        self.attrs.iter().map(|attr| {
            let (key, value) = attr.unpack();
            let key = match key {
                PendingKey::Static(k) => {
                    AttrKey::Plain(STATIC_KEYS.get(usize::from(k)).copied().unwrap_or_default())
                }
                PendingKey::Text(r) => AttrKey::Plain(self.text(&r)),
                PendingKey::Prefixed(n, r) => AttrKey::Prefixed(
                    PREFIXES.get(usize::from(n)).copied().unwrap_or_default(),
                    self.text(&r),
                ),
            };
            let value = match value {
                PendingValue::Str(r) => AttrValue::Str(self.text(&r)),
                PendingValue::I64(v) => AttrValue::I64(v),
                PendingValue::F64(v) => AttrValue::F64(v),
                PendingValue::Bool(v) => AttrValue::Bool(v),
            };
            (key, value)
        })
    }

    /// The drop report the export thread sends once the collector is back:
    /// the shape of every output's self-report ([`eventlog::DROP_REPORT_EVENT`]),
    /// its `metadata` fields as attributes.
    pub(crate) fn drop_report(dropped: u64, total: u64, reason: &'static str) -> Self {
        use eventlog::drop_report_fields as f;
        let mut p = Pending {
            timestamp: SystemTime::now(),
            level: Level::WARN,
            trace: None,
            text: String::new(),
            target: 0..0,
            event_name: None,
            message: None,
            attrs: Vec::with_capacity(5),
        };
        p.target = p.push_text("eventlog_otlp");
        p.event_name = Some(p.push_text(DROP_REPORT_EVENT));
        p.message = Some(p.push_display(format_args!(
            "{dropped} records dropped by the otlp output: {reason}"
        )));
        let kind = p.push_text(eventlog::EventType::SYSTEM_EVENT.as_str());
        p.push_attr(PendingKey::Static(K_EVENT_TYPE), PendingValue::Str(kind));
        // The fields a file's report carries under `metadata`, mapped as
        // every event's fields are (`metadata.` + name).
        let count = |n: u64| PendingValue::I64(i64::try_from(n).unwrap_or(i64::MAX));
        for (name, text) in [(f::OUTPUT, "otlp"), (f::REASON, reason)] {
            let key = PendingKey::Prefixed(P_METADATA, p.push_text(name));
            let value = PendingValue::Str(p.push_text(text));
            p.push_attr(key, value);
        }
        for (name, n) in [(f::DROPPED, dropped), (f::TOTAL_DROPPED, total)] {
            let key = PendingKey::Prefixed(P_METADATA, p.push_text(name));
            p.push_attr(key, count(n));
        }
        p
    }
}

/// The event name of the record that reports drops once the collector
/// accepts records again: every output's self-report shape, with the
/// attributes `output` (`otlp`), `reason` (`queue_full`, `rejected` or
/// `oversized`), `dropped` and `total_dropped`
/// ([`eventlog::drop_report_fields`]).
///
/// ```
/// assert_eq!(eventlog_otlp::DROP_REPORT_EVENT, eventlog::DROP_REPORT_EVENT);
/// assert_eq!(eventlog_otlp::DROP_REPORT_EVENT, "log_records_dropped");
/// ```
pub const DROP_REPORT_EVENT: &str = eventlog::DROP_REPORT_EVENT;

/// Severity number and text for a `tracing` level (OpenTelemetry log data
/// model: TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17).
pub(crate) fn severity(level: Level) -> (u8, &'static str) {
    match level {
        Level::TRACE => (1, "TRACE"),
        Level::DEBUG => (5, "DEBUG"),
        Level::INFO => (9, "INFO"),
        Level::WARN => (13, "WARN"),
        _ => (17, "ERROR"),
    }
}

/// The resource: `OTEL_RESOURCE_ATTRIBUTES`, then `OTEL_SERVICE_NAME`
/// (both read at build time, `env`), overridden by the deployment context;
/// `service.name` falls back to `unknown_service:<executable>`, as the
/// OpenTelemetry SDKs do.
pub(crate) fn resource(deployment: &Deployment, env: &ResourceEnv) -> Resource {
    let pairs = [
        ("service.name", deployment.service_name()),
        ("service.version", deployment.version_name()),
        ("deployment.environment.name", deployment.environment_name()),
        ("cloud.region", deployment.region_name()),
        ("host.name", deployment.host_name()),
    ];
    let service = env.service_name.clone().or_else(|| {
        env.attributes
            .iter()
            .rev()
            .find(|(k, _)| k == "service.name")
            .map(|(_, v)| v.clone())
    });
    let service = service.unwrap_or_else(|| {
        let exe = std::env::current_exe().ok();
        match exe.as_deref().and_then(std::path::Path::file_name) {
            Some(name) => format!("unknown_service:{}", name.to_string_lossy()),
            None => "unknown_service".to_owned(),
        }
    });
    // The SDK's detector adds `telemetry.sdk.*` (the resource is built by
    // `opentelemetry_sdk`); the records themselves are encoded and sent by
    // this crate, which the distro attributes say.
    let distro = [
        KeyValue::new("telemetry.distro.name", "eventlog-otlp"),
        KeyValue::new("telemetry.distro.version", env!("CARGO_PKG_VERSION")),
    ];
    Resource::builder_empty()
        .with_detector(Box::new(TelemetryResourceDetector))
        .with_attributes(
            env.attributes
                .iter()
                .map(|(k, v)| KeyValue::new(k.clone(), v.clone())),
        )
        .with_service_name(service)
        .with_attributes(
            pairs
                .into_iter()
                .filter_map(|(k, v)| Some(KeyValue::new(k, v?.to_owned())))
                .chain(distro),
        )
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Refills one shared `Pending` from every record, as a recycled buffer is.
    struct Refill(std::sync::Arc<std::sync::Mutex<Pending>>);

    impl eventlog::Output for Refill {
        fn emit(&self, record: &Record<'_>) -> Result<(), eventlog::DropReason> {
            self.0.lock().unwrap().fill_from(record);
            Ok(())
        }
    }

    /// A reused buffer holds exactly the last record, whatever came before.
    /// `EVENTLOG_REFILLS=20000` makes it a harness for counting the
    /// caller's copy cost under callgrind.
    #[test]
    fn a_refilled_buffer_holds_exactly_the_last_record() {
        use tracing_subscriber::prelude::*;
        let pending = std::sync::Arc::new(std::sync::Mutex::new(Pending::default()));
        let output = Refill(std::sync::Arc::clone(&pending));
        let layer = eventlog::layer().without_writer().output(output);
        let n: usize = std::env::var("EVENTLOG_REFILLS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(50);
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            let _r = tracing::info_span!("request", request_id = "req_7f3a9b", user_id = "u-1")
                .entered();
            let _p = tracing::info_span!("payment", step = "authorize", attempt = 1u64).entered();
            for i in 0..n {
                tracing::info!(
                    event_name = "order_placed",
                    order_id = "a much longer order identifier than the last one",
                    amount = 72.49,
                    items = i as u64,
                    "order placed"
                );
            }
            tracing::warn!(event_name = "x", k = "v");
        });
        let p = pending.lock().unwrap();
        assert_eq!(p.level, Level::WARN);
        assert_eq!(p.event_name.as_ref().map(|r| p.text(r)), Some("x"));
        assert_eq!(p.message, None);
        let attrs: Vec<(PendingKey, PendingValue)> = p.attrs.iter().map(|a| a.unpack()).collect();
        let texts: Vec<String> = attrs
            .iter()
            .filter_map(|(_, v)| match v {
                PendingValue::Str(r) => Some(p.text(r).to_owned()),
                _ => None,
            })
            .collect();
        assert!(texts.contains(&"v".to_owned()), "{texts:?}");
        assert!(texts.contains(&"req_7f3a9b".to_owned()), "{texts:?}");
        assert!(!texts.iter().any(|t| t.contains("order")), "{texts:?}");
    }

    #[test]
    fn attributes_pack_and_unpack() {
        assert_eq!(std::mem::size_of::<PendingAttr>(), 16);
        let cases = [
            (PendingKey::Static(K_CODE_LINE), PendingValue::I64(-42)),
            (PendingKey::Text(3..9), PendingValue::F64(72.49)),
            (
                PendingKey::Prefixed(P_SPAN, 10..12),
                PendingValue::Bool(true),
            ),
            (
                PendingKey::Prefixed(P_METADATA, 0..1),
                PendingValue::Str(70_000..70_123),
            ),
        ];
        for (key, value) in cases {
            let (k, v) = PendingAttr::pack(key.clone(), value.clone()).unpack();
            assert_eq!(format!("{k:?} {v:?}"), format!("{key:?} {value:?}"));
        }
    }

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
        .map(|l| i32::from(severity(l).0))
        .collect();
        assert_eq!(numbers, [1, 5, 9, 13, 17]);
    }

    #[test]
    fn resource_carries_the_deployment() {
        let d = Deployment::new()
            .service("checkout")
            .environment("prod")
            .region("eu-west-1")
            .version("1.2.3")
            .host("web-1");
        let r = resource(&d, &crate::config::ResourceEnv::default());
        let get = |k: &'static str| {
            r.get(&opentelemetry::Key::from_static_str(k))
                .map(|v| v.to_string())
        };
        assert_eq!(get("service.name").as_deref(), Some("checkout"));
        assert_eq!(get("deployment.environment.name").as_deref(), Some("prod"));
        assert_eq!(get("cloud.region").as_deref(), Some("eu-west-1"));
        assert_eq!(get("service.version").as_deref(), Some("1.2.3"));
        assert_eq!(get("host.name").as_deref(), Some("web-1"));
        assert_eq!(
            get("telemetry.distro.name").as_deref(),
            Some("eventlog-otlp")
        );
    }
}
