//! The schema: events declared once, every record checked when it is emitted.
//!
//! ```text
//! Schema::builder() ─┐
//! events.toml ───────┼─> SchemaBuilder::build ─> Schema (compiled: index by name, regexes)
//! events.json ───────┘                              │
//!          EventLayer::on_event: Record ─> check ─> [] ok │ [Violation…] ─> Policy
//! ```
//!
//! A check is a hash lookup of the event name and a few comparisons per
//! declared field; nothing is allocated unless a violation is found.

mod check;
mod json_schema;
mod load;

use std::collections::HashMap;

use rustc_hash::FxHashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

pub use check::Violation;
pub use load::{SchemaError, SchemaFormat};

use crate::{EventType, JsonOutput, Output};

/// The recommended baseline, as shipped in `schemas/recommended.toml`.
pub const RECOMMENDED_TOML: &str = include_str!("../../schemas/recommended.toml");

/// The type a declared field must have.
///
/// ```
/// use eventlog::FieldType;
///
/// assert_eq!(FieldType::from_name("u64"), Some(FieldType::U64));
/// assert_eq!(FieldType::Number.name(), "number");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FieldType {
    /// Any string (see [`FieldSpec::one_of`] for enums).
    String,
    /// `true` / `false`.
    Bool,
    /// A signed integer (unsigned values that fit are accepted).
    I64,
    /// A non-negative integer.
    U64,
    /// A float (integers are accepted).
    F64,
    /// Any number.
    Number,
    /// An RFC 3339 timestamp string (`2026-11-25T08:47:36Z`).
    Timestamp,
}

impl FieldType {
    /// Every type.
    pub const ALL: [FieldType; 7] = [
        FieldType::String,
        FieldType::Bool,
        FieldType::I64,
        FieldType::U64,
        FieldType::F64,
        FieldType::Number,
        FieldType::Timestamp,
    ];

    /// The name used in schema files.
    pub const fn name(self) -> &'static str {
        match self {
            FieldType::String => "string",
            FieldType::Bool => "bool",
            FieldType::I64 => "i64",
            FieldType::U64 => "u64",
            FieldType::F64 => "f64",
            FieldType::Number => "number",
            FieldType::Timestamp => "timestamp",
        }
    }

    /// The type with this name (`enum` is a string with allowed values).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What happens to records of events the schema does not declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UnknownEvents {
    /// Fine: no violation.
    Allow,
    /// Counted and annotated, but never dropped or dead-lettered.
    Warn,
    /// A violation like any other; the layer's [`Policy`] applies.
    Reject,
}

impl UnknownEvents {
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "allow" => Some(Self::Allow),
            "warn" => Some(Self::Warn),
            "reject" => Some(Self::Reject),
            _ => None,
        }
    }
}

/// How event names must look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Naming {
    /// `object_action` snake_case: lowercase ASCII words joined by `_`, at
    /// least two (`user_login_attempt`, `order_placed`).
    ObjectAction,
    /// Any non-empty name.
    Any,
}

impl Naming {
    fn from_name(name: &str) -> Option<Self> {
        match name {
            "object_action" => Some(Self::ObjectAction),
            "any" => Some(Self::Any),
            _ => None,
        }
    }

    const fn name(self) -> &'static str {
        match self {
            Self::ObjectAction => "object_action",
            Self::Any => "any",
        }
    }

    /// Whether `name` follows the rule.
    ///
    /// ```
    /// use eventlog::Naming;
    ///
    /// assert!(Naming::ObjectAction.accepts("user_login_attempt"));
    /// assert!(!Naming::ObjectAction.accepts("UserLogin"));
    /// assert!(!Naming::ObjectAction.accepts("login"));
    /// ```
    pub fn accepts(self, name: &str) -> bool {
        match self {
            Naming::Any => !name.is_empty(),
            Naming::ObjectAction => {
                let mut words = 0;
                for word in name.split('_') {
                    let ok = word.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
                        && word
                            .bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
                    if !ok {
                        return false;
                    }
                    words += 1;
                }
                words >= 2
            }
        }
    }
}

/// One declared field of an event.
///
/// ```
/// use eventlog::{FieldSpec, FieldType};
///
/// let result = FieldSpec::new("result", FieldType::String).required().one_of(["success", "failure"]);
/// assert!(result.is_required());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldSpec {
    pub(crate) name: String,
    pub(crate) ty: FieldType,
    pub(crate) required: bool,
    pub(crate) one_of: Vec<String>,
    pub(crate) max_len: Option<usize>,
    pub(crate) prefix: Option<String>,
    pub(crate) pattern: Option<String>,
    pub(crate) description: Option<String>,
}

impl FieldSpec {
    /// An optional field of type `ty`.
    pub fn new(name: impl Into<String>, ty: FieldType) -> Self {
        Self {
            name: name.into(),
            ty,
            required: false,
            one_of: Vec::new(),
            max_len: None,
            prefix: None,
            pattern: None,
            description: None,
        }
    }

    /// The field must be present.
    #[must_use]
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// The value must be one of these strings.
    #[must_use]
    pub fn one_of<I, S>(mut self, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.one_of = values.into_iter().map(Into::into).collect();
        self
    }

    /// Strings at most this many characters long.
    #[must_use]
    pub fn max_len(mut self, chars: usize) -> Self {
        self.max_len = Some(chars);
        self
    }

    /// Strings starting with `prefix` (`ord_`).
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = Some(prefix.into());
        self
    }

    /// Strings matching a regular expression (checked when the schema is built).
    #[must_use]
    pub fn pattern(mut self, regex: impl Into<String>) -> Self {
        self.pattern = Some(regex.into());
        self
    }

    /// A description for readers and for the exported JSON Schema.
    #[must_use]
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// The field's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The field's type.
    pub fn field_type(&self) -> FieldType {
        self.ty
    }

    /// Whether the field must be present.
    pub fn is_required(&self) -> bool {
        self.required
    }
}

/// One declared event: its name, category, fields and required context.
///
/// ```
/// use eventlog::{EventSpec, EventType, FieldSpec, FieldType};
///
/// let login = EventSpec::new("user_login_attempt")
///     .event_type(EventType::USER_ACTION)
///     .field(FieldSpec::new("result", FieldType::String).required().one_of(["success", "failure"]))
///     .field(FieldSpec::new("attempt_count", FieldType::U64))
///     .require_context("user_id");
/// assert_eq!(login.name(), "user_login_attempt");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSpec {
    pub(crate) name: String,
    pub(crate) event_type: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) fields: Vec<FieldSpec>,
    pub(crate) required_context: Vec<String>,
}

impl EventSpec {
    /// An event with no declared fields.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            event_type: None,
            description: None,
            fields: Vec::new(),
            required_context: Vec::new(),
        }
    }

    /// The event's category; records that do not say get it.
    #[must_use]
    pub fn event_type(mut self, event_type: EventType) -> Self {
        self.event_type = Some(event_type.as_str().to_owned());
        self
    }

    /// A description for readers and for the exported JSON Schema.
    #[must_use]
    pub fn description(mut self, text: impl Into<String>) -> Self {
        self.description = Some(text.into());
        self
    }

    /// Declares a field.
    #[must_use]
    pub fn field(mut self, field: FieldSpec) -> Self {
        self.fields.push(field);
        self
    }

    /// Requires a top-level key: a promoted field (`user_id`), deployment
    /// context (`service`, `environment`, …) or `message`.
    #[must_use]
    pub fn require_context(mut self, key: impl Into<String>) -> Self {
        self.required_context.push(key.into());
        self
    }

    /// The event's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The declared fields.
    pub fn fields(&self) -> &[FieldSpec] {
        &self.fields
    }
}

/// Rules for every event of one category (`error` events need `error_type`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TypeRules {
    pub(crate) event_type: String,
    pub(crate) fields: Vec<FieldSpec>,
    pub(crate) required_context: Vec<String>,
}

/// Builds a [`Schema`] in code; [`Schema::from_file`] and
/// [`Schema::from_str`] fill the same builder from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct SchemaBuilder {
    pub(crate) version: u32,
    pub(crate) naming: Naming,
    pub(crate) unknown_events: UnknownEvents,
    pub(crate) required_context: Vec<String>,
    pub(crate) types: Vec<TypeRules>,
    pub(crate) events: Vec<EventSpec>,
}

impl SchemaBuilder {
    /// The schema's version, written as `schema_version` on every record.
    pub fn version(mut self, version: u32) -> Self {
        self.version = version;
        self
    }

    /// The naming rule for event names.
    pub fn naming(mut self, naming: Naming) -> Self {
        self.naming = naming;
        self
    }

    /// What to do with undeclared events.
    pub fn unknown_events(mut self, unknown: UnknownEvents) -> Self {
        self.unknown_events = unknown;
        self
    }

    /// Requires a top-level key on every record (`service`, `environment`).
    pub fn require_context(mut self, key: impl Into<String>) -> Self {
        self.required_context.push(key.into());
        self
    }

    /// Declares a field every event of `event_type` must carry.
    pub fn type_field(mut self, event_type: EventType, field: FieldSpec) -> Self {
        self.type_rules(event_type).fields.push(field);
        self
    }

    /// Requires a top-level key on every event of `event_type`.
    pub fn type_context(mut self, event_type: EventType, key: impl Into<String>) -> Self {
        self.type_rules(event_type)
            .required_context
            .push(key.into());
        self
    }

    fn type_rules(&mut self, event_type: EventType) -> &mut TypeRules {
        let name = event_type.as_str();
        let i = if let Some(i) = self.types.iter().position(|t| t.event_type == name) {
            i
        } else {
            self.types.push(TypeRules {
                event_type: name.to_owned(),
                fields: Vec::new(),
                required_context: Vec::new(),
            });
            self.types.len() - 1
        };
        &mut self.types[i]
    }

    /// Declares an event.
    pub fn event(mut self, event: EventSpec) -> Self {
        self.events.push(event);
        self
    }

    /// Checks and compiles the schema.
    pub fn build(self) -> Result<Schema, SchemaError> {
        load::compile(self, &load::Source::code())
    }
}

/// A compiled schema; see the module docs and [`Schema::builder`].
///
/// Cheap to clone (one `Arc`); clones share violation counts.
///
/// ```
/// use eventlog::{EventSpec, EventType, FieldSpec, FieldType, Schema};
///
/// let schema = Schema::builder()
///     .version(3)
///     .event(
///         EventSpec::new("order_placed")
///             .event_type(EventType::BUSINESS)
///             .field(FieldSpec::new("amount", FieldType::F64).required())
///             .field(FieldSpec::new("currency", FieldType::String).required().pattern("^[A-Z]{3}$")),
///     )
///     .build()?;
/// assert_eq!(schema.version(), 3);
/// assert!(schema.event("order_placed").is_some());
/// # Ok::<(), eventlog::SchemaError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Schema(pub(crate) Arc<Compiled>);

#[derive(Debug)]
pub(crate) struct Compiled {
    pub(crate) model: SchemaBuilder,
    /// Event index by name. FxHash: the keys are the schema's own event
    /// names (not attacker-chosen), and SipHash cost a third of a check.
    pub(crate) index: FxHashMap<String, usize>,
    /// Per event: its own fields followed by its type's fields, with
    /// compiled patterns, and the required context of both.
    pub(crate) plans: Vec<check::Plan>,
    /// Plans for undeclared events, by category.
    pub(crate) type_plans: Vec<(String, check::Plan)>,
    pub(crate) counts: Mutex<HashMap<(String, &'static str), u64>>,
}

impl Schema {
    /// A builder with version 1, `object_action` naming, unknown events
    /// allowed, and nothing declared.
    pub fn builder() -> SchemaBuilder {
        SchemaBuilder {
            version: 1,
            naming: Naming::ObjectAction,
            unknown_events: UnknownEvents::Allow,
            required_context: Vec::new(),
            types: Vec::new(),
            events: Vec::new(),
        }
    }

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

    fn empty() -> Schema {
        Schema(Arc::new(Compiled {
            model: Self::builder(),
            index: FxHashMap::default(),
            plans: Vec::new(),
            type_plans: Vec::new(),
            counts: Mutex::new(HashMap::new()),
        }))
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
        load::from_file(path.as_ref())
    }

    /// Parses a schema from text in the given format.
    #[allow(clippy::should_implement_trait)] // It takes a format too.
    pub fn from_str(text: &str, format: SchemaFormat) -> Result<Schema, SchemaError> {
        load::from_text(text, format, &load::Source::text())
    }

    /// The schema's version.
    pub fn version(&self) -> u32 {
        self.0.model.version
    }

    /// What the schema does with undeclared events.
    ///
    /// ```
    /// use eventlog::{Schema, UnknownEvents};
    ///
    /// let schema = Schema::builder().unknown_events(UnknownEvents::Reject).build()?;
    /// assert_eq!(schema.unknown_events(), UnknownEvents::Reject);
    /// # Ok::<(), eventlog::SchemaError>(())
    /// ```
    pub fn unknown_events(&self) -> UnknownEvents {
        self.0.model.unknown_events
    }

    /// The declared event named `name`.
    pub fn event(&self, name: &str) -> Option<&EventSpec> {
        self.0.index.get(name).map(|&i| &self.0.model.events[i])
    }

    /// Every declared event.
    pub fn events(&self) -> &[EventSpec] {
        &self.0.model.events
    }

    /// The model this schema was compiled from (for comparisons and export).
    pub fn to_builder(&self) -> SchemaBuilder {
        self.0.model.clone()
    }

    /// Violations so far, as `(event name, kind, count)`, sorted.
    pub fn violation_counts(&self) -> Vec<(String, &'static str, u64)> {
        let counts = self.0.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out: Vec<_> = counts
            .iter()
            .map(|((event, kind), n)| (event.clone(), *kind, *n))
            .collect();
        out.sort();
        out
    }

    pub(crate) fn count(&self, event: &str, violations: &[Violation]) {
        let mut counts = self.0.counts.lock().unwrap_or_else(PoisonError::into_inner);
        for v in violations {
            *counts.entry((event.to_owned(), v.kind())).or_insert(0) += 1;
        }
    }
}

/// What a record that breaks the schema does.
///
/// ```
/// use eventlog::Policy;
///
/// let capture = eventlog::testing::Capture::new();
/// let layer = eventlog::layer()
///     .schema(eventlog::Schema::recommended())
///     .schema_policy(Policy::dead_letter(capture.clone()));
/// # let _ = layer;
/// ```
#[non_exhaustive]
pub enum Policy {
    /// Written with a `schema_errors` array (the default).
    Annotate,
    /// Written, with `schema_errors`, to this output only.
    DeadLetter(Box<dyn Output>),
    /// Not written; counted as dropped with [`DropReason::Policy`](crate::DropReason::Policy).
    Drop,
    /// Panics with the violations: for tests, never in production.
    Panic,
}

impl Policy {
    /// Dead-letters to a JSON writer (a file, a capture, …).
    pub fn dead_letter<M>(make_writer: M) -> Self
    where
        M: for<'w> tracing_subscriber::fmt::MakeWriter<'w> + Send + Sync + 'static,
    {
        Policy::DeadLetter(Box::new(JsonOutput::new(make_writer)))
    }
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Policy::Annotate => "Annotate",
            Policy::DeadLetter(_) => "DeadLetter(..)",
            Policy::Drop => "Drop",
            Policy::Panic => "Panic",
        })
    }
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
    fn naming_rule() {
        for good in ["order_placed", "user_login_attempt", "job2_done"] {
            assert!(Naming::ObjectAction.accepts(good), "{good}");
        }
        for bad in [
            "",
            "order",
            "Order_placed",
            "order__placed",
            "_order",
            "order-placed",
            "2fa_done",
        ] {
            assert!(!Naming::ObjectAction.accepts(bad), "{bad}");
        }
    }
}
