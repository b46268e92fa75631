//! Span pre-encoding: the JSON a span gives every record beneath it,
//! encoded once per span instead of once per event.
//!
//! ```text
//! on_new_span / on_record ─> span_fields: SpanFields { fields, their JSON object }
//! first record in a span  ─> SpanJson::new: head  = deployment + statics, ids, promoted values
//!                                          block = ,"span":{"name":…,"fields":{…}}
//! every record            ─> Encoding (encode::record) copies head and block as they are
//! ```
//!
//! Which promoted values a span has (merged up the span tree, nearest
//! wins) is decided by `layer::scope`; how they are written is decided here.

use std::sync::Arc;

use super::fields::object_json;
use super::layout::Layout;
use crate::fields::{FieldBuf, Promoted};
use crate::trace::TraceContext;

/// A span's own (non-promoted) fields, and the same as a JSON object,
/// refreshed whenever they change, so each record copies bytes instead of
/// re-encoding them.
#[derive(Debug, Clone, Default)]
pub(crate) struct SpanFields {
    fields: FieldBuf,
    json: Vec<u8>,
}

impl SpanFields {
    /// The fields themselves (a record's `span_fields`).
    #[inline]
    pub(crate) fn fields(&self) -> &FieldBuf {
        &self.fields
    }

    /// The fields, to change them (the JSON is rebuilt by [`span_fields`]).
    pub(crate) fn into_fields(self) -> FieldBuf {
        self.fields
    }
}

/// A span's own fields with their JSON object for the `span` block, or
/// `None` when it has none.
pub(crate) fn span_fields(fields: FieldBuf) -> Option<Arc<SpanFields>> {
    if fields.is_empty() {
        return None;
    }
    let json = object_json(&fields);
    Some(Arc::new(SpanFields { fields, json }))
}

/// The cached bytes of one span's scope, as one layer writes them: what
/// every record directly beneath the span copies in two pieces.
#[derive(Debug, Default)]
pub(crate) struct SpanJson {
    /// The deployment context and static fields, then the ids, then
    /// `,"request_id":…` for every promoted value.
    head: Vec<u8>,
    /// `,"span":{…}`, or empty when the envelope has no span block.
    block: Vec<u8>,
}

impl SpanJson {
    /// Encodes the scope of the span `name`: its `trace`, its `promoted`
    /// values (sorted by envelope index, text in `text`) and its own
    /// `fields`.
    pub(crate) fn new(
        layout: &Layout,
        trace: Option<TraceContext>,
        promoted: &[Promoted],
        text: &FieldBuf,
        name: &str,
        fields: Option<&SpanFields>,
    ) -> Self {
        // Sized up front: these are built once per span, and a default
        // buffer would start at 1 KiB.
        let promoted_len: usize = promoted.iter().map(|p| text.text(p.text).len() + 24).sum();
        let mut head = super::JsonBuf::with_capacity(layout.fixed_json().len() + 96 + promoted_len);
        head.raw(layout.fixed_json());
        layout.write_ids(trace, &mut head);
        layout.write_promoted(promoted, text, &mut head);
        let fields_json = fields.map_or(&[][..], |f| &f.json[..]);
        let mut block = super::JsonBuf::with_capacity(name.len() + fields_json.len() + 32);
        layout.write_span_block(Some(name), fields_json, &mut block);
        Self {
            head: head.into_vec(),
            block: block.into_vec(),
        }
    }

    /// Deployment context, statics, ids and promoted values in one piece.
    #[inline]
    pub(crate) fn head(&self) -> &[u8] {
        &self.head
    }

    /// `,"span":{…}`, or empty when the envelope has no span block.
    #[inline]
    pub(crate) fn block(&self) -> &[u8] {
        &self.block
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::StoredValue;

    #[test]
    fn span_fields_are_none_when_empty_and_else_a_json_object() {
        assert!(span_fields(FieldBuf::default()).is_none());
        let mut fields = FieldBuf::default();
        let text = fields.push_text("a \"quoted\" value", usize::MAX);
        fields.push("note", StoredValue::Str(text));
        fields.push("n", StoredValue::U64(7));
        let shared = span_fields(fields).unwrap();
        let json: serde_json::Value = serde_json::from_slice(&shared.json).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"note": "a \"quoted\" value", "n": 7})
        );
    }
}
