//! What a schema check reports: a [`Violation`], and the [`FieldType`] a
//! declared field must have (which a `WrongType` violation names).
//!
//! Its own module because both sides use it: a [`Record`](crate::Record)
//! carries its violations, and the schema produces them, so neither
//! imports the other for it.

use std::fmt;

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
    /// Any string (see [`FieldSpec::one_of`](crate::FieldSpec::one_of) for enums).
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

/// One way a record broke the schema.
///
/// Its `Display` is the short message written into `schema_errors`.
///
/// ```
/// use eventlog::Violation;
///
/// let v = Violation::MissingField { field: "result".into() };
/// assert_eq!(v.to_string(), "missing required field `result`");
/// assert_eq!(v.kind(), "missing_field");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Violation {
    /// A required field is absent.
    MissingField {
        /// The field.
        field: String,
    },
    /// A field has the wrong type.
    WrongType {
        /// The field.
        field: String,
        /// The declared type.
        expected: FieldType,
        /// What it was (`string`, `bool`, `integer`, `float`).
        found: &'static str,
    },
    /// A string is not one of the allowed values.
    NotInEnum {
        /// The field.
        field: String,
        /// The value.
        value: String,
        /// The allowed values.
        allowed: Vec<String>,
    },
    /// A string breaks a length, prefix or pattern constraint.
    Constraint {
        /// The field.
        field: String,
        /// Which constraint, as text (`longer than 3 characters`).
        rule: String,
    },
    /// The event name breaks the naming rule.
    BadEventName {
        /// The name.
        name: String,
    },
    /// The event has no name at all.
    MissingEventName,
    /// The event is not declared (and `unknown_events` is not `allow`).
    UnknownEvent {
        /// The name.
        name: String,
    },
    /// A required top-level key (promoted field, deployment context,
    /// `message`) is absent.
    MissingContext {
        /// The key.
        key: String,
    },
    /// The record's `event_type` differs from the declared one.
    WrongEventType {
        /// Declared.
        expected: String,
        /// Found.
        found: String,
    },
}

impl Violation {
    /// A short snake_case name of the kind of violation, used in counts.
    pub fn kind(&self) -> &'static str {
        match self {
            Violation::MissingField { .. } => "missing_field",
            Violation::WrongType { .. } => "wrong_type",
            Violation::NotInEnum { .. } => "not_in_enum",
            Violation::Constraint { .. } => "constraint",
            Violation::BadEventName { .. } => "bad_event_name",
            Violation::MissingEventName => "missing_event_name",
            Violation::UnknownEvent { .. } => "unknown_event",
            Violation::MissingContext { .. } => "missing_context",
            Violation::WrongEventType { .. } => "wrong_event_type",
        }
    }
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::MissingField { field } => write!(f, "missing required field `{field}`"),
            Violation::WrongType {
                field,
                expected,
                found,
            } => write!(f, "field `{field}` should be {expected}, found {found}"),
            Violation::NotInEnum {
                field,
                value,
                allowed,
            } => write!(
                f,
                "field `{field}` is `{value}`, expected one of {}",
                allowed.join(", ")
            ),
            Violation::Constraint { field, rule } => write!(f, "field `{field}` is {rule}"),
            Violation::BadEventName { name } => {
                write!(f, "event name `{name}` is not object_action")
            }
            Violation::MissingEventName => f.write_str("event has no event_name"),
            Violation::UnknownEvent { name } => write!(f, "event `{name}` is not in the schema"),
            Violation::MissingContext { key } => write!(f, "missing required context `{key}`"),
            Violation::WrongEventType { expected, found } => {
                write!(f, "event_type is `{found}`, the schema says `{expected}`")
            }
        }
    }
}
