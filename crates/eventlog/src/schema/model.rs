//! The declared model: events, their fields and the rules for names and
//! categories, as built in code or read from a file (before compiling).

use crate::event_type::EventType;
use crate::limit::Budget;
use crate::violation::FieldType;

/// What happens to records of events the schema does not declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UnknownEvents {
    /// Fine: no violation.
    Allow,
    /// Counted and annotated, but never dropped or dead-lettered.
    Warn,
    /// A violation like any other; the layer's [`Policy`](crate::Policy) applies.
    Reject,
}

impl UnknownEvents {
    pub(crate) fn from_name(name: &str) -> Option<Self> {
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
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        match name {
            "object_action" => Some(Self::ObjectAction),
            "any" => Some(Self::Any),
            _ => None,
        }
    }

    pub(crate) const fn name(self) -> &'static str {
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
    /// The event's budget (`rate`, `burst`), keyed by event name unless
    /// the budget says otherwise.
    pub(crate) budget: Option<Budget>,
    /// The sampling probability's bits (`sample`): bits, so the spec stays `Eq`.
    pub(crate) sample_bits: Option<u64>,
    /// `always_keep`: never sampled or limited.
    pub(crate) always_keep: bool,
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
            budget: None,
            sample_bits: None,
            always_keep: false,
        }
    }

    /// A rate limit for this event (the file's `rate = "100/s"` and
    /// `burst`); a layer with this schema applies it, see
    /// [`EventLayer::limits`](crate::EventLayer::limits). A zero rate or
    /// burst is refused when the schema is built.
    ///
    /// ```
    /// use eventlog::{Budget, EventSpec, Rate, Schema};
    ///
    /// let retried = EventSpec::new("payment_retried").rate_limit(Budget::new(Rate::per_second(10)).burst(20));
    /// assert_eq!(retried.budget().map(Budget::burst_size), Some(20));
    /// let zero = EventSpec::new("payment_retried").rate_limit(Budget::new(Rate::per_second(0)));
    /// assert!(Schema::builder().event(zero).build().is_err());
    /// ```
    #[must_use]
    pub fn rate_limit(mut self, budget: Budget) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Keeps each of these events with `probability` (the file's
    /// `sample = 0.1`; NaN or values outside 0 ..= 1 are refused when the
    /// schema is built).
    ///
    /// ```
    /// let spec = eventlog::EventSpec::new("cache_hit").sample(0.01);
    /// assert_eq!(spec.sampling(), Some(0.01));
    /// ```
    #[must_use]
    pub fn sample(mut self, probability: f64) -> Self {
        self.sample_bits = Some(probability.to_bits());
        self
    }

    /// Never samples or limits this event (the file's `always_keep = true`);
    /// refused together with a rate or a sampling probability.
    ///
    /// ```
    /// assert!(eventlog::EventSpec::new("audit_written").always_keep().is_always_kept());
    /// ```
    #[must_use]
    pub fn always_keep(mut self) -> Self {
        self.always_keep = true;
        self
    }

    /// The event's budget, if it has one.
    pub fn budget(&self) -> Option<&Budget> {
        self.budget.as_ref()
    }

    /// The event's sampling probability, if it has one.
    pub fn sampling(&self) -> Option<f64> {
        self.sample_bits.map(f64::from_bits)
    }

    /// Whether the event is never sampled or limited.
    pub fn is_always_kept(&self) -> bool {
        self.always_keep
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

/// Builds a [`Schema`](crate::Schema) in code; [`Schema::from_file`](crate::Schema::from_file) and
/// [`Schema::from_str`](crate::Schema::from_str) fill the same builder from a file.
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
