//! Fields as a JSON object: the event's `metadata` and a span's `fields`.
//!
//! ```text
//! FieldBuf ─ stored() ─> write_object ─> {"name":value,…}   (typed values stay numbers and booleans)
//! ```

use super::JsonBuf;
use crate::fields::{FieldBuf, StoredValue};

/// Appends `fields` as a JSON object.
// Inlined into the line encoder, its one caller per event (callgrind,
// `per_event`).
#[inline]
pub(crate) fn write_object(fields: &FieldBuf, out: &mut JsonBuf) {
    out.byte(b'{');
    for (i, f) in fields.stored().iter().enumerate() {
        if i > 0 {
            out.byte(b',');
        }
        out.key(fields.name_of(f));
        match f.value {
            StoredValue::Str(r) => out.str(fields.text(r)),
            StoredValue::I64(v) => out.int(v),
            StoredValue::U64(v) => out.int(v),
            StoredValue::I128(v) => out.int(v),
            StoredValue::U128(v) => out.int(v),
            StoredValue::F64(v) => out.f64(v),
            StoredValue::Bool(true) => out.raw(b"true"),
            StoredValue::Bool(false) => out.raw(b"false"),
        }
    }
    out.byte(b'}');
}

/// `fields` as a JSON object in a buffer of about its own size (it is
/// kept as long as its span lives).
pub(crate) fn object_json(fields: &FieldBuf) -> Vec<u8> {
    let mut json = JsonBuf::with_capacity(fields.json_size_hint());
    write_object(fields, &mut json);
    json.into_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_values_stay_typed_and_text_is_escaped() {
        let mut fields = FieldBuf::default();
        let text = fields.push_text("a \"quoted\"\nvalue", usize::MAX);
        fields.push("note", StoredValue::Str(text));
        fields.push("n", StoredValue::U64(7));
        fields.push("neg", StoredValue::I64(-7));
        fields.push("big", StoredValue::I128(-5));
        fields.push("ratio", StoredValue::F64(0.25));
        fields.push("ok", StoredValue::Bool(true));
        fields.push("n", StoredValue::Bool(false));
        let json: serde_json::Value = serde_json::from_slice(&object_json(&fields)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "note": "a \"quoted\"\nvalue", "n": 7, "neg": -7,
                "big": -5, "ratio": 0.25, "ok": true, "n_2": false
            })
        );
        assert_eq!(object_json(&FieldBuf::default()), b"{}");
    }
}
