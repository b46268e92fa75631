//! Checking a record against the compiled schema.

use super::compiled::Schema;
use super::model::UnknownEvents;
use super::plan::{FieldPlan, Plan};
use crate::fields::Value;
use crate::record::Record;
use crate::violation::{FieldType, Violation};

impl Plan {
    fn check(&self, record: &impl Checked, out: &mut Vec<Violation>) {
        for f in &self.fields {
            let value = record
                .field(&f.spec.name)
                .or_else(|| record.correlation_value(&f.spec.name).map(Value::Str));
            match value {
                None if f.spec.required => out.push(Violation::MissingField {
                    field: f.spec.name.clone(),
                }),
                None => {}
                Some(value) => check_value(f, value, out),
            }
        }
        for key in &self.context {
            if !record.has_context(key) {
                out.push(Violation::MissingContext { key: key.clone() });
            }
        }
    }
}

/// What the checker reads of a record: a live [`Record`], or a JSON line
/// read back from a file ([`Schema::check_json`]).
pub(crate) trait Checked {
    fn event_name(&self) -> Option<&str>;
    fn event_type(&self) -> &str;
    /// An event field (`metadata` in a JSON line).
    fn field(&self, name: &str) -> Option<Value<'_>>;
    /// A promoted correlation value (`request_id`, …).
    fn correlation_value(&self, name: &str) -> Option<&str>;
    /// Whether a required top-level key is present.
    fn has_context(&self, key: &str) -> bool;
}

impl Checked for Record<'_> {
    #[inline]
    fn event_name(&self) -> Option<&str> {
        Record::event_name(self)
    }

    #[inline]
    fn event_type(&self) -> &str {
        Record::event_type(self)
    }

    #[inline]
    fn field(&self, name: &str) -> Option<Value<'_>> {
        Record::field(self, name)
    }

    #[inline]
    fn correlation_value(&self, name: &str) -> Option<&str> {
        Record::correlation_value(self, name)
    }

    #[inline]
    fn has_context(&self, key: &str) -> bool {
        let d = self.deployment();
        match key {
            "service" => d.service_name().is_some(),
            "environment" => d.environment_name().is_some(),
            "region" => d.region_name().is_some(),
            "version" => d.version_name().is_some(),
            "host" => d.host_name().is_some(),
            "message" => self.message().is_some_and(|m| !m.is_empty()),
            "trace_id" | "span_id" => self.trace().is_some(),
            other => {
                Record::correlation_value(self, other).is_some()
                    || Record::field(self, other).is_some()
            }
        }
    }
}

/// A JSON line in the default envelope (keys not renamed).
struct JsonLine<'a>(&'a serde_json::Map<String, serde_json::Value>);

impl JsonLine<'_> {
    fn metadata(&self) -> Option<&serde_json::Map<String, serde_json::Value>> {
        self.0.get("metadata")?.as_object()
    }
}

impl Checked for JsonLine<'_> {
    fn event_name(&self) -> Option<&str> {
        self.0.get("event_name")?.as_str()
    }

    fn event_type(&self) -> &str {
        self.0
            .get("event_type")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("log")
    }

    fn field(&self, name: &str) -> Option<Value<'_>> {
        use serde_json::Value as J;
        Some(match self.metadata()?.get(name)? {
            // The encoder writes non-finite floats as these strings (so a
            // string field holding exactly this text reads back as a float).
            J::String(s) => match s.as_str() {
                "NaN" => Value::F64(f64::NAN),
                "Infinity" => Value::F64(f64::INFINITY),
                "-Infinity" => Value::F64(f64::NEG_INFINITY),
                text => Value::Str(text),
            },
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => {
                if let Some(v) = n.as_u64() {
                    Value::U64(v)
                } else if let Some(v) = n.as_i64() {
                    Value::I64(v)
                } else {
                    Value::F64(n.as_f64()?)
                }
            }
            // `Debug` output and nested values are written as text; a null
            // or a structure is no declared type.
            J::Null | J::Array(_) | J::Object(_) => return None,
        })
    }

    fn correlation_value(&self, name: &str) -> Option<&str> {
        self.0.get(name)?.as_str()
    }

    fn has_context(&self, key: &str) -> bool {
        match key {
            "message" => self
                .0
                .get("message")
                .and_then(serde_json::Value::as_str)
                .is_some_and(|m| !m.is_empty()),
            other => {
                self.0.get(other).is_some_and(|v| !v.is_null())
                    || self.metadata().is_some_and(|m| m.contains_key(other))
            }
        }
    }
}

fn found(value: Value<'_>) -> &'static str {
    match value {
        Value::Str(_) => "string",
        Value::Bool(_) => "bool",
        Value::F64(_) => "float",
        _ => "integer",
    }
}

// Forced inline, like `check_value`: with a second caller (the JSON-line
// check) LLVM stopped inlining both into the layer's check, +138
// instructions per schema-checked event (callgrind, `per_event`).
#[allow(clippy::inline_always)]
#[inline(always)]
fn type_ok(ty: FieldType, value: Value<'_>) -> bool {
    match (ty, value) {
        (FieldType::String, Value::Str(_))
        | (FieldType::Bool, Value::Bool(_))
        | (FieldType::I64, Value::I64(_))
        | (FieldType::U64, Value::U64(_)) => true,
        (FieldType::Timestamp, Value::Str(s)) => looks_like_rfc3339(s),
        (FieldType::I64, Value::U64(v)) => i64::try_from(v).is_ok(),
        (FieldType::I64, Value::I128(v)) => i64::try_from(v).is_ok(),
        (FieldType::I64, Value::U128(v)) => i64::try_from(v).is_ok(),
        (FieldType::U64, Value::I64(v)) => v >= 0,
        (FieldType::U64, Value::I128(v)) => u64::try_from(v).is_ok(),
        (FieldType::U64, Value::U128(v)) => u64::try_from(v).is_ok(),
        (FieldType::F64 | FieldType::Number, v) => v.as_f64().is_some(),
        _ => false,
    }
}

/// `YYYY-MM-DDTHH:MM:SS` followed by an optional fraction and a zone.
fn looks_like_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && matches!(b[10], b'T' | b't' | b' ')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19)
        && (s.ends_with('Z') || s.ends_with('z') || s[19..].contains(['+', '-']))
}

#[allow(clippy::inline_always)] // See `type_ok`.
#[inline(always)]
fn check_value(f: &FieldPlan, value: Value<'_>, out: &mut Vec<Violation>) {
    let spec = &f.spec;
    if !type_ok(spec.ty, value) {
        out.push(Violation::WrongType {
            field: spec.name.clone(),
            expected: spec.ty,
            found: found(value),
        });
        return;
    }
    let Value::Str(s) = value else {
        return;
    };
    if !spec.one_of.is_empty() && !spec.one_of.iter().any(|v| v == s) {
        out.push(Violation::NotInEnum {
            field: spec.name.clone(),
            value: s.to_owned(),
            allowed: spec.one_of.clone(),
        });
    }
    let constraint = |rule: String| Violation::Constraint {
        field: spec.name.clone(),
        rule,
    };
    if let Some(max) = spec.max_len
        && s.chars().count() > max
    {
        out.push(constraint(format!("longer than {max} characters")));
    }
    if let Some(prefix) = &spec.prefix
        && !s.starts_with(prefix.as_str())
    {
        out.push(constraint(format!("not starting with `{prefix}`")));
    }
    if let (Some(regex), Some(pattern)) = (&f.regex, &spec.pattern)
        && !regex.is_match(s)
    {
        out.push(constraint(format!("not matching `{pattern}`")));
    }
}

impl Schema {
    /// The index of the declared event `name`, if any.
    ///
    /// `#[inline]`: with a second caller (the limits), LLVM kept it out of
    /// line, and the check cost 10 more instructions per event (callgrind,
    /// `per_event`, `eventlog_schema`).
    #[inline]
    pub(crate) fn lookup(&self, name: Option<&str>) -> Option<usize> {
        self.0.index.get(name?).copied()
    }

    /// The declared category of event `index`.
    pub(crate) fn declared_type(&self, index: Option<usize>) -> Option<&str> {
        self.0.plans.get(index?)?.event_type.as_deref()
    }

    /// Checks `record` (whose event has declared index `index`), appending
    /// violations to `out`. Returns whether every violation is only a
    /// warning (an unknown event under `unknown_events = "warn"`).
    pub(crate) fn check(
        &self,
        index: Option<usize>,
        record: &impl Checked,
        out: &mut Vec<Violation>,
    ) -> bool {
        let model = &self.0.model;
        let unknown = model.unknown_events;
        let mut warning_only = false;
        match record.event_name() {
            None if unknown != UnknownEvents::Allow => out.push(Violation::MissingEventName),
            None => {}
            Some(name) => {
                // Declared names were checked when the schema was built.
                if index.is_none() && !model.naming.accepts(name) {
                    out.push(Violation::BadEventName {
                        name: name.to_owned(),
                    });
                }
                if index.is_none() && unknown != UnknownEvents::Allow {
                    out.push(Violation::UnknownEvent {
                        name: name.to_owned(),
                    });
                    warning_only = unknown == UnknownEvents::Warn && out.len() == 1;
                }
            }
        }
        let plan = match index.and_then(|i| self.0.plans.get(i)) {
            Some(plan) => {
                if let Some(expected) = &plan.event_type
                    && record.event_type() != expected
                {
                    out.push(Violation::WrongEventType {
                        expected: expected.clone(),
                        found: record.event_type().to_owned(),
                    });
                }
                Some(plan)
            }
            None => self
                .0
                .type_plans
                .iter()
                .find(|(t, _)| t == record.event_type())
                .map(|(_, p)| p),
        };
        let before = out.len();
        match plan {
            Some(plan) => plan.check(record, out),
            None => {
                for key in &model.required_context {
                    if !record.has_context(key) {
                        out.push(Violation::MissingContext { key: key.clone() });
                    }
                }
            }
        }
        warning_only && out.len() == before
    }

    /// Checks a record read back from a JSON line (the default envelope,
    /// keys not renamed) against this schema, as the layer checked it when
    /// it was written: declared fields under `metadata`, correlation values
    /// and context at the top. An unknown event under `unknown_events =
    /// "warn"` is reported too ([`Violation::UnknownEvent`]); a span-close
    /// record (one with `duration_ms`) of an undeclared name is not
    /// checked; a line that is not a JSON object is a
    /// [`Violation::MissingEventName`].
    ///
    /// ```
    /// use eventlog::{Schema, SchemaFormat};
    ///
    /// let schema = Schema::from_str(
    ///     "[events.user_login_attempt]\n\
    ///      type = \"user_action\"\n\
    ///      fields.result = { type = \"enum\", enum = [\"success\", \"failure\"], required = true }\n",
    ///     SchemaFormat::Toml,
    /// )?;
    /// let line: serde_json::Value = serde_json::from_str(
    ///     r#"{"event_name":"user_login_attempt","event_type":"user_action","metadata":{"result":"maybe"}}"#,
    /// )?;
    /// let found: Vec<String> = schema.check_json(&line).iter().map(|v| v.to_string()).collect();
    /// assert_eq!(found, ["field `result` is `maybe`, expected one of success, failure"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn check_json(&self, record: &serde_json::Value) -> Vec<Violation> {
        let Some(map) = record.as_object() else {
            return vec![Violation::MissingEventName];
        };
        let line = JsonLine(map);
        let mut out = Vec::new();
        let index = self.lookup(line.event_name());
        // Span-close records (they carry `duration_ms`) are checked only
        // when their name is declared, as the layer does.
        if index.is_none() && line.0.contains_key("duration_ms") {
            return out;
        }
        self.check(index, &line, &mut out);
        out
    }
}
