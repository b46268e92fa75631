//! Records read back: one JSON line parsed into an owned [`ParsedRecord`],
//! the keys an [`Envelope`] renamed moved back under their default names.
//!
//! ```text
//!  one line ─ ParsedRecord::parse ──────────────▶ ParsedRecord ─ typed accessors
//!           ─ ParsedRecord::parse_with(envelope) ─┘   ▲           (level, trace_id, …)
//!           ─ ParsedRecord::parse_renamed(renames) ───┘
//!                         KeyRenames: from an Envelope, or built by hand (`--key`)
//! ```
//!
//! The counterpart of [`Record`](crate::Record): a `Record` is the borrowed
//! view an output receives while the event happens; a `ParsedRecord` is
//! what a reader gets from the line the output wrote. Nothing here trusts
//! the line: any text is a record or a [`ParseError`], never a panic.

#![deny(clippy::indexing_slicing, clippy::string_slice)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::envelope::{DEFAULT_PROMOTED, Envelope, Key};
use crate::event_type::EventType;
use crate::trace::{SpanId, TraceId};

/// Why a line is not a record.
///
/// ```
/// use eventlog::{ParseError, ParsedRecord};
///
/// let err = ParsedRecord::parse("{\"level\": }").unwrap_err();
/// assert!(matches!(err, ParseError::NotJson { line: 1, column: 11, .. }));
/// assert_eq!(err.to_string(), "not JSON: expected value at line 1 column 11");
/// let err = ParsedRecord::parse("[1, 2]").unwrap_err();
/// assert_eq!(err, ParseError::NotAnObject { found: "an array" });
/// assert_eq!(err.to_string(), "not a JSON object: an array");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The text is not JSON (or is cut short).
    #[error("not JSON: {reason} at line {line} column {column}")]
    NotJson {
        /// What the JSON parser expected, as it says it.
        reason: String,
        /// 1-based line of the text where parsing failed (1 for a single line).
        line: usize,
        /// 1-based column (in bytes) where parsing failed.
        column: usize,
    },
    /// The text is JSON, but not an object.
    #[error("not a JSON object: {found}")]
    NotAnObject {
        /// What it is instead: `null`, `a boolean`, `a number`, `a string`, `an array`.
        found: &'static str,
    },
}

impl ParseError {
    fn from_json(e: &serde_json::Error) -> Self {
        let text = e.to_string();
        let position = format!(" at line {} column {}", e.line(), e.column());
        ParseError::NotJson {
            reason: text.strip_suffix(&position).unwrap_or(&text).to_owned(),
            line: e.line(),
            column: e.column(),
        }
    }
}

/// What a JSON value is, as an error message says it.
fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The names under which a file holds envelope keys, for reading it back:
/// each entry maps a key as written to the default name the accessors of
/// [`ParsedRecord`] use.
///
/// Made from the [`Envelope`] that wrote the file
/// ([`KeyRenames::from_envelope`]) or built by hand when only the names
/// are known (the `eventlog` command's `--key NAME=KEY`).
///
/// ```
/// use eventlog::{Key, KeyRenames, ParsedRecord};
///
/// let renames = KeyRenames::new()
///     .rename(Key::Timestamp, "@timestamp")
///     .rename_promoted("request_id", "req");
/// let record = ParsedRecord::parse_renamed(
///     r#"{"@timestamp":"2026-11-25T08:47:36.123456Z","req":"r-1"}"#,
///     &renames,
/// )?;
/// assert_eq!(record.keys(), ["timestamp", "request_id"]);
/// assert_eq!(record.request_id(), Some("r-1"));
/// assert!(KeyRenames::new().is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyRenames {
    /// `(default name, name as written)`, only where the two differ.
    pairs: Vec<(String, String)>,
}

impl KeyRenames {
    /// No renames: the default names.
    ///
    /// ```
    /// assert_eq!(eventlog::KeyRenames::new(), eventlog::KeyRenames::default());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Every rename `envelope` makes: its renamed keys
    /// ([`EnvelopeBuilder::rename`](crate::EnvelopeBuilder::rename)) and
    /// the fields it promotes under another name
    /// ([`EnvelopeBuilder::promote_as`](crate::EnvelopeBuilder::promote_as)).
    ///
    /// ```
    /// use eventlog::{Envelope, Key, KeyRenames};
    ///
    /// let envelope = Envelope::builder()
    ///     .rename(Key::Level, "severity")
    ///     .promote_as("tenant_id", "tenant")
    ///     .build()?;
    /// let by_hand = KeyRenames::new()
    ///     .rename(Key::Level, "severity")
    ///     .rename_promoted("tenant_id", "tenant");
    /// assert_eq!(KeyRenames::from_envelope(&envelope), by_hand);
    /// assert!(KeyRenames::from_envelope(&Envelope::default()).is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_envelope(envelope: &Envelope) -> Self {
        // Keys the envelope does not write (`file` and `line` by default)
        // have no name in the file: another key may be renamed to theirs.
        let keys = Key::ALL
            .iter()
            .filter(|&&k| envelope.writes(k))
            .map(|&k| (k.default_name(), envelope.key_name(k)));
        let promoted = envelope
            .promoted
            .iter()
            .map(|p| (p.field.as_str(), p.key.as_str()));
        keys.chain(promoted)
            .fold(KeyRenames::new(), |r, (name, key)| r.push(name, key))
    }

    /// The file writes envelope key `key` as `name`.
    ///
    /// ```
    /// use eventlog::{Key, KeyRenames};
    ///
    /// let renames = KeyRenames::new().rename(Key::Level, "severity");
    /// assert_eq!(renames.written_as("level"), Some("severity"));
    /// assert_eq!(renames.written_as("message"), None);
    /// ```
    #[must_use]
    pub fn rename(self, key: Key, name: impl Into<String>) -> Self {
        self.push(key.default_name(), name)
    }

    /// The file writes the promoted span field `field` (such as
    /// `request_id`, one of [`DEFAULT_PROMOTED`]) as top-level key `name`.
    ///
    /// ```
    /// use eventlog::KeyRenames;
    ///
    /// let renames = KeyRenames::new().rename_promoted("user_id", "uid");
    /// assert_eq!(renames.written_as("user_id"), Some("uid"));
    /// ```
    #[must_use]
    pub fn rename_promoted(self, field: impl Into<String>, name: impl Into<String>) -> Self {
        self.push(field, name)
    }

    fn push(mut self, default: impl Into<String>, written: impl Into<String>) -> Self {
        let (default, written) = (default.into(), written.into());
        if default != written {
            self.pairs.retain(|(d, _)| *d != default);
            self.pairs.push((default, written));
        }
        self
    }

    /// Whether nothing is renamed.
    ///
    /// ```
    /// use eventlog::{Key, KeyRenames};
    ///
    /// assert!(KeyRenames::new().is_empty());
    /// assert!(KeyRenames::new().rename(Key::Span, "span").is_empty());
    /// assert!(!KeyRenames::new().rename(Key::Span, "scope").is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// The name the file gives to the key or promoted field whose default
    /// name is `default`, if it is renamed.
    ///
    /// ```
    /// use eventlog::{Key, KeyRenames};
    ///
    /// let renames = KeyRenames::new().rename(Key::Timestamp, "@timestamp");
    /// assert_eq!(renames.written_as("timestamp"), Some("@timestamp"));
    /// assert_eq!(renames.written_as("level"), None);
    /// ```
    pub fn written_as(&self, default: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(d, _)| d == default)
            .map(|(_, w)| w.as_str())
    }

    /// The default name of a key as written, if it is a renamed one.
    fn default_of(&self, written: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(_, w)| w == written)
            .map(|(d, _)| d.as_str())
    }

    /// Moves every renamed key of `map` back under its default name, in
    /// place: the keys keep their order. A key already holding a default
    /// name that a renamed key takes back (a static field named `level`
    /// beside a level renamed to `severity`) is replaced.
    fn apply(&self, map: Map<String, Value>) -> Map<String, Value> {
        if !self.pairs.iter().any(|(_, w)| map.contains_key(w)) {
            return map;
        }
        let mut out = Map::with_capacity(map.len());
        for (key, value) in map {
            match self.default_of(&key) {
                Some(default) => {
                    out.insert(default.to_owned(), value);
                }
                None if out.contains_key(&key) => {}
                None => {
                    out.insert(key, value);
                }
            }
        }
        out
    }
}

/// One record read back from a JSON line, owned, with typed accessors.
///
/// Keys are looked up under their default names ([`Key::default_name`],
/// [`DEFAULT_PROMOTED`]); for a file written through a renamed
/// [`Envelope`], parse with [`ParsedRecord::parse_with`] (or
/// [`ParsedRecord::parse_renamed`]) so the renamed keys are moved back
/// first. The JSON form is the table on [`Record`](crate::Record).
///
/// ```
/// use eventlog::{EventType, ParsedRecord, TraceId};
///
/// let line = r#"{"timestamp":"2026-11-25T08:47:36.123456Z","level":"WARN","event_name":"payment_failed","event_type":"error","service":"checkout","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","request_id":"req-42","metadata":{"error_type":"card_declined"}}"#;
/// let record = ParsedRecord::parse(line)?;
/// assert_eq!(record.level(), Some(tracing::Level::WARN));
/// assert_eq!(record.event_name(), Some("payment_failed"));
/// assert_eq!(record.known_event_type(), Some(EventType::ERROR));
/// assert_eq!(record.service(), Some("checkout"));
/// assert_eq!(record.trace_id(), Some("4bf92f3577b34da6a3ce929d0e0e4736".parse::<TraceId>()?));
/// assert_eq!(record.request_id(), Some("req-42"));
/// assert_eq!(record.metadata("error_type").unwrap(), "card_declined");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ParsedRecord(Map<String, Value>);

impl ParsedRecord {
    /// Parses one line (its line end may be left on) written with the
    /// default key names.
    ///
    /// ```
    /// use eventlog::ParsedRecord;
    ///
    /// let record = ParsedRecord::parse("{\"event_name\":\"order_placed\"}\n")?;
    /// assert_eq!(record.event_name(), Some("order_placed"));
    /// assert!(ParsedRecord::parse("order placed").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse(line: &str) -> Result<ParsedRecord, ParseError> {
        match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(map)) => Ok(ParsedRecord(map)),
            Ok(other) => Err(ParseError::NotAnObject {
                found: kind_of(&other),
            }),
            Err(e) => Err(ParseError::from_json(&e)),
        }
    }

    /// Parses one line written through `envelope`: the keys it renamed and
    /// the fields it promoted under another name are moved back under their
    /// default names, so the accessors find them.
    ///
    /// ```
    /// use eventlog::{Envelope, Key, ParsedRecord};
    ///
    /// let envelope = Envelope::builder()
    ///     .rename(Key::Timestamp, "@timestamp")
    ///     .rename(Key::Level, "severity")
    ///     .promote_as("request_id", "req")
    ///     .build()?;
    /// let line = r#"{"@timestamp":"2026-11-25T08:47:36.123456Z","severity":"INFO","req":"r-1"}"#;
    /// let record = ParsedRecord::parse_with(line, &envelope)?;
    /// assert_eq!(record.level(), Some(tracing::Level::INFO));
    /// assert_eq!(record.request_id(), Some("r-1"));
    /// assert_eq!(record.keys(), ["timestamp", "level", "request_id"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse_with(line: &str, envelope: &Envelope) -> Result<ParsedRecord, ParseError> {
        Self::parse_renamed(line, &KeyRenames::from_envelope(envelope))
    }

    /// Parses one line whose keys `renames` names; see [`KeyRenames`].
    ///
    /// ```
    /// use eventlog::{Key, KeyRenames, ParsedRecord};
    ///
    /// let renames = KeyRenames::new().rename(Key::Message, "msg");
    /// let record = ParsedRecord::parse_renamed(r#"{"msg":"order placed"}"#, &renames)?;
    /// assert_eq!(record.message(), Some("order placed"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse_renamed(line: &str, renames: &KeyRenames) -> Result<ParsedRecord, ParseError> {
        let ParsedRecord(map) = Self::parse(line)?;
        Ok(ParsedRecord(renames.apply(map)))
    }

    /// A top-level key (`"trace_id"`, `"request_id"`, a static field, …).
    ///
    /// ```
    /// let record = eventlog::ParsedRecord::parse(r#"{"team":"payments","items":2}"#)?;
    /// assert_eq!(record.get("items"), Some(&serde_json::json!(2)));
    /// assert_eq!(record.get("nope"), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// A top-level key holding a string.
    ///
    /// ```
    /// let record = eventlog::ParsedRecord::parse(r#"{"team":"payments","items":2}"#)?;
    /// assert_eq!(record.str("team"), Some("payments"));
    /// assert_eq!(record.str("items"), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn str(&self, key: &str) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }

    fn key(&self, key: Key) -> Option<&str> {
        self.str(key.default_name())
    }

    /// The `timestamp` as written (RFC 3339).
    ///
    /// ```
    /// let record = eventlog::ParsedRecord::parse(r#"{"timestamp":"2026-11-25T08:47:36.123456Z"}"#)?;
    /// assert_eq!(record.timestamp_str(), Some("2026-11-25T08:47:36.123456Z"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn timestamp_str(&self) -> Option<&str> {
        self.key(Key::Timestamp)
    }

    /// The `timestamp` as a time: RFC 3339 (`T` or a space between date
    /// and time, any fraction up to nanoseconds, `Z` or an offset); `None`
    /// when absent or not such a time.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    ///
    /// let record = eventlog::ParsedRecord::parse(r#"{"timestamp":"2026-11-25T08:47:36.123456Z"}"#)?;
    /// let t = UNIX_EPOCH + Duration::from_micros(1_795_596_456_123_456);
    /// assert_eq!(record.timestamp(), Some(t));
    /// let record = eventlog::ParsedRecord::parse(r#"{"timestamp":"2026-11-25T09:47:36.123456+01:00"}"#)?;
    /// assert_eq!(record.timestamp(), Some(t));
    /// assert_eq!(eventlog::ParsedRecord::parse(r#"{"timestamp":"yesterday"}"#)?.timestamp(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn timestamp(&self) -> Option<SystemTime> {
        parse_rfc3339(self.timestamp_str()?)
    }

    /// The `level` (`TRACE` … `ERROR`, in any case).
    ///
    /// ```
    /// let record = eventlog::ParsedRecord::parse(r#"{"level":"ERROR"}"#)?;
    /// assert_eq!(record.level(), Some(tracing::Level::ERROR));
    /// assert_eq!(eventlog::ParsedRecord::parse(r#"{"level":"LOUD"}"#)?.level(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn level(&self) -> Option<tracing::Level> {
        let text = self.key(Key::Level)?;
        [
            tracing::Level::TRACE,
            tracing::Level::DEBUG,
            tracing::Level::INFO,
            tracing::Level::WARN,
            tracing::Level::ERROR,
        ]
        .into_iter()
        .find(|l| l.as_str().eq_ignore_ascii_case(text))
    }

    /// The `event_name`.
    ///
    /// ```
    /// let record = eventlog::ParsedRecord::parse(r#"{"event_name":"order_placed"}"#)?;
    /// assert_eq!(record.event_name(), Some("order_placed"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn event_name(&self) -> Option<&str> {
        self.key(Key::EventName)
    }

    /// The `event_type` as written.
    ///
    /// ```
    /// let record = eventlog::ParsedRecord::parse(r#"{"event_type":"audit"}"#)?;
    /// assert_eq!(record.event_type(), Some("audit"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn event_type(&self) -> Option<&str> {
        self.key(Key::EventType)
    }

    /// The `event_type`, if it is one of [`EventType::ALL`].
    ///
    /// ```
    /// use eventlog::{EventType, ParsedRecord};
    ///
    /// assert_eq!(ParsedRecord::parse(r#"{"event_type":"security"}"#)?.known_event_type(), Some(EventType::SECURITY));
    /// assert_eq!(ParsedRecord::parse(r#"{"event_type":"audit"}"#)?.known_event_type(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn known_event_type(&self) -> Option<EventType> {
        EventType::from_name(self.event_type()?)
    }

    /// The `message`.
    ///
    /// ```
    /// let record = eventlog::ParsedRecord::parse(r#"{"message":"order placed"}"#)?;
    /// assert_eq!(record.message(), Some("order placed"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn message(&self) -> Option<&str> {
        self.key(Key::Message)
    }

    /// The `service` of the deployment context.
    ///
    /// ```
    /// let record = eventlog::ParsedRecord::parse(r#"{"service":"checkout"}"#)?;
    /// assert_eq!(record.service(), Some("checkout"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn service(&self) -> Option<&str> {
        self.key(Key::Service)
    }

    /// The `environment` of the deployment context.
    ///
    /// ```
    /// let record = eventlog::ParsedRecord::parse(r#"{"environment":"prod"}"#)?;
    /// assert_eq!(record.environment(), Some("prod"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn environment(&self) -> Option<&str> {
        self.key(Key::Environment)
    }

    /// The `region` of the deployment context.
    ///
    /// ```
    /// let record = eventlog::ParsedRecord::parse(r#"{"region":"eu-west-1"}"#)?;
    /// assert_eq!(record.region(), Some("eu-west-1"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn region(&self) -> Option<&str> {
        self.key(Key::Region)
    }

    /// The `version` of the deployment context (not `schema_version`).
    ///
    /// ```
    /// let record = eventlog::ParsedRecord::parse(r#"{"version":"1.4.2","schema_version":3}"#)?;
    /// assert_eq!(record.version(), Some("1.4.2"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn version(&self) -> Option<&str> {
        self.key(Key::Version)
    }

    /// The `host` of the deployment context.
    ///
    /// ```
    /// let record = eventlog::ParsedRecord::parse(r#"{"host":"web-1"}"#)?;
    /// assert_eq!(record.host(), Some("web-1"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn host(&self) -> Option<&str> {
        self.key(Key::Host)
    }

    /// The `trace_id`, if it is a valid W3C trace id.
    ///
    /// ```
    /// use eventlog::{ParsedRecord, TraceId};
    ///
    /// let record = ParsedRecord::parse(r#"{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}"#)?;
    /// assert_eq!(record.trace_id().map(|t| t.to_string()).as_deref(), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
    /// assert_eq!(ParsedRecord::parse(r#"{"trace_id":"nope"}"#)?.trace_id(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn trace_id(&self) -> Option<TraceId> {
        self.key(Key::TraceId)?.parse().ok()
    }

    /// The `span_id`, if it is a valid W3C span id.
    ///
    /// ```
    /// use eventlog::{ParsedRecord, SpanId};
    ///
    /// let record = ParsedRecord::parse(r#"{"span_id":"00f067aa0ba902b7"}"#)?;
    /// assert_eq!(record.span_id(), Some("00f067aa0ba902b7".parse::<SpanId>()?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn span_id(&self) -> Option<SpanId> {
        self.key(Key::SpanId)?.parse().ok()
    }

    fn promoted(&self, index: usize) -> Option<&str> {
        self.str(DEFAULT_PROMOTED.get(index)?)
    }

    /// The promoted `correlation_id`.
    ///
    /// ```
    /// let record = eventlog::ParsedRecord::parse(r#"{"correlation_id":"c-1"}"#)?;
    /// assert_eq!(record.correlation_id(), Some("c-1"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn correlation_id(&self) -> Option<&str> {
        self.promoted(0)
    }

    /// The promoted `request_id`.
    ///
    /// ```
    /// let record = eventlog::ParsedRecord::parse(r#"{"request_id":"req-42"}"#)?;
    /// assert_eq!(record.request_id(), Some("req-42"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn request_id(&self) -> Option<&str> {
        self.promoted(1)
    }

    /// The promoted `user_id`.
    ///
    /// ```
    /// let record = eventlog::ParsedRecord::parse(r#"{"user_id":"u-7"}"#)?;
    /// assert_eq!(record.user_id(), Some("u-7"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn user_id(&self) -> Option<&str> {
        self.promoted(2)
    }

    /// The promoted `session_id`.
    ///
    /// ```
    /// let record = eventlog::ParsedRecord::parse(r#"{"session_id":"s-9"}"#)?;
    /// assert_eq!(record.session_id(), Some("s-9"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn session_id(&self) -> Option<&str> {
        self.promoted(3)
    }

    /// One of the event's own fields (inside `metadata`).
    ///
    /// ```
    /// let record = eventlog::ParsedRecord::parse(r#"{"metadata":{"amount":72.49}}"#)?;
    /// assert_eq!(record.metadata("amount").unwrap(), 72.49);
    /// assert_eq!(record.metadata("currency"), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn metadata(&self, field: &str) -> Option<&Value> {
        self.get(Key::Metadata.default_name())
            .and_then(|m| m.get(field))
    }

    /// The name of the current span (`span.name`).
    ///
    /// ```
    /// let record = eventlog::ParsedRecord::parse(r#"{"span":{"name":"checkout","fields":{}}}"#)?;
    /// assert_eq!(record.span_name(), Some("checkout"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn span_name(&self) -> Option<&str> {
        self.get(Key::Span.default_name())
            .and_then(|s| s.get("name"))
            .and_then(Value::as_str)
    }

    /// One of the current span's fields (inside `span.fields`).
    ///
    /// ```
    /// let record = eventlog::ParsedRecord::parse(r#"{"span":{"name":"cart","fields":{"items":3}}}"#)?;
    /// assert_eq!(record.span_field("items").unwrap(), 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn span_field(&self, field: &str) -> Option<&Value> {
        self.get(Key::Span.default_name())
            .and_then(|s| s.get("fields"))
            .and_then(|f| f.get(field))
    }

    /// The `duration_ms` of a span-close record.
    ///
    /// ```
    /// let record = eventlog::ParsedRecord::parse(r#"{"duration_ms":12.5}"#)?;
    /// assert_eq!(record.duration_ms(), Some(12.5));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn duration_ms(&self) -> Option<f64> {
        self.get(Key::DurationMs.default_name())
            .and_then(Value::as_f64)
    }

    /// The messages under `schema_errors` (empty when the record passed
    /// its schema or was not checked).
    ///
    /// ```
    /// let record = eventlog::ParsedRecord::parse(r#"{"schema_errors":["missing field `amount`"]}"#)?;
    /// assert_eq!(record.schema_errors(), ["missing field `amount`"]);
    /// assert!(eventlog::ParsedRecord::parse("{}")?.schema_errors().is_empty());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn schema_errors(&self) -> Vec<&str> {
        self.get(Key::SchemaErrors.default_name())
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    /// The keys in the order they were written.
    ///
    /// ```
    /// let record = eventlog::ParsedRecord::parse(r#"{"timestamp":"t","level":"INFO"}"#)?;
    /// assert_eq!(record.keys(), ["timestamp", "level"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn keys(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }

    /// The whole record.
    ///
    /// ```
    /// let record = eventlog::ParsedRecord::parse(r#"{"level":"INFO"}"#)?;
    /// assert_eq!(record.as_map().len(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// The whole record, owned.
    ///
    /// ```
    /// let record = eventlog::ParsedRecord::parse(r#"{"level":"INFO"}"#)?;
    /// assert_eq!(serde_json::Value::Object(record.into_map()), serde_json::json!({"level": "INFO"}));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn into_map(self) -> Map<String, Value> {
        self.0
    }
}

impl From<ParsedRecord> for Value {
    fn from(record: ParsedRecord) -> Value {
        Value::Object(record.0)
    }
}

/// The envelope's own timestamp form, `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z`
/// (what the layer writes), as seconds and nanoseconds since the Unix
/// epoch, every field checked to be in range; `None` for any other form
/// (an offset, a leap second, a space for the `T`), which a reader hands
/// to a general RFC 3339 parser. No allocation: the readers call it once
/// per line (the `eventlog` command's query engine, the appender's block
/// index).
///
/// ```
/// assert_eq!(eventlog::parse_envelope_timestamp("1970-01-01T00:00:01.5Z"), Some((1, 500_000_000)));
/// assert_eq!(eventlog::parse_envelope_timestamp("2024-02-29T23:59:59Z"), Some((1_709_251_199, 0)));
/// assert_eq!(eventlog::parse_envelope_timestamp("2023-02-29T00:00:00Z"), None);
/// assert_eq!(eventlog::parse_envelope_timestamp("2024-01-01T00:00:00+01:00"), None);
/// ```
pub fn parse_envelope_timestamp(text: &str) -> Option<(i64, u32)> {
    let b = text.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        b.get(from..from + len)?.iter().try_fold(0i64, |n, &c| {
            c.is_ascii_digit().then(|| n * 10 + i64::from(c - b'0'))
        })
    };
    if b.len() < 20
        || b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || b.get(10) != Some(&b'T')
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
        || b.last() != Some(&b'Z')
    {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    let nanos = match b.get(19..b.len() - 1)? {
        [] => 0,
        [b'.', frac @ ..] if (1..=9).contains(&frac.len()) => {
            num(20, frac.len())? * 10i64.pow(9 - u32::try_from(frac.len()).ok()?)
        }
        _ => return None,
    };
    if year == 0
        || !(1..=12).contains(&month)
        || day == 0
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some((
        days * 86_400 + hour * 3600 + minute * 60 + second,
        u32::try_from(nanos).ok()?,
    ))
}

/// `YYYY-MM-DD[T ]HH:MM:SS[.fraction](Z|±HH:MM)` to a time.
fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let digits = b.get(from..from + len)?;
        digits.iter().try_fold(0i64, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + i64::from(d - b'0'))
        })
    };
    let sep = |at: usize, ok: &[u8]| b.get(at).is_some_and(|c| ok.contains(c));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt ") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut at = 19;
    let mut nanos: u32 = 0;
    if sep(at, b".") {
        at += 1;
        let start = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            if at - start < 9 {
                nanos = nanos * 10 + u32::from(b.get(at).copied().unwrap_or(b'0') - b'0');
            }
            at += 1;
        }
        if at == start {
            return None;
        }
        for _ in (at - start)..9 {
            nanos *= 10;
        }
    }
    let offset = match b.get(at..)? {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (h, m) = (num(at + 1, 2)?, num(at + 4, 2)?);
            if h > 23 || m > 59 {
                return None;
            }
            let minutes = h * 60 + m;
            if *sign == b'-' { -minutes } else { minutes }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset * 60;
    let whole = Duration::from_secs(secs.unsigned_abs());
    let t = if secs >= 0 {
        UNIX_EPOCH.checked_add(whole)?
    } else {
        UNIX_EPOCH.checked_sub(whole)?
    };
    t.checked_add(Duration::from_nanos(u64::from(nanos)))
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a date of the proleptic Gregorian calendar
/// (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
// Tests index freely: a panic there is a failure report.
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::envelope::EnvelopeBuilder;
    use serde_json::json;

    #[test]
    fn any_rfc3339_form_is_read_and_anything_else_refused() {
        let at = |s| parse_rfc3339(s).map(|t| t.duration_since(UNIX_EPOCH).unwrap().as_nanos());
        assert_eq!(at("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(at("1970-01-01 00:00:01.5z"), Some(1_500_000_000));
        assert_eq!(
            at("2026-11-25T08:47:36.123456789Z"),
            Some(1_795_596_456_123_456_789)
        );
        assert_eq!(
            at("2026-11-25T08:47:36.1234567891Z"),
            Some(1_795_596_456_123_456_789)
        );
        assert_eq!(
            at("2026-11-25T03:47:36-05:00"),
            Some(1_795_596_456_000_000_000)
        );
        assert_eq!(at("2024-02-29T00:00:00Z"), Some(1_709_164_800_000_000_000));
        assert!(parse_rfc3339("1969-12-31T23:59:59Z").is_some());
        for bad in [
            "",
            "2026-11-25",
            "2026-11-25T08:47:36",
            "2026-11-25T08:47:36.Z",
            "2026-13-25T08:47:36Z",
            "2025-02-29T08:47:36Z",
            "2026-11-25T24:47:36Z",
            "2026-11-25T08:47:36+0100",
            "2026-11-25T08:47:36Zjunk",
            "2026-11-25T08:47:36+25:00",
            "２０２６-11-25T08:47:36Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn swapped_names_move_back_in_place() {
        // `level` and `message` trade names: both moves happen at once.
        let envelope = EnvelopeBuilder::new()
            .rename(Key::Level, "message")
            .rename(Key::Message, "level")
            .build()
            .unwrap();
        let r = ParsedRecord::parse_with(r#"{"message":"INFO","level":"hi","x":1}"#, &envelope)
            .unwrap();
        assert_eq!(r.level(), Some(tracing::Level::INFO));
        assert_eq!(r.message(), Some("hi"));
        assert_eq!(r.keys(), ["level", "message", "x"]);
    }

    #[test]
    fn a_renamed_key_takes_back_its_name_from_a_static_field() {
        let renames = KeyRenames::new().rename(Key::Level, "severity");
        for line in [
            r#"{"level":"static","severity":"WARN"}"#,
            r#"{"severity":"WARN","level":"static"}"#,
        ] {
            let r = ParsedRecord::parse_renamed(line, &renames).unwrap();
            assert_eq!(r.level(), Some(tracing::Level::WARN), "{line}");
            assert_eq!(r.keys(), ["level"], "{line}");
        }
    }

    #[test]
    fn a_line_without_renamed_keys_is_left_alone() {
        let renames = KeyRenames::new().rename(Key::Level, "severity");
        let r = ParsedRecord::parse_renamed(r#"{"level":"INFO"}"#, &renames).unwrap();
        assert_eq!(Value::from(r), json!({"level": "INFO"}));
    }

    use proptest::prelude::*;

    /// Any key name, from all of Unicode, often one of the default names
    /// (so renames collide with other keys' names and with field names).
    fn any_name() -> impl Strategy<Value = String> {
        let defaults: Vec<String> = Key::ALL
            .iter()
            .map(|k| k.default_name().to_owned())
            .chain(DEFAULT_PROMOTED.iter().map(|s| (*s).to_owned()))
            .chain(["items".to_owned(), "name".to_owned(), "fields".to_owned()])
            .collect();
        prop_oneof![
            proptest::sample::select(defaults),
            any::<String>().prop_filter("a name", |s| !s.is_empty()),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        /// Whatever an envelope renames (keys and promoted fields, to any
        /// Unicode names, including ones another key has by default), a line
        /// written through it and parsed back with it holds every value
        /// under its default name, in the order written.
        #[test]
        fn parse_with_inverts_every_envelope_rename(
            key_names in proptest::collection::vec(proptest::option::of(any_name()), Key::ALL.len()),
            promoted_names in proptest::collection::vec(proptest::option::of(any_name()), DEFAULT_PROMOTED.len()),
        ) {
            let mut builder = Envelope::builder();
            for (key, name) in Key::ALL.iter().zip(&key_names) {
                if let Some(name) = name {
                    builder = builder.rename(*key, name.clone());
                }
            }
            for (field, name) in DEFAULT_PROMOTED.iter().zip(&promoted_names) {
                if let Some(name) = name {
                    builder = builder.promote_as(*field, name.clone());
                }
            }
            // Colliding names are refused when built: nothing to read back.
            let Ok(envelope) = builder.build() else { return Ok(()) };
            // One line holding every key, written as the envelope names it,
            // each value naming its key.
            let defaults: Vec<&str> = Key::ALL
                .iter()
                .filter(|&&k| envelope.writes(k))
                .map(|k| k.default_name())
                .chain(DEFAULT_PROMOTED)
                .collect();
            let written: Vec<String> = Key::ALL
                .iter()
                .filter(|&&k| envelope.writes(k))
                .map(|&k| envelope.key_name(k).to_owned())
                .chain(envelope.promoted.iter().map(|p| p.key.clone()))
                .collect();
            let mut line = Map::new();
            for (name, default) in written.iter().zip(&defaults) {
                line.insert(name.clone(), json!(format!("value of {default}")));
            }
            let text = serde_json::to_string(&line).unwrap();
            let record = ParsedRecord::parse_with(&text, &envelope).unwrap();
            prop_assert_eq!(record.keys(), defaults.clone());
            for default in &defaults {
                let want = format!("value of {default}");
                prop_assert_eq!(record.str(default), Some(want.as_str()));
            }
            prop_assert_eq!(record.event_name(), Some("value of event_name"));
            prop_assert_eq!(record.request_id(), Some("value of request_id"));
        }

        /// Any text: a record or a typed error, never a panic.
        #[test]
        fn any_text_parses_or_is_refused(text in any::<String>()) {
            if let Ok(r) = ParsedRecord::parse(&text) {
                let _ = (r.timestamp(), r.level(), r.trace_id(), r.span_id(), r.schema_errors());
            }
        }

        /// Any timestamp text: a time or `None`, never a panic; and every
        /// time the encoder writes (microseconds, `Z`) reads back exactly.
        #[test]
        fn timestamps_read_back(text in "\\PC{0,40}", micros in 0u64..253_402_300_799_000_000) {
            let _ = parse_rfc3339(&text);
            let t = UNIX_EPOCH + Duration::from_micros(micros);
            let mut buf = crate::encode::JsonBuf::default();
            buf.timestamp(t);
            let quoted = String::from_utf8(buf.into_vec()).unwrap();
            let written = quoted.trim_matches('"');
            prop_assert_eq!(parse_rfc3339(written), Some(t), "{}", written);
        }
    }
}
