//! Field values and the per-event text arena they live in: what a
//! [`Record`](crate::Record) borrows for its fields, its span's fields and
//! its promoted values.
//!
//! ```text
//! capture ─ push / push_text / set ─> FieldBuf { text arena, fields } ─┬─> Record (iter, get: Value)
//!                                                                      └─> encode (stored: JSON)
//! ```
//!
//! Strings are copied once into the text arena; typed values stay typed
//! (`Value`) all the way to the encoder and the OTLP mapping. A buffer is
//! reused across events: `clear` keeps the capacity, so steady-state
//! capture allocates nothing.

use std::fmt::{self, Write as _};

use crate::words::same_bytes;

/// A field value, typed as it was recorded.
///
/// Integers, floats and booleans stay numbers and booleans in every output;
/// `Debug` and `Display` values become strings.
///
/// ```
/// use eventlog::Value;
///
/// assert_eq!(Value::F64(72.49).as_f64(), Some(72.49));
/// assert_eq!(Value::U64(2).as_f64(), Some(2.0));
/// assert_eq!(Value::Str("USD").as_str(), Some("USD"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Value<'a> {
    /// A string, or the text of a `Debug` / `Display` value.
    Str(&'a str),
    /// A signed integer.
    I64(i64),
    /// An unsigned integer.
    U64(u64),
    /// A signed integer wider than 64 bits.
    I128(i128),
    /// An unsigned integer wider than 64 bits.
    U128(u128),
    /// A float; NaN and infinities are written as strings in JSON.
    F64(f64),
    /// A boolean.
    Bool(bool),
}

impl<'a> Value<'a> {
    /// The string, if this is a string value.
    pub fn as_str(&self) -> Option<&'a str> {
        match *self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value as a float, if it is any kind of number.
    #[allow(clippy::cast_precision_loss)] // Lossy by design: "as a float".
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Value::I64(v) => Some(v as f64),
            Value::U64(v) => Some(v as f64),
            Value::I128(v) => Some(v as f64),
            Value::U128(v) => Some(v as f64),
            Value::F64(v) => Some(v),
            Value::Str(_) | Value::Bool(_) => None,
        }
    }
}

/// One named field of a record or span.
///
/// ```
/// use eventlog::{Field, Value};
///
/// let f = Field { name: "amount", value: Value::F64(72.49) };
/// assert_eq!(f.name, "amount");
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field<'a> {
    /// The field name, unique within its record.
    pub name: &'a str,
    /// The field value.
    pub value: Value<'a>,
}

/// Where a stored string lives in a [`FieldBuf`]'s text arena.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TextRef {
    start: u32,
    end: u32,
}

#[derive(Debug, Clone, Copy)]
pub(crate) enum StoredValue {
    Str(TextRef),
    I64(i64),
    U64(u64),
    I128(i128),
    U128(u128),
    F64(f64),
    Bool(bool),
}

#[derive(Debug, Clone, Copy)]
enum StoredName {
    Static(&'static str),
    // A name renamed to avoid a duplicate key (`amount_2`).
    Text(TextRef),
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct StoredField {
    name: StoredName,
    pub(crate) value: StoredValue,
}

/// The marker appended to a string cut at the configured length cap.
pub(crate) const TRUNCATION_MARKER: &str = "…[truncated]";

/// Fields plus the text they point into. Reused across events: `clear`
/// keeps the capacity, so steady-state capture allocates nothing.
#[derive(Debug, Default, Clone)]
pub(crate) struct FieldBuf {
    text: String,
    fields: Vec<StoredField>,
}

/// No fields: what a record outside any span (or in a span without
/// fields) points at.
pub(crate) static NO_FIELDS: FieldBuf = FieldBuf {
    text: String::new(),
    fields: Vec::new(),
};

impl FieldBuf {
    pub(crate) fn clear(&mut self) {
        self.text.clear();
        self.fields.clear();
    }

    /// Copies the concatenation of `parts` into the arena (no cap).
    pub(crate) fn push_concat(&mut self, parts: &[&str]) -> TextRef {
        let start = self.text.len();
        for part in parts {
            self.text.push_str(part);
        }
        self.text_ref(start)
    }

    /// About how many bytes the fields take as a JSON object: their text,
    /// plus room per field for its name, quotes and a number.
    pub(crate) fn json_size_hint(&self) -> usize {
        self.text.len()
            + self
                .fields
                .iter()
                .map(|f| self.name_of(f).len() + 48)
                .sum::<usize>()
    }

    pub(crate) fn text_capacity(&self) -> usize {
        self.text.capacity()
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Copies `s` into the arena, cut to `cap` bytes (on a char boundary)
    /// with a visible marker.
    pub(crate) fn push_text(&mut self, s: &str, cap: usize) -> TextRef {
        let start = self.text.len();
        if s.len() > cap {
            self.text.push_str(&s[..floor_char_boundary(s, cap)]);
            self.text.push_str(TRUNCATION_MARKER);
        } else {
            self.text.push_str(s);
        }
        self.text_ref(start)
    }

    /// Forgets the text from `r` on; `r` must be the last text pushed.
    pub(crate) fn truncate_text(&mut self, r: TextRef) {
        self.text.truncate(r.start as usize);
    }

    /// Formats `value` with `Debug` into the arena, then applies the cap.
    pub(crate) fn push_debug(&mut self, value: &dyn fmt::Debug, cap: usize) -> TextRef {
        let start = self.text.len();
        // Writing into a String cannot fail unless the Debug impl itself
        // errors; then we keep whatever it wrote.
        let _ = write!(self.text, "{value:?}");
        self.cap_from(start, cap);
        self.text_ref(start)
    }

    fn cap_from(&mut self, start: usize, cap: usize) {
        let written = &self.text[start..];
        if written.len() > cap {
            let keep = start + floor_char_boundary(written, cap);
            self.text.truncate(keep);
            self.text.push_str(TRUNCATION_MARKER);
        }
    }

    fn text_ref(&self, start: usize) -> TextRef {
        // Arena offsets fit in u32 as long as one event's text is below
        // 4 GiB; beyond that, clamp rather than wrap (the value is cut).
        let clamp = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        TextRef {
            start: clamp(start),
            end: clamp(self.text.len()),
        }
    }

    #[inline]
    pub(crate) fn text(&self, r: TextRef) -> &str {
        self.text
            .get(r.start as usize..r.end as usize)
            .unwrap_or_default()
    }

    /// Appends a field. If the name is already present the new one is
    /// renamed `name_2`, `name_3`, … so a line never has duplicate keys.
    pub(crate) fn push(&mut self, name: &'static str, value: StoredValue) {
        let name = if self.position(name).is_some() {
            self.unique_name(name)
        } else {
            StoredName::Static(name)
        };
        self.fields.push(StoredField { name, value });
    }

    /// [`push`](Self::push) for a name known to be new (the callsite's
    /// names are distinct and none was pushed under another name yet).
    pub(crate) fn push_distinct(&mut self, name: &'static str, value: StoredValue) {
        self.fields.push(StoredField {
            name: StoredName::Static(name),
            value,
        });
    }

    /// Sets a field, replacing an earlier value of the same name (used by
    /// `Span::record`, where a later value wins).
    pub(crate) fn set(&mut self, name: &'static str, value: StoredValue) {
        match self.position(name) {
            Some(i) => self.fields[i].value = value,
            None => self.fields.push(StoredField {
                name: StoredName::Static(name),
                value,
            }),
        }
    }

    /// Appends a field named by the concatenation of `name` (the
    /// `example.order_id` fields of a suppression summary), renamed like
    /// [`push`](Self::push) if that name is taken.
    #[cold]
    #[inline(never)]
    pub(crate) fn push_named(&mut self, name: &[&str], value: StoredValue) {
        let r = self.push_concat(name);
        let taken = self.position(self.text(r)).is_some();
        let name = if taken {
            let joined = self.text(r).to_owned();
            self.unique_name(&joined)
        } else {
            StoredName::Text(r)
        };
        self.fields.push(StoredField { name, value });
    }

    /// Appends `value` under `name`, which the layer owns (`sample_rate`):
    /// a field of the event already named so is renamed (`sample_rate_2`),
    /// so readers always find the layer's value under `name`.
    #[cold]
    #[inline(never)]
    pub(crate) fn push_reserved(&mut self, name: &'static str, value: StoredValue) {
        if let Some(i) = self.position(name) {
            let renamed = self.unique_name(name);
            if let Some(field) = self.fields.get_mut(i) {
                field.name = renamed;
            }
        }
        self.fields.push(StoredField {
            name: StoredName::Static(name),
            value,
        });
    }

    /// Stores a value read from another buffer, copying its text here.
    #[cold]
    #[inline(never)]
    pub(crate) fn store_value(&mut self, value: Value<'_>) -> StoredValue {
        match value {
            Value::Str(s) => StoredValue::Str(self.push_text(s, usize::MAX)),
            Value::I64(v) => StoredValue::I64(v),
            Value::U64(v) => StoredValue::U64(v),
            Value::I128(v) => StoredValue::I128(v),
            Value::U128(v) => StoredValue::U128(v),
            Value::F64(v) => StoredValue::F64(v),
            Value::Bool(v) => StoredValue::Bool(v),
        }
    }

    /// Drops text no longer referenced, after many `set` calls.
    pub(crate) fn compact(&mut self) {
        let live: usize = self
            .fields
            .iter()
            .map(|f| match f.value {
                StoredValue::Str(r) => (r.end - r.start) as usize,
                _ => 0,
            })
            .sum();
        if self.text.len() <= 2 * live + 256 {
            return;
        }
        let mut fresh = FieldBuf::default();
        for f in &self.fields {
            let name = match f.name {
                StoredName::Static(n) => StoredName::Static(n),
                StoredName::Text(r) => StoredName::Text(fresh.push_text(self.text(r), usize::MAX)),
            };
            let value = match f.value {
                StoredValue::Str(r) => StoredValue::Str(fresh.push_text(self.text(r), usize::MAX)),
                other => other,
            };
            fresh.fields.push(StoredField { name, value });
        }
        *self = fresh;
    }

    fn position(&self, name: &str) -> Option<usize> {
        let wanted = name.as_bytes();
        self.fields
            .iter()
            .position(|f| same_bytes(self.name_of(f).as_bytes(), wanted))
    }

    fn unique_name(&mut self, name: &str) -> StoredName {
        let mut n = 2usize;
        loop {
            let start = self.text.len();
            let _ = write!(self.text, "{name}_{n}");
            let candidate = self.text_ref(start);
            if self.position(self.text(candidate)).is_none() {
                return StoredName::Text(candidate);
            }
            self.text.truncate(start);
            n += 1;
        }
    }

    #[inline]
    pub(crate) fn name_of<'s>(&'s self, f: &StoredField) -> &'s str {
        match f.name {
            StoredName::Static(n) => n,
            StoredName::Text(r) => self.text(r),
        }
    }

    fn view(&self, f: &StoredField) -> Field<'_> {
        Field {
            name: self.name_of(f),
            value: match f.value {
                StoredValue::Str(r) => Value::Str(self.text(r)),
                StoredValue::I64(v) => Value::I64(v),
                StoredValue::U64(v) => Value::U64(v),
                StoredValue::I128(v) => Value::I128(v),
                StoredValue::U128(v) => Value::U128(v),
                StoredValue::F64(v) => Value::F64(v),
                StoredValue::Bool(v) => Value::Bool(v),
            },
        }
    }

    /// The stored fields, in recording order (for the encoder, which
    /// resolves names and text itself with [`name_of`](Self::name_of) and
    /// [`text`](Self::text)).
    #[inline]
    pub(crate) fn stored(&self) -> &[StoredField] {
        &self.fields
    }

    pub(crate) fn iter(&self) -> impl ExactSizeIterator<Item = Field<'_>> + '_ {
        self.fields.iter().map(|f| self.view(f))
    }

    pub(crate) fn get(&self, name: &str) -> Option<Value<'_>> {
        // Schema checks look fields up by name several times per event: test
        // length and first byte before comparing whole names.
        let wanted = name.as_bytes();
        self.fields
            .iter()
            .find(|f| {
                let have = self.name_of(f).as_bytes();
                same_bytes(have, wanted)
            })
            .map(|f| self.view(f).value)
    }
}

fn floor_char_boundary(s: &str, max: usize) -> usize {
    let mut i = max.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A promoted correlation value: the output key and where its text lives.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Promoted {
    pub(crate) key: usize,
    pub(crate) text: TextRef,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_names_are_renamed_not_repeated() {
        let mut buf = FieldBuf::default();
        buf.push("a", StoredValue::U64(1));
        buf.push("a", StoredValue::U64(2));
        buf.push("a_2", StoredValue::U64(3));
        let names: Vec<_> = buf.iter().map(|f| f.name.to_owned()).collect();
        assert_eq!(names, ["a", "a_2", "a_2_2"]);
    }

    #[test]
    fn a_reserved_name_renames_the_events_own_field() {
        let mut buf = FieldBuf::default();
        buf.push("sample_rate", StoredValue::U64(7));
        buf.push_reserved("sample_rate", StoredValue::F64(0.5));
        assert_eq!(buf.get("sample_rate"), Some(Value::F64(0.5)));
        assert_eq!(buf.get("sample_rate_2"), Some(Value::U64(7)));
        buf.push_named(&["example.", "sample_rate"], StoredValue::Bool(true));
        buf.push_named(&["example.", "sample_rate"], StoredValue::Bool(false));
        assert_eq!(buf.get("example.sample_rate"), Some(Value::Bool(true)));
        assert_eq!(buf.get("example.sample_rate_2"), Some(Value::Bool(false)));
    }

    #[test]
    fn long_text_is_cut_on_a_char_boundary_with_a_marker() {
        let mut buf = FieldBuf::default();
        let r = buf.push_text("ééééé", 3);
        assert_eq!(buf.text(r), format!("é{TRUNCATION_MARKER}"));
        let r = buf.push_debug(&"abcdef", 4);
        assert_eq!(buf.text(r), format!("\"abc{TRUNCATION_MARKER}"));
    }

    #[test]
    fn set_replaces_and_compact_keeps_values() {
        let mut buf = FieldBuf::default();
        for i in 0..200 {
            let r = buf.push_text(&format!("value-{i}"), usize::MAX);
            buf.set("step", StoredValue::Str(r));
        }
        buf.compact();
        assert_eq!(buf.iter().len(), 1);
        assert_eq!(buf.get("step"), Some(Value::Str("value-199")));
        assert!(buf.text.len() < 64);
    }
}
