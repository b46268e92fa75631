//! The envelope: the fixed top-level keys of every line, their names and order.
//!
//! Key names are escaped once, when the envelope is built; encoding a record
//! then copies pre-escaped key bytes and escapes only values. The deployment
//! context and static fields are pre-encoded into one byte string as well.

#![deny(clippy::indexing_slicing, clippy::string_slice)]

use std::collections::HashSet;

use crate::error::ConfigError;

/// The version of the record format this crate writes.
pub const ENVELOPE_VERSION: u32 = 1;

/// A top-level key of the envelope, for [`EnvelopeBuilder::rename`].
///
/// ```
/// use eventlog::Key;
///
/// assert_eq!(Key::Timestamp.default_name(), "timestamp");
/// assert_eq!(Key::DurationMs.default_name(), "duration_ms");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Key {
    /// `timestamp`
    Timestamp,
    /// `level`
    Level,
    /// `event_name`
    EventName,
    /// `event_type`
    EventType,
    /// `message`
    Message,
    /// `target`: the `tracing` target, or a `log` record's own target
    /// (through `tracing-log`). On by default ([`EnvelopeBuilder::target`]).
    Target,
    /// `file`: the source file of the event. Off by default
    /// ([`EnvelopeBuilder::code_location`]).
    File,
    /// `line`: the source line of the event, with [`Key::File`].
    Line,
    /// `service`
    Service,
    /// `environment`
    Environment,
    /// `region`
    Region,
    /// `version`
    Version,
    /// `host`
    Host,
    /// `trace_id`
    TraceId,
    /// `span_id`
    SpanId,
    /// `metadata`
    Metadata,
    /// `span`
    Span,
    /// `duration_ms`
    DurationMs,
    /// `schema_version`
    SchemaVersion,
    /// `schema_errors`
    SchemaErrors,
}

impl Key {
    /// Every key, in envelope order.
    pub const ALL: [Key; 20] = [
        Key::Timestamp,
        Key::Level,
        Key::EventName,
        Key::EventType,
        Key::Message,
        Key::Target,
        Key::File,
        Key::Line,
        Key::Service,
        Key::Environment,
        Key::Region,
        Key::Version,
        Key::Host,
        Key::TraceId,
        Key::SpanId,
        Key::Metadata,
        Key::Span,
        Key::DurationMs,
        Key::SchemaVersion,
        Key::SchemaErrors,
    ];

    /// The name the key has unless renamed.
    pub const fn default_name(self) -> &'static str {
        match self {
            Key::Timestamp => "timestamp",
            Key::Level => "level",
            Key::EventName => "event_name",
            Key::EventType => "event_type",
            Key::Message => "message",
            Key::Target => "target",
            Key::File => "file",
            Key::Line => "line",
            Key::Service => "service",
            Key::Environment => "environment",
            Key::Region => "region",
            Key::Version => "version",
            Key::Host => "host",
            Key::TraceId => "trace_id",
            Key::SpanId => "span_id",
            Key::Metadata => "metadata",
            Key::Span => "span",
            Key::DurationMs => "duration_ms",
            Key::SchemaVersion => "schema_version",
            Key::SchemaErrors => "schema_errors",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The fields promoted from spans to the top level unless configured otherwise.
pub const DEFAULT_PROMOTED: [&str; 4] = ["correlation_id", "request_id", "user_id", "session_id"];

#[derive(Debug, Clone)]
pub(crate) struct PromotedKey {
    pub(crate) field: String,
    pub(crate) key: String,
    pub(crate) key_json: Vec<u8>,
}

/// The layout of every line: key names, promoted fields, static fields, and
/// whether the `span` block is written.
///
/// Build one with [`Envelope::builder`]; the defaults follow the table on
/// [`Record`](crate::Record). Building checks that no two top-level keys share a name.
///
/// ```
/// use eventlog::{Envelope, Key};
///
/// let envelope = Envelope::builder()
///     .rename(Key::Timestamp, "@timestamp")
///     .rename(Key::Level, "severity")
///     .promote("tenant_id")
///     .static_field("team", "payments")
///     .build()?;
/// assert_eq!(envelope.key_name(Key::Timestamp), "@timestamp");
/// assert_eq!(
///     envelope.promoted_fields().collect::<Vec<_>>(),
///     ["correlation_id", "request_id", "user_id", "session_id", "tenant_id"]
/// );
/// # Ok::<(), eventlog::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Envelope {
    names: Vec<String>,
    /// `,"name":` per key.
    keys_json: Vec<Vec<u8>>,
    pub(crate) promoted: Vec<PromotedKey>,
    pub(crate) statics_json: Vec<u8>,
    pub(crate) span_block: bool,
    /// Write `target`.
    pub(crate) target: bool,
    /// Write `file` and `line`.
    pub(crate) code_location: bool,
    /// Per first byte, a bit per length (31 for 31 and more): can a field
    /// name of that shape be special (message, event name or type, `log.*`,
    /// `traceparent`, promoted)? Most names are not, and skip every string
    /// comparison.
    special_shape: [u32; 256],
}

impl Default for Envelope {
    fn default() -> Self {
        // The default names are distinct by construction (a unit test
        // checks that `build` accepts them).
        EnvelopeBuilder::new().force()
    }
}

impl Envelope {
    /// A builder starting from the defaults.
    pub fn builder() -> EnvelopeBuilder {
        EnvelopeBuilder::new()
    }

    /// The output name of `key`.
    // `Key::index()` is a `Key` discriminant, and the table has one entry per `Key`.
    #[allow(clippy::indexing_slicing)]
    pub fn key_name(&self, key: Key) -> &str {
        &self.names[key.index()]
    }

    /// The span fields promoted to the top level, in output order.
    pub fn promoted_fields(&self) -> impl Iterator<Item = &str> {
        self.promoted.iter().map(|p| p.field.as_str())
    }

    /// Whether a field with this name may need more than storing as metadata.
    // A byte indexes a 256-entry table.
    #[allow(clippy::indexing_slicing)]
    pub(crate) fn may_be_special(&self, name: &str) -> bool {
        name.as_bytes()
            .first()
            .is_some_and(|&b| self.special_shape[usize::from(b)] & (1 << name.len().min(31)) != 0)
    }

    /// The index of `field` in the promoted list, if it is promoted.
    pub(crate) fn promoted_index(&self, field: &str) -> Option<usize> {
        self.promoted.iter().position(|p| p.field == field)
    }

    pub(crate) fn promoted_len(&self) -> usize {
        self.promoted.len()
    }

    /// Whether records carry the `span` block.
    pub fn has_span_block(&self) -> bool {
        self.span_block
    }

    /// Whether lines carry `key` at all: every key can appear, except
    /// `target` when turned off ([`EnvelopeBuilder::target`]) and `file` /
    /// `line` unless turned on ([`EnvelopeBuilder::code_location`]).
    ///
    /// ```
    /// use eventlog::{Envelope, Key};
    ///
    /// assert!(Envelope::default().writes(Key::Timestamp));
    /// assert!(!Envelope::default().writes(Key::Line));
    /// ```
    pub fn writes(&self, key: Key) -> bool {
        match key {
            Key::Target => self.target,
            Key::File | Key::Line => self.code_location,
            _ => true,
        }
    }

    /// `"name":` for a key.
    pub(crate) fn key(&self, key: Key) -> &[u8] {
        self.comma_key(key).get(1..).unwrap_or_default()
    }

    /// `,"name":` for a key: most keys follow another.
    // `Key::index()` is a `Key` discriminant, and the table has one entry per `Key`.
    #[allow(clippy::indexing_slicing)]
    #[inline]
    pub(crate) fn comma_key(&self, key: Key) -> &[u8] {
        &self.keys_json[key.index()]
    }
}

/// Builds an [`Envelope`]; see there for an example.
#[derive(Debug, Clone)]
#[must_use]
pub struct EnvelopeBuilder {
    names: Vec<String>,
    promoted: Vec<(String, String)>,
    statics: Vec<(String, serde_json::Value)>,
    span_block: bool,
    target: bool,
    code_location: bool,
}

impl Default for EnvelopeBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl EnvelopeBuilder {
    /// The defaults:
    ///
    /// | setting | default |
    /// |---|---|
    /// | key names | as [`Key::default_name`] |
    /// | promoted fields | [`DEFAULT_PROMOTED`] |
    /// | static fields | none |
    /// | `span` block | on |
    /// | `target` | on |
    /// | `file`, `line` | off |
    ///
    /// ```
    /// use eventlog::{EnvelopeBuilder, Key, DEFAULT_PROMOTED};
    ///
    /// let e = EnvelopeBuilder::new().build()?;
    /// assert_eq!(e.key_name(Key::Metadata), "metadata");
    /// assert_eq!(e.promoted_fields().collect::<Vec<_>>(), DEFAULT_PROMOTED);
    /// assert!(e.has_span_block());
    /// assert!(e.writes(Key::Target));
    /// assert!(!e.writes(Key::File) && !e.writes(Key::Line));
    /// # Ok::<(), eventlog::ConfigError>(())
    /// ```
    pub fn new() -> Self {
        Self {
            names: Key::ALL
                .iter()
                .map(|k| k.default_name().to_owned())
                .collect(),
            promoted: DEFAULT_PROMOTED
                .iter()
                .map(|f| ((*f).to_owned(), (*f).to_owned()))
                .collect(),
            statics: Vec::new(),
            span_block: true,
            target: true,
            code_location: false,
        }
    }

    /// Renames a top-level key (`@timestamp`, `severity`, …).
    // `Key::index()` is a `Key` discriminant, and the table has one entry per `Key`.
    #[allow(clippy::indexing_slicing)]
    pub fn rename(mut self, key: Key, name: impl Into<String>) -> Self {
        self.names[key.index()] = name.into();
        self
    }

    /// Promotes one more span field to the top level, under its own name.
    pub fn promote(self, field: impl Into<String>) -> Self {
        let field = field.into();
        self.promote_as(field.clone(), field)
    }

    /// Promotes a span field to the top level under another key name
    /// (or renames an already promoted one).
    pub fn promote_as(mut self, field: impl Into<String>, key: impl Into<String>) -> Self {
        let (field, key) = (field.into(), key.into());
        match self.promoted.iter_mut().find(|(f, _)| *f == field) {
            Some(entry) => entry.1 = key,
            None => self.promoted.push((field, key)),
        }
        self
    }

    /// Replaces the promoted set (an empty list turns promotion off).
    pub fn promoted<I, F>(mut self, fields: I) -> Self
    where
        I: IntoIterator<Item = F>,
        F: Into<String>,
    {
        self.promoted = fields
            .into_iter()
            .map(|f| {
                let f = f.into();
                (f.clone(), f)
            })
            .collect();
        self
    }

    /// Adds a top-level field written on every line (after the deployment context).
    pub fn static_field(
        mut self,
        key: impl Into<String>,
        value: impl Into<serde_json::Value>,
    ) -> Self {
        self.statics.push((key.into(), value.into()));
        self
    }

    /// Whether to write the `span` block (current span name and fields).
    pub fn span_block(mut self, on: bool) -> Self {
        self.span_block = on;
        self
    }

    /// Whether to write the `target` key: the `tracing` target
    /// (`checkout::orders`), or for a record of the `log` crate (through
    /// `tracing-log`) the `log` record's own target. On by default.
    ///
    /// ```
    /// use eventlog::{Envelope, Key};
    ///
    /// let e = Envelope::builder().target(false).build()?;
    /// assert!(!e.writes(Key::Target));
    /// // Renamed like any key:
    /// let e = Envelope::builder().rename(Key::Target, "logger").build()?;
    /// assert_eq!(e.key_name(Key::Target), "logger");
    /// # Ok::<(), eventlog::ConfigError>(())
    /// ```
    pub fn target(mut self, on: bool) -> Self {
        self.target = on;
        self
    }

    /// Whether to write `file` and `line`, the source location of each
    /// event (for `log` records, the `log` record's). Off by default.
    ///
    /// ```
    /// use eventlog::{Envelope, Key};
    ///
    /// let e = Envelope::builder().code_location(true).build()?;
    /// assert!(e.writes(Key::File) && e.writes(Key::Line));
    /// # Ok::<(), eventlog::ConfigError>(())
    /// ```
    pub fn code_location(mut self, on: bool) -> Self {
        self.code_location = on;
        self
    }

    /// Checks the names and builds the envelope.
    ///
    /// Fails if a name is empty or if two top-level keys (renamed keys,
    /// promoted keys, static fields) would share a name.
    pub fn build(self) -> Result<Envelope, ConfigError> {
        let mut seen = HashSet::new();
        let (target, code_location) = (self.target, self.code_location);
        let written = |k: &Key| match k {
            Key::Target => target,
            Key::File | Key::Line => code_location,
            _ => true,
        };
        let all = self
            .names
            .iter()
            .zip(Key::ALL)
            .filter(|(_, k)| written(k))
            .map(|(n, k)| (n.as_str(), format!("{k:?}")))
            .chain(self.promoted.iter().map(|(f, k)| (k.as_str(), f.clone())))
            .chain(self.statics.iter().map(|(k, _)| (k.as_str(), k.clone())));
        for (name, what) in all {
            if name.is_empty() {
                return Err(ConfigError::EmptyKey { what });
            }
            if !seen.insert(name.to_owned()) {
                return Err(ConfigError::DuplicateKey {
                    key: name.to_owned(),
                });
            }
        }
        Ok(self.force())
    }

    // Bytes index a 256-entry table.
    #[allow(clippy::indexing_slicing)]
    fn force(self) -> Envelope {
        let key_json = |name: &str| {
            let mut out = Vec::with_capacity(name.len() + 3);
            // serde_json escapes exactly as the line encoder does (the same
            // short escapes, `\u00xx` otherwise), and writing a `str` into
            // a `Vec` cannot fail.
            let _ = serde_json::to_writer(&mut out, name);
            out.push(b':');
            out
        };
        let comma_key_json = |name: &str| {
            let mut out = vec![b','];
            out.extend(key_json(name));
            out
        };
        let mut statics_json = Vec::new();
        for (key, value) in &self.statics {
            statics_json.push(b',');
            statics_json.extend(key_json(key));
            // Serialising a `serde_json::Value` into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut statics_json, value);
        }
        let mut special_shape = [0u32; 256];
        let special = [
            "message",
            "event_name",
            "event",
            "event_type",
            "traceparent",
        ];
        let promoted = self.promoted.iter().map(|(f, _)| f.as_str());
        for name in special.into_iter().chain(promoted) {
            if let Some(&b) = name.as_bytes().first() {
                special_shape[usize::from(b)] |= 1 << name.len().min(31);
            }
        }
        // `log.*`: any length from 4 up.
        special_shape[usize::from(b'l')] |= !0b1111;
        Envelope {
            special_shape,
            keys_json: self.names.iter().map(|n| comma_key_json(n)).collect(),
            names: self.names,
            promoted: self
                .promoted
                .into_iter()
                .map(|(field, key)| PromotedKey {
                    key_json: key_json(&key),
                    field,
                    key,
                })
                .collect(),
            statics_json,
            span_block: self.span_block,
            target: self.target,
            code_location: self.code_location,
        }
    }
}

#[cfg(test)]
// Tests index freely: a panic there is a failure report.
#[allow(clippy::indexing_slicing, clippy::string_slice)]
mod tests {
    use super::*;

    #[test]
    fn collisions_are_refused() {
        let cases = [
            Envelope::builder().rename(Key::Message, "level"),
            Envelope::builder().static_field("service", "x"),
            Envelope::builder().promote_as("tenant", "trace_id"),
            Envelope::builder()
                .static_field("a", 1)
                .static_field("a", 2),
        ];
        for case in cases {
            assert!(matches!(
                case.build(),
                Err(ConfigError::DuplicateKey { .. })
            ));
        }
        assert!(matches!(
            Envelope::builder().rename(Key::Span, "").build(),
            Err(ConfigError::EmptyKey { .. })
        ));
    }

    #[test]
    fn defaults_build() {
        assert!(EnvelopeBuilder::new().build().is_ok());
    }

    #[test]
    fn renamed_keys_are_escaped_once() {
        let e = Envelope::builder()
            .rename(Key::Level, "sev\"erity")
            .build()
            .unwrap();
        assert_eq!(e.key(Key::Level), b"\"sev\\\"erity\":");
    }
}
