//! Loading: TOML and JSON schema files into the builder model, then
//! compiling the model, with errors that name the file, line and column.

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use super::compiled::{Compiled, Schema};
use super::model::{EventSpec, FieldSpec, Naming, SchemaBuilder, TypeRules, UnknownEvents};
use super::plan::{FieldPlan, Plan};
use crate::event_type::EventType;
use crate::limit::{Budget, Rate};
use crate::violation::FieldType;

/// The recommended baseline, as shipped in `schemas/recommended.toml`.
pub const RECOMMENDED_TOML: &str = include_str!("../../schemas/recommended.toml");

impl SchemaBuilder {
    /// Checks and compiles the schema.
    pub fn build(self) -> Result<Schema, SchemaError> {
        compile(self, &Source::code())
    }
}

impl Schema {
    /// The recommended baseline: the five categories teams log (user
    /// actions, system events, business events, errors, security events)
    /// with their usual fields, and a dozen common events. It is the file
    /// `schemas/recommended.toml` of this crate; copy it to extend it.
    ///
    /// ```
    /// let schema = eventlog::Schema::recommended();
    /// assert!(schema.event("user_login_attempt").is_some());
    /// assert!(schema.event("payment_failed").is_some());
    /// ```
    pub fn recommended() -> Schema {
        // The shipped file is checked by a unit test; should it ever fail to
        // compile, an empty schema is the least surprising fallback.
        Self::from_str(RECOMMENDED_TOML, SchemaFormat::Toml).unwrap_or_else(|_| Schema::empty())
    }

    /// Loads a schema from a `.toml` or `.json` file.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("events.toml");
    /// std::fs::write(&path, "version = 2\n[events.order_placed]\ntype = \"business\"\nfields.amount = { type = \"f64\", required = true }\n")?;
    /// let schema = eventlog::Schema::from_file(&path)?;
    /// assert_eq!(schema.version(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Schema, SchemaError> {
        from_file(path.as_ref())
    }

    /// Parses a schema from text in the given format.
    #[allow(clippy::should_implement_trait)] // It takes a format too.
    pub fn from_str(text: &str, format: SchemaFormat) -> Result<Schema, SchemaError> {
        from_text(text, format, &Source::text())
    }
}

impl Plan {
    pub(crate) fn new(
        event: &EventSpec,
        type_rules: Option<&TypeRules>,
        model: &SchemaBuilder,
        source: &Source<'_>,
    ) -> Result<Plan, SchemaError> {
        let mut fields: Vec<FieldPlan> = Vec::new();
        let type_fields = type_rules.map(|t| t.fields.as_slice()).unwrap_or_default();
        for spec in event.fields.iter().chain(type_fields) {
            // The event's own declaration wins over its category's.
            if fields.iter().any(|f| f.spec.name == spec.name) {
                continue;
            }
            fields.push(FieldPlan {
                regex: compile_pattern(&event.name, spec, source)?,
                spec: spec.clone(),
            });
        }
        let mut context: Vec<String> = Vec::new();
        let type_context = type_rules
            .map(|t| t.required_context.as_slice())
            .unwrap_or_default();
        for key in model
            .required_context
            .iter()
            .chain(&event.required_context)
            .chain(type_context)
        {
            if !context.contains(key) {
                context.push(key.clone());
            }
        }
        Ok(Plan {
            fields,
            context,
            event_type: event.event_type.clone(),
        })
    }
}

/// The text format of a schema file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SchemaFormat {
    /// TOML (`.toml`).
    Toml,
    /// JSON (`.json`).
    Json,
}

/// A schema could not be loaded or compiled.
///
/// Every variant after `Read` names where the problem is: `origin` is the
/// file path (or `<string>` / `<code>`), `line` and `column` are 1-based (0
/// when the schema was built in code).
///
/// ```
/// use eventlog::{Schema, SchemaError, SchemaFormat};
///
/// let text = "[events.order_placed]\nfields.amount = { type = \"money\" }\n";
/// let err = Schema::from_str(text, SchemaFormat::Toml).unwrap_err();
/// assert!(matches!(&err, SchemaError::UnknownType { line: 2, ty, .. } if ty == "money"));
/// assert_eq!(
///     err.to_string(),
///     "<string>:2:26: field `amount` of `order_placed` has unknown type `money`"
/// );
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SchemaError {
    /// The file could not be read.
    #[error("cannot read schema {}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file name ends in neither `.toml` nor `.json`.
    #[error("{}: unknown schema format (expected a .toml or .json file)", .path.display())]
    Format {
        /// The file.
        path: PathBuf,
    },
    /// The text is not valid TOML / JSON, or has an unknown key.
    #[error("{origin}:{line}:{column}: {message}")]
    Syntax {
        /// File or `<string>`.
        origin: String,
        /// Line, 1-based.
        line: usize,
        /// Column, 1-based.
        column: usize,
        /// What the parser said.
        message: String,
    },
    /// A field's type is not one of [`FieldType::ALL`] or `enum`.
    #[error("{origin}:{line}:{column}: field `{field}` of `{event}` has unknown type `{ty}`")]
    UnknownType {
        /// File, `<string>` or `<code>`.
        origin: String,
        /// Line, 1-based.
        line: usize,
        /// Column, 1-based.
        column: usize,
        /// The event.
        event: String,
        /// The field.
        field: String,
        /// The type as written.
        ty: String,
    },
    /// Two events share a name.
    #[error("{origin}:{line}:{column}: event `{event}` is declared twice")]
    DuplicateEvent {
        /// File, `<string>` or `<code>`.
        origin: String,
        /// Line, 1-based.
        line: usize,
        /// Column, 1-based.
        column: usize,
        /// The event.
        event: String,
    },
    /// A field's `pattern` is not a valid regular expression.
    #[error(
        "{origin}:{line}:{column}: pattern of field `{field}` of `{event}` is invalid: {message}"
    )]
    BadPattern {
        /// File, `<string>` or `<code>`.
        origin: String,
        /// Line, 1-based.
        line: usize,
        /// Column, 1-based.
        column: usize,
        /// The event.
        event: String,
        /// The field.
        field: String,
        /// What the regex parser said.
        message: String,
    },
    /// An event name breaks the schema's naming rule.
    #[error("{origin}:{line}:{column}: event name `{event}` is not {rule}")]
    BadName {
        /// File, `<string>` or `<code>`.
        origin: String,
        /// Line, 1-based.
        line: usize,
        /// Column, 1-based.
        column: usize,
        /// The event.
        event: String,
        /// The rule (`object_action`).
        rule: String,
    },
    /// An event's `rate`, `burst`, `sample` or `always_keep` cannot work:
    /// a rate that does not parse or is zero, a zero burst, a burst
    /// without a rate, a probability outside 0 ..= 1, `always_keep` with a
    /// rate or a probability.
    #[error("{origin}:{line}:{column}: limits of `{event}`: {message}")]
    BadLimit {
        /// File, `<string>` or `<code>`.
        origin: String,
        /// Line, 1-based.
        line: usize,
        /// Column, 1-based.
        column: usize,
        /// The event.
        event: String,
        /// What is wrong.
        message: String,
    },
    /// Any other inconsistency (an unknown category, an `enum` without values, …).
    #[error("{origin}:{line}:{column}: {message}")]
    Invalid {
        /// File, `<string>` or `<code>`.
        origin: String,
        /// Line, 1-based.
        line: usize,
        /// Column, 1-based.
        column: usize,
        /// What is wrong.
        message: String,
    },
}

/// Where a model came from, to place errors.
pub(crate) struct Source<'t> {
    origin: String,
    text: Option<&'t str>,
}

impl Source<'_> {
    pub(crate) fn code() -> Source<'static> {
        Source {
            origin: "<code>".to_owned(),
            text: None,
        }
    }

    pub(crate) fn text() -> Source<'static> {
        Source {
            origin: "<string>".to_owned(),
            text: None,
        }
    }

    /// An [`SchemaError::Invalid`] placed at the last of `needles`.
    fn invalid(&self, needles: &[&str], message: String) -> SchemaError {
        let (line, column) = self.locate(needles);
        SchemaError::Invalid {
            origin: self.origin.clone(),
            line,
            column,
            message,
        }
    }

    /// Line and column of the last of `needles`, each searched after the
    /// previous one (event name, then field name, then value).
    fn locate(&self, needles: &[&str]) -> (usize, usize) {
        let Some(text) = self.text else {
            return (0, 0);
        };
        let mut at = 0;
        for needle in needles {
            match text[at..].find(needle) {
                Some(i) => at += i,
                None => break,
            }
        }
        line_col(text, at)
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(before.chars().count(), |nl| {
        before[nl + 1..].chars().count()
    }) + 1;
    (line, column)
}

pub(crate) fn from_file(path: &Path) -> Result<Schema, SchemaError> {
    let format = match path.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("toml") => SchemaFormat::Toml,
        Some(e) if e.eq_ignore_ascii_case("json") => SchemaFormat::Json,
        _ => {
            return Err(SchemaError::Format {
                path: path.to_owned(),
            });
        }
    };
    let text = std::fs::read_to_string(path).map_err(|source| SchemaError::Read {
        path: path.to_owned(),
        source,
    })?;
    let source = Source {
        origin: path.display().to_string(),
        text: None,
    };
    from_text(&text, format, &source)
}

pub(crate) fn from_text(
    text: &str,
    format: SchemaFormat,
    source: &Source<'_>,
) -> Result<Schema, SchemaError> {
    let source = Source {
        origin: source.origin.clone(),
        text: Some(text),
    };
    let syntax = |line, column, message: String| SchemaError::Syntax {
        origin: source.origin.clone(),
        line,
        column,
        message,
    };
    let raw: RawSchema = match format {
        SchemaFormat::Toml => toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map_or((0, 0), |s| line_col(text, s.start));
            syntax(line, column, e.message().to_owned())
        })?,
        SchemaFormat::Json => serde_json::from_str(text).map_err(|e| {
            let message = e.to_string();
            let message = message
                .split(" at line ")
                .next()
                .unwrap_or_default()
                .to_owned();
            syntax(e.line(), e.column(), message)
        })?,
    };
    compile(raw.into_model(&source)?, &source)
}

/// Checks the model and builds the compiled schema.
pub(crate) fn compile(model: SchemaBuilder, source: &Source<'_>) -> Result<Schema, SchemaError> {
    let mut index = rustc_hash::FxHashMap::default();
    let mut plans = Vec::new();
    let invalid = |needles: &[&str], message: String| source.invalid(needles, message);
    for rules in &model.types {
        if EventType::from_name(&rules.event_type).is_none() {
            return Err(invalid(
                &[&rules.event_type],
                format!("unknown event type `{}`", rules.event_type),
            ));
        }
    }
    for (i, event) in model.events.iter().enumerate() {
        let (line, column) = source.locate(&[&event.name]);
        if !model.naming.accepts(&event.name) {
            return Err(SchemaError::BadName {
                origin: source.origin.clone(),
                line,
                column,
                event: event.name.clone(),
                rule: model.naming.name().to_owned(),
            });
        }
        if index.insert(event.name.clone(), i).is_some() {
            // Point at the second declaration.
            let first = source.locate(&[&event.name]);
            let (line, column) = source
                .text
                .and_then(|t| {
                    let start = t.find(&event.name)? + event.name.len();
                    let second = t[start..].find(&event.name)? + start;
                    Some(line_col(t, second))
                })
                .unwrap_or(first);
            return Err(SchemaError::DuplicateEvent {
                origin: source.origin.clone(),
                line,
                column,
                event: event.name.clone(),
            });
        }
        if let Some(t) = &event.event_type
            && EventType::from_name(t).is_none()
        {
            return Err(invalid(
                &[&event.name, t],
                format!("event `{}` has unknown event type `{t}`", event.name),
            ));
        }
        check_limits(event, source)?;
        let type_rules = event
            .event_type
            .as_deref()
            .and_then(|t| model.types.iter().find(|r| r.event_type == t));
        plans.push(Plan::new(event, type_rules, &model, source)?);
    }
    let type_plans = model
        .types
        .iter()
        .map(|rules| {
            let spec = EventSpec::new(format!("<{}>", rules.event_type));
            Plan::new(&spec, Some(rules), &model, source).map(|p| (rules.event_type.clone(), p))
        })
        .collect::<Result<_, _>>()?;
    Ok(Schema(std::sync::Arc::new(Compiled {
        model,
        index,
        plans,
        type_plans,
        counts: Mutex::new(HashMap::new()),
    })))
}

/// Checks one event's limits, placing errors at the key that holds them.
fn check_limits(event: &EventSpec, source: &Source<'_>) -> Result<(), SchemaError> {
    let bad = |key: &str, message: String| {
        let (line, column) = source.locate(&[&event.name, key]);
        SchemaError::BadLimit {
            origin: source.origin.clone(),
            line,
            column,
            event: event.name.clone(),
            message,
        }
    };
    let rule = format!("event `{}`", event.name);
    if let Some(budget) = &event.budget {
        crate::limit::check_budget(&rule, budget).map_err(|e| {
            let key = if budget.rate.interval_ns().is_none() {
                "rate"
            } else {
                "burst"
            };
            bad(key, e.to_string())
        })?;
    }
    if let Some(p) = event.sampling() {
        crate::limit::check_probability(&rule, p).map_err(|e| bad("sample", e.to_string()))?;
    }
    if event.always_keep && (event.budget.is_some() || event.sample_bits.is_some()) {
        return Err(bad(
            "always_keep",
            "`always_keep` cannot go with a `rate` or `sample`".to_owned(),
        ));
    }
    Ok(())
}

/// Compiles one field's pattern, placing errors.
pub(crate) fn compile_pattern(
    event: &str,
    field: &FieldSpec,
    source: &Source<'_>,
) -> Result<Option<regex::Regex>, SchemaError> {
    let Some(pattern) = &field.pattern else {
        return Ok(None);
    };
    regex::Regex::new(pattern).map(Some).map_err(|e| {
        let (line, column) = source.locate(&[event, &field.name, "pattern"]);
        SchemaError::BadPattern {
            origin: source.origin.clone(),
            line,
            column,
            event: event.to_owned(),
            field: field.name.clone(),
            message: e
                .to_string()
                .lines()
                .last()
                .unwrap_or_default()
                .trim()
                .to_owned(),
        }
    })
}

// ---------------------------------------------------------------- raw form

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchema {
    version: Option<u32>,
    naming: Option<String>,
    unknown_events: Option<String>,
    required_context: Option<Vec<String>>,
    types: Option<Entries<RawType>>,
    events: Option<Entries<RawEvent>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawType {
    required_context: Option<Vec<String>>,
    fields: Option<Entries<RawField>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    #[serde(rename = "type")]
    event_type: Option<String>,
    description: Option<String>,
    required_context: Option<Vec<String>>,
    fields: Option<Entries<RawField>>,
    /// `"100/s"`: see [`Rate`].
    rate: Option<String>,
    burst: Option<u64>,
    sample: Option<f64>,
    always_keep: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawField {
    #[serde(rename = "type")]
    ty: String,
    required: Option<bool>,
    #[serde(rename = "enum")]
    one_of: Option<Vec<String>>,
    max_len: Option<usize>,
    prefix: Option<String>,
    pattern: Option<String>,
    description: Option<String>,
}

/// A map kept in file order that refuses duplicate keys (serde maps keep
/// the last silently).
struct Entries<T>(Vec<(String, T)>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Entries<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for EntriesVisitor<T> {
            type Value = Entries<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries<T>, A::Error> {
                let mut out: Vec<(String, T)> = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    if out.iter().any(|(k, _)| *k == key) {
                        return Err(de::Error::custom(format!("`{key}` is declared twice")));
                    }
                    out.push((key, map.next_value()?));
                }
                Ok(Entries(out))
            }
        }
        d.deserialize_map(EntriesVisitor(PhantomData))
    }
}

impl RawSchema {
    fn into_model(self, source: &Source<'_>) -> Result<SchemaBuilder, SchemaError> {
        let mut model = Schema::builder();
        let invalid = |needles: &[&str], message: String| source.invalid(needles, message);
        if let Some(v) = self.version {
            model.version = v;
        }
        if let Some(n) = self.naming {
            model.naming = Naming::from_name(&n).ok_or_else(|| {
                invalid(
                    &["naming"],
                    format!("unknown naming rule `{n}` (object_action or any)"),
                )
            })?;
        }
        if let Some(u) = self.unknown_events {
            model.unknown_events = UnknownEvents::from_name(&u).ok_or_else(|| {
                invalid(
                    &["unknown_events"],
                    format!("unknown_events is `{u}`, expected allow, warn or reject"),
                )
            })?;
        }
        model.required_context = self.required_context.unwrap_or_default();
        for (event_type, raw) in self.types.map(|e| e.0).unwrap_or_default() {
            let fields = raw_fields(&format!("<{event_type}>"), raw.fields, source)?;
            model.types.push(TypeRules {
                event_type,
                fields,
                required_context: raw.required_context.unwrap_or_default(),
            });
        }
        for (name, raw) in self.events.map(|e| e.0).unwrap_or_default() {
            let fields = raw_fields(&name, raw.fields, source)?;
            let budget = raw_budget(&name, raw.rate.as_deref(), raw.burst, source)?;
            model.events.push(EventSpec {
                name,
                event_type: raw.event_type,
                description: raw.description,
                fields,
                required_context: raw.required_context.unwrap_or_default(),
                budget,
                sample_bits: raw.sample.map(f64::to_bits),
                always_keep: raw.always_keep.unwrap_or(false),
            });
        }
        Ok(model)
    }
}

/// An event's `rate` and `burst` as a budget keyed by event name.
fn raw_budget(
    event: &str,
    rate: Option<&str>,
    burst: Option<u64>,
    source: &Source<'_>,
) -> Result<Option<Budget>, SchemaError> {
    let bad = |key: &str, message: String| {
        let (line, column) = source.locate(&[event, key]);
        SchemaError::BadLimit {
            origin: source.origin.clone(),
            line,
            column,
            event: event.to_owned(),
            message,
        }
    };
    let Some(rate) = rate else {
        return match burst {
            Some(_) => Err(bad("burst", "`burst` needs a `rate`".to_owned())),
            None => Ok(None),
        };
    };
    let rate: Rate = rate
        .parse()
        .map_err(|e: crate::LimitError| bad("rate", e.to_string()))?;
    let budget = Budget::new(rate);
    Ok(Some(match burst {
        Some(b) => budget.burst(b),
        None => budget,
    }))
}

fn raw_fields(
    event: &str,
    raw: Option<Entries<RawField>>,
    source: &Source<'_>,
) -> Result<Vec<FieldSpec>, SchemaError> {
    let mut fields = Vec::new();
    for (name, raw) in raw.map(|e| e.0).unwrap_or_default() {
        let ty = match raw.ty.as_str() {
            "enum" => FieldType::String,
            other => FieldType::from_name(other).ok_or_else(|| {
                let (line, column) = source.locate(&[event, &name, &format!("\"{other}\"")]);
                SchemaError::UnknownType {
                    origin: source.origin.clone(),
                    line,
                    column,
                    event: event.to_owned(),
                    field: name.clone(),
                    ty: other.to_owned(),
                }
            })?,
        };
        let one_of = raw.one_of.unwrap_or_default();
        if raw.ty == "enum" && one_of.is_empty() {
            return Err(source.invalid(
                &[event, &name],
                format!("field `{name}` of `{event}` is an enum without values"),
            ));
        }
        fields.push(FieldSpec {
            name,
            ty,
            required: raw.required.unwrap_or(false),
            one_of,
            max_len: raw.max_len,
            prefix: raw.prefix,
            pattern: raw.pattern,
            description: raw.description,
        });
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recommended_file_compiles() {
        let schema = Schema::from_str(RECOMMENDED_TOML, SchemaFormat::Toml).unwrap();
        for t in [
            "user_action",
            "system_event",
            "business",
            "error",
            "security",
        ] {
            assert!(
                schema
                    .events()
                    .iter()
                    .any(|e| e.event_type.as_deref() == Some(t)),
                "no {t} event"
            );
        }
    }

    #[test]
    fn line_and_column_are_one_based() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }
}
