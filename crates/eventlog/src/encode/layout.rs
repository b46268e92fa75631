//! The compiled layout of a line: the envelope and the deployment context
//! pre-encoded once, and the envelope's pieces written from it (ids,
//! promoted values, the span block).

#![deny(clippy::indexing_slicing, clippy::string_slice)]

use tracing_core::Level;

use super::{JsonBuf, write_str};
use crate::deployment::Deployment;
use crate::envelope::{Envelope, Key};
use crate::event_type::EventType;
use crate::fields::{FieldBuf, Promoted};
use crate::trace::TraceContext;

/// The envelope plus the deployment context, pre-encoded: everything about
/// a line that does not change from one event to the next.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub(crate) envelope: Envelope,
    deployment: Deployment,
    pub(crate) fixed_json: Vec<u8>,
    /// `{"timestamp":`
    pub(crate) open_json: Vec<u8>,
    /// `,"level":"INFO"` per level, TRACE first.
    pub(crate) level_json: [Vec<u8>; 5],
    /// `,"event_type":"log"` for each built-in category: most records
    /// carry one of them.
    pub(crate) type_json: [(&'static str, Vec<u8>); 6],
}

impl Layout {
    pub(crate) fn new(envelope: Envelope, deployment: Deployment) -> Self {
        let mut fixed_json = Vec::new();
        let keys = [
            Key::Service,
            Key::Environment,
            Key::Region,
            Key::Version,
            Key::Host,
        ];
        for (key, value) in keys.into_iter().zip(deployment.values()) {
            if let Some(value) = value {
                fixed_json.extend_from_slice(envelope.comma_key(key));
                write_str(&mut fixed_json, value);
            }
        }
        fixed_json.extend_from_slice(&envelope.statics_json);
        let mut open_json = vec![b'{'];
        open_json.extend_from_slice(envelope.key(Key::Timestamp));
        let level_json = [
            Level::TRACE,
            Level::DEBUG,
            Level::INFO,
            Level::WARN,
            Level::ERROR,
        ]
        .map(|level| {
            let mut json = envelope.comma_key(Key::Level).to_vec();
            write_str(&mut json, level.as_str());
            json
        });
        let type_json = [
            EventType::LOG,
            EventType::USER_ACTION,
            EventType::SYSTEM_EVENT,
            EventType::BUSINESS,
            EventType::ERROR,
            EventType::SECURITY,
        ]
        .map(|t| {
            let mut json = envelope.comma_key(Key::EventType).to_vec();
            write_str(&mut json, t.as_str());
            (t.as_str(), json)
        });
        Self {
            envelope,
            deployment,
            fixed_json,
            open_json,
            level_json,
            type_json,
        }
    }

    #[inline]
    pub(crate) fn envelope(&self) -> &Envelope {
        &self.envelope
    }

    #[inline]
    pub(crate) fn deployment(&self) -> &Deployment {
        &self.deployment
    }

    #[inline]
    pub(crate) fn promoted_key(&self, index: usize) -> &str {
        self.envelope
            .promoted
            .get(index)
            .map_or("", |p| p.key.as_str())
    }

    /// `"request_id":` for the promoted key at `index`.
    #[inline]
    pub(crate) fn promoted_key_json(&self, index: usize) -> Option<&[u8]> {
        self.envelope.promoted.get(index).map(|p| &p.key_json[..])
    }

    /// The deployment context and static fields, pre-encoded.
    #[inline]
    pub(crate) fn fixed_json(&self) -> &[u8] {
        &self.fixed_json
    }

    /// `,"trace_id":…,"span_id":…`, or nothing without a trace.
    pub(crate) fn write_ids(&self, trace: Option<TraceContext>, out: &mut JsonBuf) {
        let Some(trace) = trace else {
            return;
        };
        let e = &self.envelope;
        out.raw(e.comma_key(Key::TraceId));
        out.byte(b'"');
        out.hex(&trace.trace_id().to_bytes());
        out.byte(b'"');
        out.raw(e.comma_key(Key::SpanId));
        out.byte(b'"');
        out.hex(&trace.span_id().to_bytes());
        out.byte(b'"');
    }

    /// `,"request_id":…` for each promoted value.
    pub(crate) fn write_promoted(&self, promoted: &[Promoted], text: &FieldBuf, out: &mut JsonBuf) {
        for p in promoted {
            if let Some(key_json) = self.promoted_key_json(p.key) {
                out.byte(b',');
                out.raw(key_json);
                out.str(text.text(p.text));
            }
        }
    }

    /// `,"span":{"name":…,"fields":{…}}`, or nothing when the envelope has
    /// no span block or there is no span.
    pub(crate) fn write_span_block(
        &self,
        name: Option<&str>,
        fields_json: &[u8],
        out: &mut JsonBuf,
    ) {
        let e = &self.envelope;
        if !e.span_block {
            return;
        }
        let Some(name) = name else {
            return;
        };
        out.raw(e.comma_key(Key::Span));
        out.raw(b"{\"name\":");
        out.str(name);
        if !fields_json.is_empty() {
            out.raw(b",\"fields\":");
            out.raw(fields_json);
        }
        out.byte(b'}');
    }
}

#[inline]
pub(crate) fn level_index(level: Level) -> usize {
    match level {
        Level::TRACE => 0,
        Level::DEBUG => 1,
        Level::INFO => 2,
        Level::WARN => 3,
        _ => 4,
    }
}
