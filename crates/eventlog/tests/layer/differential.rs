//! The fast encoder against a plain rendering: for generated events and
//! spans in every layout mode, the line the layer writes equals a
//! `serde_json` rendering built only from [`Record`]'s public accessors (and
//! the envelope's key names). What an output such as OTLP reads through
//! those accessors is therefore exactly what the file says.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::UNIX_EPOCH;

use eventlog::testing::Capture;
use eventlog::{DropReason, Envelope, Key, Output, Record, Redactor, Schema, Value};
use proptest::prelude::*;
use serde_json::{Map, Value as Json, json};
use tracing_subscriber::prelude::*;

/// Renders each record from its public accessors and keeps them in order.
#[derive(Clone)]
struct Reference {
    envelope: Envelope,
    rendered: Arc<Mutex<Vec<Json>>>,
    seen: Arc<AtomicU64>,
}

impl Reference {
    fn new(envelope: Envelope) -> Self {
        Self {
            envelope,
            rendered: Arc::default(),
            seen: Arc::default(),
        }
    }
}

fn value(v: Value<'_>) -> Json {
    match v {
        Value::Str(s) => json!(s),
        Value::I64(v) => json!(v),
        Value::U64(v) => json!(v),
        Value::I128(v) => serde_json::from_str(&v.to_string()).unwrap(),
        Value::U128(v) => serde_json::from_str(&v.to_string()).unwrap(),
        Value::F64(v) if v.is_nan() => json!("NaN"),
        Value::F64(v) if v == f64::INFINITY => json!("Infinity"),
        Value::F64(v) if v == f64::NEG_INFINITY => json!("-Infinity"),
        Value::F64(v) => json!(v),
        Value::Bool(v) => json!(v),
        _ => panic!("a Value kind this test does not know: {v:?}"),
    }
}

/// Days since 1970-01-01 of a civil date (the inverse of what the encoder
/// does, written independently of it).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `2026-12-01T21:55:57.123456Z` as microseconds since the epoch.
fn parse_timestamp(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 27 || b[26] != b'Z' || b[10] != b'T' || b[19] != b'.' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let days = days_from_civil(n(0..4)?, n(5..7)?, n(8..10)?);
    let secs = days * 86_400 + n(11..13)? * 3600 + n(14..16)? * 60 + n(17..19)?;
    Some(secs * 1_000_000 + n(20..26)?)
}

impl Output for Reference {
    #[allow(clippy::many_single_char_names)] // r(ecord), e(nvelope), k(ey), o(bject), d(eployment)
    fn emit(&self, r: &Record<'_>) -> Result<(), DropReason> {
        let e = &self.envelope;
        let k = |key: Key| e.key_name(key).to_owned();
        let mut o = Map::new();
        let micros = r
            .timestamp()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_micros();
        o.insert(k(Key::Timestamp), json!(i64::try_from(micros).unwrap()));
        o.insert(k(Key::Level), json!(r.level().as_str()));
        if let Some(name) = r.event_name() {
            o.insert(k(Key::EventName), json!(name));
        }
        o.insert(k(Key::EventType), json!(r.event_type()));
        if let Some(m) = r.message() {
            o.insert(k(Key::Message), json!(m));
        }
        if e.writes(Key::Target) {
            o.insert(k(Key::Target), json!(r.target()));
        }
        if e.writes(Key::File) {
            if let Some(file) = r.file() {
                o.insert(k(Key::File), json!(file));
            }
            if let Some(line) = r.line() {
                o.insert(k(Key::Line), json!(line));
            }
        }
        let d = r.deployment();
        for (key, v) in [
            (Key::Service, d.service_name()),
            (Key::Environment, d.environment_name()),
            (Key::Region, d.region_name()),
            (Key::Version, d.version_name()),
            (Key::Host, d.host_name()),
        ] {
            if let Some(v) = v {
                o.insert(k(key), json!(v));
            }
        }
        if let Some(t) = r.trace() {
            o.insert(k(Key::TraceId), json!(t.trace_id().to_string()));
            o.insert(k(Key::SpanId), json!(t.span_id().to_string()));
        }
        for (key, v) in r.correlation() {
            o.insert(key.to_owned(), json!(v));
        }
        let fields: Map<String, Json> = r
            .fields()
            .map(|f| (f.name.to_owned(), value(f.value)))
            .collect();
        if !fields.is_empty() {
            o.insert(k(Key::Metadata), Json::Object(fields));
        }
        if e.has_span_block()
            && let Some(name) = r.span_name()
        {
            let mut span = Map::new();
            span.insert("name".into(), json!(name));
            let fields: Map<String, Json> = r
                .span_fields()
                .map(|f| (f.name.to_owned(), value(f.value)))
                .collect();
            if !fields.is_empty() {
                span.insert("fields".into(), Json::Object(fields));
            }
            o.insert(k(Key::Span), Json::Object(span));
        }
        if let Some(d) = r.duration() {
            #[allow(clippy::cast_precision_loss)]
            o.insert(k(Key::DurationMs), json!(d.as_micros() as f64 / 1000.0));
        }
        if let Some(v) = r.schema_version() {
            o.insert(k(Key::SchemaVersion), json!(v));
        }
        if !r.schema_errors().is_empty() {
            let errors: Vec<String> = r.schema_errors().iter().map(ToString::to_string).collect();
            o.insert(k(Key::SchemaErrors), json!(errors));
        }
        self.rendered.lock().unwrap().push(Json::Object(o));
        self.seen.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// The line as written, with its timestamp turned into microseconds.
fn normalised(line: &str, envelope: &Envelope) -> Json {
    let mut v: Json = serde_json::from_str(line).unwrap();
    let key = envelope.key_name(Key::Timestamp);
    let stamp = v[key].as_str().unwrap().to_owned();
    v[key] = json!(parse_timestamp(&stamp).unwrap_or_else(|| panic!("bad timestamp {stamp}")));
    v
}

fn envelope(mode: u8) -> Envelope {
    match mode {
        0 => Envelope::default(),
        1 => Envelope::builder()
            .rename(Key::Timestamp, "@timestamp")
            .rename(Key::Level, "severity")
            .rename(Key::Metadata, "fields")
            .rename(Key::Span, "span_context")
            .rename(Key::Target, "logger")
            .code_location(true)
            .promote_as("tenant", "tenant_id")
            .build()
            .unwrap(),
        _ => Envelope::builder()
            .span_block(false)
            .target(false)
            .promoted(["order_id"])
            .build()
            .unwrap(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn the_written_line_equals_a_rendering_from_the_public_accessors(
        mode in 0u8..3,
        redaction in any::<bool>(),
        schema in any::<bool>(),
        close_events in any::<bool>(),
        s in any::<String>(),
        span_s in any::<String>(),
        late in any::<String>(),
        i in any::<i64>(),
        u in any::<u64>(),
        f in prop_oneof![any::<f64>(), Just(f64::NAN), Just(f64::INFINITY), Just(0.1)],
        b in any::<bool>(),
        with_own_request_id in any::<bool>(),
    ) {
        let envelope = envelope(mode);
        let reference = Reference::new(envelope.clone());
        let capture = Capture::new();
        let mut layer = eventlog::layer()
            .service("differential")
            .host("h")
            .envelope(envelope.clone())
            .close_events(close_events)
            .writer(capture.clone())
            .output(reference.clone());
        if !redaction {
            layer = layer.redactor(Redactor::none());
        }
        if schema {
            layer = layer.schema(Schema::recommended());
        }
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            let outer = tracing::info_span!("outer", request_id = "r-1", tenant = tracing::field::Empty, order_id = span_s.as_str());
            let _o = outer.enter();
            let inner = tracing::info_span!("inner", note = span_s.as_str(), n = i);
            let _i = inner.enter();
            tracing::info!(event_name = "order_placed", s = s.as_str(), i, u, f, b, "{}", s);
            outer.record("tenant", late.as_str());
            if with_own_request_id {
                tracing::warn!(event_name = "payment_retried", request_id = "r-own", dup = 1, dup = 2, s = ?s);
            } else {
                tracing::error!(s = s.as_str(), "no name {}", late);
            }
        });
        let lines = capture.lines();
        let rendered = reference.rendered.lock().unwrap().clone();
        prop_assert_eq!(lines.len(), rendered.len());
        prop_assert_eq!(reference.seen.load(Ordering::Relaxed), lines.len() as u64);
        for (line, want) in lines.iter().zip(&rendered) {
            let got = normalised(line, &envelope);
            prop_assert_eq!(&got, want, "line: {}", line);
            // Same keys in the same order, not only the same map.
            let got_keys: Vec<_> = got.as_object().unwrap().keys().collect();
            let want_keys: Vec<_> = want.as_object().unwrap().keys().collect();
            prop_assert_eq!(got_keys, want_keys);
        }
    }
}
