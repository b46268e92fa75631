//! Queued records → an OTLP `ExportLogsServiceRequest`, as protobuf bytes.
//!
//! ```text
//! ExportLogsServiceRequest
//! └─ 1 ResourceLogs
//!    ├─ 1 Resource            (encoded once per export thread)
//!    └─ 2 ScopeLogs           (one per target, in order of first appearance)
//!       ├─ 1 InstrumentationScope { 1 name = target, 2 version }
//!       └─ 2 LogRecord …      (written straight from each `Pending`)
//! ```
//!
//! Why not `opentelemetry_sdk` → `opentelemetry-proto` → prost: that path
//! cost ~43,000 instructions per record on the export thread (callgrind:
//! one allocation per string into `SdkLogRecord`, a second copy of every
//! string when the SDK groups by scope, then prost's nested length passes).
//! Written directly, a record is a few hundred bytes copied once. The tests
//! decode what this writes with `opentelemetry-proto`'s own prost types.
//!
//! Field numbers are those of `opentelemetry/proto/logs/v1/logs.proto`,
//! `common/v1/common.proto` and `resource/v1/resource.proto` (v1.x).

use opentelemetry::Value as OtelValue;
use opentelemetry_sdk::Resource;
use rustc_hash::FxHashMap;

use crate::mapping::{AttrKey, AttrValue, Pending};

const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;
const FIXED32: u8 = 5;

/// Protobuf's base-128 varint. Hand-written: prost's `encoding` module is
/// documented as internal to prost, and this is six lines.
#[inline]
fn put_varint(buf: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        #[allow(clippy::cast_possible_truncation)] // The low seven bits, on purpose.
        buf.push((v as u8) | 0x80);
        v >>= 7;
    }
    #[allow(clippy::cast_possible_truncation)] // Below 0x80 here.
    buf.push(v as u8);
}

#[inline]
fn put_tag(buf: &mut Vec<u8>, field: u32, wire: u8) {
    put_varint(buf, u64::from(field << 3 | u32::from(wire)));
}

#[inline]
fn put_len(buf: &mut Vec<u8>, field: u32, len: usize) {
    put_tag(buf, field, LEN);
    put_varint(buf, len as u64);
}

#[inline]
fn put_str(buf: &mut Vec<u8>, field: u32, s: &str) {
    put_len(buf, field, s.len());
    buf.extend_from_slice(s.as_bytes());
}

#[inline]
fn put_fixed64(buf: &mut Vec<u8>, field: u32, v: u64) {
    put_tag(buf, field, FIXED64);
    buf.extend_from_slice(&v.to_le_bytes());
}

/// Opens a length-delimited field whose length is not known yet; returns
/// where its body starts, for [`close`].
#[inline]
fn open(buf: &mut Vec<u8>, field: u32) -> usize {
    put_tag(buf, field, LEN);
    buf.len()
}

/// Closes a field opened at `start`: inserts its length before the body.
/// The body moves right by the length's own size (one byte for bodies
/// under 128 bytes, two under 16 KiB), a short `memmove` next to writing it.
#[inline]
fn close(buf: &mut Vec<u8>, start: usize) {
    let len = buf.len() - start;
    if len < 0x80 {
        #[allow(clippy::cast_possible_truncation)] // Below 0x80.
        buf.insert(start, len as u8);
        return;
    }
    let mut prefix = [0u8; 10];
    let mut n = 0;
    let mut v = len as u64;
    while v >= 0x80 {
        #[allow(clippy::cast_possible_truncation)] // The low seven bits, on purpose.
        let low = v as u8;
        prefix[n] = low | 0x80;
        v >>= 7;
        n += 1;
    }
    #[allow(clippy::cast_possible_truncation)] // Below 0x80 here.
    let last = v as u8;
    prefix[n] = last;
    buf.splice(start..start, prefix[..=n].iter().copied());
}

/// Bytes of `v` as a varint.
#[inline]
fn varint_len(v: u64) -> usize {
    // 1 + floor(log2(v)) / 7, with 0 taking one byte.
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// Bytes of a length-delimited field's tag (fields < 16) and length.
#[inline]
fn len_header(len: usize) -> usize {
    1 + varint_len(len as u64)
}

/// Length reserved in front of a record: two bytes hold 128..16 KiB, where
/// nearly every record falls, so closing it rarely moves its body.
const RECORD_LEN_BYTES: usize = 2;

/// Opens a field with `RECORD_LEN_BYTES` reserved for its length.
#[inline]
fn open_reserved(buf: &mut Vec<u8>, field: u32) -> usize {
    put_tag(buf, field, LEN);
    buf.extend_from_slice(&[0; RECORD_LEN_BYTES]);
    buf.len()
}

/// Closes a field opened by [`open_reserved`]: writes its length in the
/// reserved bytes, moving the body only when the length needs another size.
#[inline]
fn close_reserved(buf: &mut Vec<u8>, start: usize) {
    let len = buf.len() - start;
    let slot = start - RECORD_LEN_BYTES;
    if varint_len(len as u64) == RECORD_LEN_BYTES {
        #[allow(clippy::cast_possible_truncation)] // Two seven-bit groups, on purpose.
        {
            buf[slot] = (len as u8) | 0x80;
            buf[slot + 1] = (len >> 7) as u8;
        }
        return;
    }
    // Rare: drop the reserved bytes and insert the real length.
    buf.drain(slot..start);
    close(buf, slot);
}

/// Encoded size of an attribute value's `AnyValue` body.
#[inline]
fn any_len(value: AttrValue<'_>) -> usize {
    match value {
        AttrValue::Str(s) => len_header(s.len()) + s.len(),
        AttrValue::Bool(_) => 2,
        AttrValue::I64(v) => 1 + varint_len(v.cast_unsigned()),
        AttrValue::F64(_) => 9,
    }
}

/// One `KeyValue` attribute as field `field`, lengths computed up front.
#[inline]
fn put_attribute(buf: &mut Vec<u8>, field: u32, key: AttrKey<'_>, value: AttrValue<'_>) {
    let key_len = match key {
        AttrKey::Plain(k) => k.len(),
        AttrKey::Prefixed(prefix, k) => prefix.len() + k.len(),
    };
    let value_len = any_len(value);
    let kv_len = len_header(key_len) + key_len + len_header(value_len) + value_len;
    put_len(buf, field, kv_len);
    put_len(buf, 1, key_len);
    match key {
        AttrKey::Plain(k) => buf.extend_from_slice(k.as_bytes()),
        AttrKey::Prefixed(prefix, k) => {
            buf.extend_from_slice(prefix.as_bytes());
            buf.extend_from_slice(k.as_bytes());
        }
    }
    put_len(buf, 2, value_len);
    match value {
        AttrValue::Str(s) => put_str(buf, 1, s),
        AttrValue::Bool(b) => {
            put_tag(buf, 2, VARINT);
            put_varint(buf, u64::from(b));
        }
        AttrValue::I64(v) => {
            put_tag(buf, 3, VARINT);
            put_varint(buf, v.cast_unsigned());
        }
        AttrValue::F64(v) => put_fixed64(buf, 4, v.to_bits()),
    }
}

/// An `AnyValue` body for a primitive value (field numbers of `AnyValue`:
/// 1 string, 2 bool, 3 int, 4 double, 5 array).
fn put_any_value(buf: &mut Vec<u8>, field: u32, value: &OtelValue) {
    let start = open(buf, field);
    match value {
        OtelValue::String(s) => put_str(buf, 1, s.as_str()),
        OtelValue::Bool(b) => {
            put_tag(buf, 2, VARINT);
            put_varint(buf, u64::from(*b));
        }
        OtelValue::I64(v) => {
            put_tag(buf, 3, VARINT);
            put_varint(buf, v.cast_unsigned());
        }
        OtelValue::F64(v) => put_fixed64(buf, 4, v.to_bits()),
        OtelValue::Array(array) => {
            let outer = open(buf, 5);
            let values: Vec<OtelValue> = match array {
                opentelemetry::Array::Bool(v) => v.iter().map(|b| OtelValue::Bool(*b)).collect(),
                opentelemetry::Array::I64(v) => v.iter().map(|i| OtelValue::I64(*i)).collect(),
                opentelemetry::Array::F64(v) => v.iter().map(|f| OtelValue::F64(*f)).collect(),
                opentelemetry::Array::String(v) => {
                    v.iter().map(|s| OtelValue::String(s.clone())).collect()
                }
                // `Array` is non-exhaustive: a future kind travels as text.
                other => vec![OtelValue::String(other.to_string().into())],
            };
            for v in &values {
                put_any_value(buf, 1, v);
            }
            close(buf, outer);
        }
        // `Value` is non-exhaustive: a future kind travels as its text.
        other => put_str(buf, 1, &other.to_string()),
    }
    close(buf, start);
}

/// The `Resource` message (its attributes, field 1), encoded once.
pub(crate) fn resource_bytes(resource: &Resource) -> Vec<u8> {
    let mut buf = Vec::with_capacity(512);
    // Sorted, so the bytes do not depend on the SDK's hash order.
    let mut attrs: Vec<_> = resource.iter().collect();
    attrs.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    for (key, value) in attrs {
        let kv = open(&mut buf, 1);
        put_str(&mut buf, 1, key.as_str());
        put_any_value(&mut buf, 2, value);
        close(&mut buf, kv);
    }
    buf
}

/// An `ExportMetricsServiceRequest` with one `ResourceMetrics` (the
/// logs' resource, see [`resource_bytes`]) holding one `ScopeMetrics`
/// (scope `eventlog`, this crate's version) with every metric: counters as
/// a monotonic cumulative `Sum` whose points start at `start_ns`, gauges as
/// a `Gauge`; values as `as_int`, saturating at `i64::MAX`. Field numbers
/// of `opentelemetry/proto/metrics/v1/metrics.proto` and
/// `collector/metrics/v1/metrics_service.proto`.
pub(crate) fn metrics_request(
    resource: &[u8],
    metrics: &[eventlog::Metric],
    start_ns: u64,
    now_ns: u64,
) -> Vec<u8> {
    let mut buf = Vec::with_capacity(256 + 160 * metrics.len());
    let resource_metrics = open(&mut buf, 1);
    put_len(&mut buf, 1, resource.len());
    buf.extend_from_slice(resource);
    let scope_metrics = open(&mut buf, 2);
    let scope = open(&mut buf, 1);
    put_str(&mut buf, 1, "eventlog");
    put_str(&mut buf, 2, env!("CARGO_PKG_VERSION"));
    close(&mut buf, scope);
    for m in metrics {
        let counter = m.kind == eventlog::MetricKind::Counter;
        let metric = open(&mut buf, 2);
        // The clamped name, as `/metrics` shows it (minus its Prometheus form).
        put_str(&mut buf, 1, &m.otel_name());
        put_str(&mut buf, 2, m.help);
        if !m.unit.is_empty() {
            put_str(&mut buf, 3, m.unit);
        }
        // Metric.data: 5 gauge, 7 sum.
        let data = open(&mut buf, if counter { 7 } else { 5 });
        for p in &m.points {
            let point = open(&mut buf, 1);
            if let Some((key, value)) = p.label {
                let key = eventlog::metric_label_name(key);
                put_attribute(&mut buf, 7, AttrKey::Plain(&key), AttrValue::Str(value));
            }
            if counter {
                put_fixed64(&mut buf, 2, start_ns);
            }
            put_fixed64(&mut buf, 3, now_ns);
            // as_int is sfixed64: the same wire type as fixed64.
            let value = i64::try_from(p.value).unwrap_or(i64::MAX);
            put_fixed64(&mut buf, 6, value.cast_unsigned());
            close(&mut buf, point);
        }
        if counter {
            // AGGREGATION_TEMPORALITY_CUMULATIVE = 2, is_monotonic = true.
            put_tag(&mut buf, 2, VARINT);
            put_varint(&mut buf, 2);
            put_tag(&mut buf, 3, VARINT);
            put_varint(&mut buf, 1);
        }
        close(&mut buf, data);
        close(&mut buf, metric);
    }
    close(&mut buf, scope_metrics);
    close(&mut buf, resource_metrics);
    buf
}

/// Writes export requests for one export thread; keeps its scratch.
#[derive(Debug)]
pub(crate) struct RequestWriter {
    resource: Vec<u8>,
    version: &'static str,
    /// One buffer per scope of the batch being written, reused: each
    /// scope's records are written once, then copied once into the request
    /// after its length is known (closing an outer field in place would
    /// move the whole batch once per level).
    scopes: Vec<Vec<u8>>,
}

/// How records are grouped into scopes: target → positions in the batch.
type Groups<'a> = Vec<(&'a str, Vec<u32>)>;

/// Most bytes a scope buffer keeps between batches.
const MAX_KEPT_SCRATCH: usize = 8 << 20;

impl RequestWriter {
    /// A writer for requests with this resource (see [`resource_bytes`]).
    pub(crate) fn new(resource: Vec<u8>) -> Self {
        RequestWriter {
            resource,
            version: env!("CARGO_PKG_VERSION"),
            scopes: Vec::new(),
        }
    }

    /// Encodes `records` as one `ExportLogsServiceRequest`.
    pub(crate) fn request(&mut self, records: &[&Pending]) -> Vec<u8> {
        let groups = group_by_target(records);
        if self.scopes.len() < groups.len() {
            self.scopes.resize_with(groups.len(), Vec::new);
        }
        // ScopeLogs bodies: the scope, then its records.
        let mut resource_logs_len = len_header(self.resource.len()) + self.resource.len();
        for ((target, positions), scope) in groups.iter().zip(&mut self.scopes) {
            scope.clear();
            let scope_len = len_header(target.len())
                + target.len()
                + len_header(self.version.len())
                + self.version.len();
            put_len(scope, 1, scope_len);
            put_str(scope, 1, target);
            put_str(scope, 2, self.version);
            for &i in positions {
                if let Some(p) = records.get(i as usize) {
                    let record = open_reserved(scope, 2);
                    write_record(scope, p);
                    close_reserved(scope, record);
                }
            }
            resource_logs_len += len_header(scope.len()) + scope.len();
        }
        let mut out = Vec::with_capacity(len_header(resource_logs_len) + resource_logs_len);
        put_len(&mut out, 1, resource_logs_len);
        put_len(&mut out, 1, self.resource.len());
        out.extend_from_slice(&self.resource);
        for scope in &mut self.scopes[..groups.len()] {
            put_len(&mut out, 2, scope.len());
            out.extend_from_slice(scope);
            if scope.capacity() > MAX_KEPT_SCRATCH {
                *scope = Vec::new();
            }
        }
        self.scopes.truncate(groups.len().max(4));
        out
    }
}

/// Positions of the records of each target, targets in order of first use.
fn group_by_target<'a>(records: &[&'a Pending]) -> Groups<'a> {
    let mut groups: Groups<'a> = Vec::new();
    let mut index: FxHashMap<&'a str, usize> = FxHashMap::default();
    for (i, p) in records.iter().enumerate() {
        let target = p.target_text();
        let i = u32::try_from(i).unwrap_or(u32::MAX);
        // Most batches hold one or two targets: check the last one first.
        if let Some((last, positions)) = groups.last_mut()
            && *last == target
        {
            positions.push(i);
            continue;
        }
        if let Some(&g) = index.get(target) {
            if let Some((_, positions)) = groups.get_mut(g) {
                positions.push(i);
            }
        } else {
            index.insert(target, groups.len());
            groups.push((target, vec![i]));
        }
    }
    groups
}

/// One `LogRecord`'s fields (see the module docs for the numbers).
fn write_record(buf: &mut Vec<u8>, p: &Pending) {
    let nanos = p.unix_nanos();
    put_fixed64(buf, 1, nanos);
    let (number, text) = crate::mapping::severity(p.level());
    put_tag(buf, 2, VARINT);
    put_varint(buf, u64::from(number));
    put_str(buf, 3, text);
    if let Some(body) = p.body() {
        put_len(buf, 5, len_header(body.len()) + body.len());
        put_str(buf, 1, body);
    }
    for (key, value) in p.attributes() {
        put_attribute(buf, 6, key, value);
    }
    if let Some((trace_id, span_id, flags)) = p.trace() {
        put_tag(buf, 8, FIXED32);
        buf.extend_from_slice(&u32::from(flags).to_le_bytes());
        put_len(buf, 9, trace_id.len());
        buf.extend_from_slice(&trace_id);
        put_len(buf, 10, span_id.len());
        buf.extend_from_slice(&span_id);
    }
    put_fixed64(buf, 11, nanos);
    if let Some(name) = p.event_name_text() {
        put_str(buf, 12, name);
    }
}

/// What an `ExportLogsServiceResponse` says: records rejected by a partial
/// success, and the collector's message about them.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct PartialSuccess {
    pub(crate) rejected: u64,
    pub(crate) message: String,
}

/// Reads an `ExportLogsServiceResponse` (1: partial_success { 1:
/// rejected_log_records int64, 2: error_message }). Unknown fields are
/// skipped; a malformed response counts as a full success, since the
/// collector answered OK.
pub(crate) fn read_response(bytes: &[u8]) -> PartialSuccess {
    let mut out = PartialSuccess::default();
    let mut r = Reader(bytes);
    while let Some((field, wire)) = r.tag() {
        match (field, wire) {
            (1, LEN) => {
                let Some(mut inner) = r.bytes().map(Reader) else {
                    break;
                };
                while let Some((f, w)) = inner.tag() {
                    match (f, w) {
                        (1, VARINT) => {
                            let v = inner.varint().unwrap_or(0).cast_signed();
                            out.rejected = u64::try_from(v).unwrap_or(0);
                        }
                        (2, LEN) => {
                            let text = inner.bytes().unwrap_or_default();
                            out.message = String::from_utf8_lossy(text).into_owned();
                        }
                        _ => {
                            if !inner.skip(w) {
                                break;
                            }
                        }
                    }
                }
            }
            _ => {
                if !r.skip(wire) {
                    break;
                }
            }
        }
    }
    out
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) = self.0.split_first()?;
            self.0 = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }

    fn tag(&mut self) -> Option<(u64, u8)> {
        let t = self.varint()?;
        #[allow(clippy::cast_possible_truncation)] // The low three bits.
        Some((t >> 3, (t & 7) as u8))
    }

    fn bytes(&mut self) -> Option<&'a [u8]> {
        let len = usize::try_from(self.varint()?).ok()?;
        let (head, rest) = self.0.split_at_checked(len)?;
        self.0 = rest;
        Some(head)
    }

    fn skip(&mut self, wire: u8) -> bool {
        let n = match wire {
            VARINT => return self.varint().is_some(),
            FIXED64 => 8,
            LEN => return self.bytes().is_some(),
            FIXED32 => 4,
            _ => return false,
        };
        match self.0.split_at_checked(n) {
            Some((_, rest)) => {
                self.0 = rest;
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::collector::logs::v1::{
        ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
    };
    use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
    use prost::Message as _;

    use crate::mapping::resource;

    #[test]
    fn varints_match_protobuf() {
        for v in [
            0u64,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            u64::from(u32::MAX),
            u64::MAX,
        ] {
            let mut buf = Vec::new();
            put_varint(&mut buf, v);
            let mut r = Reader(&buf);
            assert_eq!(r.varint(), Some(v));
            assert!(r.0.is_empty());
            let mut theirs = Vec::new();
            prost::encoding::encode_varint(v, &mut theirs);
            assert_eq!(buf, theirs, "{v}");
        }
    }

    #[test]
    fn lengths_of_every_size_are_written_before_their_body() {
        for len in [0usize, 1, 127, 128, 129, 16_383, 16_384, 70_000] {
            let mut buf = vec![0xAA];
            let start = open(&mut buf, 3);
            buf.extend(std::iter::repeat_n(7u8, len));
            close(&mut buf, start);
            let mut r = Reader(&buf[1..]);
            assert_eq!(r.tag(), Some((3, LEN)));
            let body = r.bytes().unwrap();
            assert_eq!(body.len(), len);
            assert!(body.iter().all(|&b| b == 7));
            assert!(r.0.is_empty());
        }
    }

    #[test]
    fn reserved_lengths_of_every_size_are_canonical() {
        for len in [0usize, 5, 127, 128, 16_383, 16_384, 70_000] {
            let mut buf = vec![0xAA];
            let start = open_reserved(&mut buf, 2);
            buf.extend(std::iter::repeat_n(9u8, len));
            close_reserved(&mut buf, start);
            let mut canonical = vec![0xAA];
            put_len(&mut canonical, 2, len);
            canonical.extend(std::iter::repeat_n(9u8, len));
            assert_eq!(buf, canonical, "{len}");
        }
    }

    #[test]
    fn computed_lengths_match_the_written_ones() {
        for v in [0u64, 1, 127, 128, 16_383, 16_384, u64::MAX] {
            let mut buf = Vec::new();
            put_varint(&mut buf, v);
            assert_eq!(varint_len(v), buf.len(), "{v}");
        }
        let long = "x".repeat(300);
        for value in [
            AttrValue::Str(""),
            AttrValue::Str(&long),
            AttrValue::I64(-1),
            AttrValue::I64(0),
            AttrValue::F64(f64::NAN),
            AttrValue::Bool(true),
        ] {
            for key in [AttrKey::Plain("k"), AttrKey::Prefixed("span.", &long)] {
                let mut buf = Vec::new();
                put_attribute(&mut buf, 6, key, value);
                let mut r = Reader(&buf);
                assert_eq!(r.tag(), Some((6, LEN)));
                let kv = r.bytes().unwrap();
                assert!(r.0.is_empty(), "{key:?} {value:?}");
                let decoded = opentelemetry_proto::tonic::common::v1::KeyValue::decode(kv).unwrap();
                let want_key = match key {
                    AttrKey::Plain(k) => k.to_owned(),
                    AttrKey::Prefixed(p, k) => format!("{p}{k}"),
                };
                assert_eq!(decoded.key, want_key);
                let got = decoded.value.and_then(|v| v.value);
                match (value, got) {
                    (AttrValue::Str(s), Some(Any::StringValue(g))) => assert_eq!(s, g),
                    (AttrValue::I64(i), Some(Any::IntValue(g))) => assert_eq!(i, g),
                    (AttrValue::F64(f), Some(Any::DoubleValue(g))) => {
                        assert_eq!(f.to_bits(), g.to_bits());
                    }
                    (AttrValue::Bool(b), Some(Any::BoolValue(g))) => assert_eq!(b, g),
                    other => panic!("{other:?}"),
                }
            }
        }
    }

    #[test]
    fn resource_values_of_every_kind_decode() {
        let resource = Resource::builder_empty()
            .with_attributes([
                opentelemetry::KeyValue::new("service.name", "checkout"),
                opentelemetry::KeyValue::new("n", 42i64),
                opentelemetry::KeyValue::new("neg", -7i64),
                opentelemetry::KeyValue::new("f", 0.5),
                opentelemetry::KeyValue::new("b", true),
                opentelemetry::KeyValue::new(
                    "a",
                    OtelValue::Array(opentelemetry::Array::I64(vec![1, 2])),
                ),
            ])
            .build();
        let mut writer = RequestWriter::new(resource_bytes(&resource));
        let request = ExportLogsServiceRequest::decode(&*writer.request(&[])).unwrap();
        let res = request.resource_logs[0].resource.as_ref().unwrap();
        let get = |k: &str| {
            res.attributes
                .iter()
                .find(|kv| kv.key == k)
                .and_then(|kv| kv.value.clone())
                .and_then(|v| v.value)
        };
        assert_eq!(
            get("service.name"),
            Some(Any::StringValue("checkout".into()))
        );
        assert_eq!(get("n"), Some(Any::IntValue(42)));
        assert_eq!(get("neg"), Some(Any::IntValue(-7)));
        assert_eq!(get("f"), Some(Any::DoubleValue(0.5)));
        assert_eq!(get("b"), Some(Any::BoolValue(true)));
        match get("a") {
            Some(Any::ArrayValue(a)) => {
                let v: Vec<_> = a.values.into_iter().filter_map(|v| v.value).collect();
                assert_eq!(v, [Any::IntValue(1), Any::IntValue(2)]);
            }
            other => panic!("{other:?}"),
        }
        assert!(request.resource_logs[0].scope_logs.is_empty());
    }

    /// Copies every record the layer emits, as `OtlpOutput::emit` does.
    struct Collect(std::sync::Arc<std::sync::Mutex<Vec<Pending>>>);

    impl eventlog::Output for Collect {
        fn emit(&self, record: &eventlog::Record<'_>) -> Result<(), eventlog::DropReason> {
            let mut p = Pending::default();
            p.fill_from(record);
            self.0.lock().unwrap().push(p);
            Ok(())
        }
    }

    fn pendings(emit: impl FnOnce()) -> (Vec<Pending>, Vec<serde_json::Value>) {
        use tracing_subscriber::prelude::*;
        let out = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let capture = eventlog::testing::Capture::new();
        let layer = eventlog::layer()
            .service("checkout")
            .writer(capture.clone())
            .output(Collect(std::sync::Arc::clone(&out)));
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), emit);
        let records = std::mem::take(&mut *out.lock().unwrap());
        let lines = capture
            .lines()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (records, lines)
    }

    /// The attribute a JSON metadata value maps to.
    fn expected_attribute(value: &serde_json::Value) -> Any {
        match value {
            serde_json::Value::String(s) => Any::StringValue(s.clone()),
            serde_json::Value::Bool(b) => Any::BoolValue(*b),
            serde_json::Value::Number(n) if n.is_i64() => Any::IntValue(n.as_i64().unwrap()),
            // Past i64: the exact decimal string.
            serde_json::Value::Number(n) if n.is_u64() => Any::StringValue(n.to_string()),
            serde_json::Value::Number(n) => Any::DoubleValue(n.as_f64().unwrap()),
            other => panic!("{other}"),
        }
    }

    /// Every field of every record, decoded by `opentelemetry-proto`'s prost
    /// types, is what the JSON line of the same event says; records are
    /// grouped by target in order of first use, each group in emit order.
    #[test]
    fn requests_decode_with_the_reference_types_field_for_field() {
        use opentelemetry_proto::tonic::common::v1::AnyValue;
        let (records, lines) = pendings(|| {
            let _s =
                tracing::info_span!("payment", request_id = "req_1", step = "charge").entered();
            tracing::info!(target: "app::a", event_name = "order_placed", amount = 72.49, items = -3i64, ok = true, "placed");
            tracing::warn!(target: "app::b", event_name = "cache_missed", key = "k");
            tracing::error!(target: "app::a", event_name = "payment_failed", big = u64::MAX, note = "quote \" and \u{1}");
        });
        assert_eq!(records.len(), 3);
        let refs: Vec<&Pending> = records.iter().collect();
        let resource = resource(
            &eventlog::Deployment::new().service("checkout"),
            &crate::config::ResourceEnv::default(),
        );
        let mut writer = RequestWriter::new(resource_bytes(&resource));
        let bytes = writer.request(&refs);
        // The writer's reused scratch leaves nothing behind between requests.
        let _one_scope = writer.request(&refs[1..2]);
        assert_eq!(writer.request(&refs), bytes);
        let request = ExportLogsServiceRequest::decode(&*bytes).unwrap();
        assert_eq!(request.resource_logs.len(), 1);
        let rl = &request.resource_logs[0];
        let attrs = &rl.resource.as_ref().unwrap().attributes;
        assert!(attrs.iter().any(|kv| kv.key == "service.name"
            && kv.value
                == Some(AnyValue {
                    value: Some(Any::StringValue("checkout".into()))
                })));
        let scopes: Vec<(&str, &str, usize)> = rl
            .scope_logs
            .iter()
            .map(|sl| {
                let scope = sl.scope.as_ref().unwrap();
                (
                    scope.name.as_str(),
                    scope.version.as_str(),
                    sl.log_records.len(),
                )
            })
            .collect();
        let version = env!("CARGO_PKG_VERSION");
        assert_eq!(scopes, [("app::a", version, 2), ("app::b", version, 1)]);
        let decoded: Vec<_> = [(0, 0), (0, 1), (1, 0)]
            .iter()
            .map(|&(s, r)| &rl.scope_logs[s].log_records[r])
            .collect();
        // JSON lines in emit order: a, b, a; decoded in scope order: a, a, b.
        for (lr, line) in decoded.iter().zip([&lines[0], &lines[2], &lines[1]]) {
            let attr = |k: &str| {
                lr.attributes
                    .iter()
                    .find(|kv| kv.key == k)
                    .and_then(|kv| kv.value.clone())
                    .and_then(|v| v.value)
            };
            assert_eq!(lr.event_name, line["event_name"].as_str().unwrap());
            assert_eq!(lr.severity_text, line["level"].as_str().unwrap());
            let number = match lr.severity_text.as_str() {
                "INFO" => 9,
                "WARN" => 13,
                "ERROR" => 17,
                other => panic!("{other}"),
            };
            assert_eq!(lr.severity_number, number);
            let body = line.get("message").unwrap_or(&line["event_name"]);
            assert_eq!(
                lr.body.clone().and_then(|b| b.value),
                Some(Any::StringValue(body.as_str().unwrap().into()))
            );
            let hex = |b: &[u8]| {
                use std::fmt::Write as _;
                b.iter().fold(String::new(), |mut s, x| {
                    let _ = write!(s, "{x:02x}");
                    s
                })
            };
            assert_eq!(hex(&lr.trace_id), line["trace_id"].as_str().unwrap());
            assert_eq!(hex(&lr.span_id), line["span_id"].as_str().unwrap());
            assert_eq!(lr.flags, 1, "sampled");
            assert_eq!(lr.time_unix_nano, lr.observed_time_unix_nano);
            let ts = jiff::Timestamp::from_nanosecond(i128::from(lr.time_unix_nano)).unwrap();
            // The JSON line has microseconds.
            assert_eq!(format!("{ts:.6}"), line["timestamp"].as_str().unwrap());
            assert_eq!(attr("request_id"), Some(Any::StringValue("req_1".into())));
            assert_eq!(attr("span.name"), Some(Any::StringValue("payment".into())));
            assert_eq!(attr("span.step"), Some(Any::StringValue("charge".into())));
            assert_eq!(
                attr("event.type"),
                Some(Any::StringValue(
                    line["event_type"].as_str().unwrap().into()
                ))
            );
            for (key, value) in line["metadata"].as_object().unwrap() {
                assert_eq!(attr(key), Some(expected_attribute(value)), "{key}");
            }
            assert!(matches!(attr("code.line.number"), Some(Any::IntValue(l)) if l > 0));
        }
    }

    #[test]
    fn partial_success_is_read() {
        let response = ExportLogsServiceResponse {
            partial_success: Some(ExportLogsPartialSuccess {
                rejected_log_records: 3,
                error_message: "too old".into(),
            }),
        };
        let got = read_response(&response.encode_to_vec());
        assert_eq!(
            got,
            PartialSuccess {
                rejected: 3,
                message: "too old".into()
            }
        );
        assert_eq!(read_response(&[]), PartialSuccess::default());
        // Garbage never panics and counts as success.
        assert_eq!(read_response(&[0x0a, 0xff]), PartialSuccess::default());
        let empty = ExportLogsServiceResponse {
            partial_success: None,
        };
        assert_eq!(read_response(&empty.encode_to_vec()).rejected, 0);
    }

    /// A metrics request decodes with the reference types: one resource,
    /// scope `eventlog`, counters as monotonic cumulative sums starting at
    /// the start time, gauges as gauges, labels as attributes, values
    /// saturating at `i64::MAX`.
    #[test]
    fn metrics_requests_decode_with_the_reference_types() {
        use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
        use opentelemetry_proto::tonic::metrics::v1::{
            AggregationTemporality, metric::Data, number_data_point::Value as Number,
        };
        use prost::Message as _;
        let resource = resource_bytes(
            &Resource::builder_empty()
                .with_attribute(opentelemetry::KeyValue::new("service.name", "checkout"))
                .build(),
        );
        let metrics = [
            eventlog::Metric::counter("eventlog.records.dropped", "Records lost, by reason.")
                .unit("{record}")
                .labeled("reason", "io", 3)
                .labeled("reason", "queue_full", u64::MAX),
            eventlog::Metric::gauge("eventlog.otlp.queue.bytes", "Bytes queued.")
                .unit("By")
                .value(4096),
            eventlog::Metric::counter("eventlog.empty", "No point."),
        ];
        let body = metrics_request(&resource, &metrics, 11, 22);
        let request = ExportMetricsServiceRequest::decode(body.as_slice()).unwrap();
        assert_eq!(request.resource_metrics.len(), 1);
        let rm = &request.resource_metrics[0];
        let attrs = &rm.resource.as_ref().unwrap().attributes;
        assert_eq!(attrs[0].key, "service.name");
        let sm = &rm.scope_metrics[0];
        let scope = sm.scope.as_ref().unwrap();
        assert_eq!(
            (scope.name.as_str(), scope.version.as_str()),
            ("eventlog", env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(sm.metrics.len(), 3);
        let dropped = &sm.metrics[0];
        assert_eq!(
            (
                dropped.name.as_str(),
                dropped.description.as_str(),
                dropped.unit.as_str()
            ),
            (
                "eventlog.records.dropped",
                "Records lost, by reason.",
                "{record}"
            )
        );
        let Some(Data::Sum(sum)) = &dropped.data else {
            panic!("{dropped:?}")
        };
        assert!(sum.is_monotonic);
        assert_eq!(
            sum.aggregation_temporality,
            AggregationTemporality::Cumulative as i32
        );
        let points: Vec<_> = sum
            .data_points
            .iter()
            .map(|p| {
                let label = match &p.attributes[0].value.as_ref().unwrap().value {
                    Some(Any::StringValue(s)) => s.clone(),
                    other => panic!("{other:?}"),
                };
                assert_eq!(p.attributes[0].key, "reason");
                (label, p.start_time_unix_nano, p.time_unix_nano, p.value)
            })
            .collect();
        assert_eq!(
            points,
            [
                ("io".to_owned(), 11, 22, Some(Number::AsInt(3))),
                (
                    "queue_full".to_owned(),
                    11,
                    22,
                    Some(Number::AsInt(i64::MAX))
                ),
            ]
        );
        let Some(Data::Gauge(gauge)) = &sm.metrics[1].data else {
            panic!("{:?}", sm.metrics[1])
        };
        assert_eq!(gauge.data_points.len(), 1);
        let p = &gauge.data_points[0];
        assert!(p.attributes.is_empty());
        assert_eq!(
            (p.start_time_unix_nano, p.time_unix_nano, p.value),
            (0, 22, Some(Number::AsInt(4096)))
        );
        let Some(Data::Sum(empty)) = &sm.metrics[2].data else {
            panic!("{:?}", sm.metrics[2])
        };
        assert!(empty.data_points.is_empty());
    }
}
