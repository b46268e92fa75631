//! Redaction: secrets and personal data removed before any output sees them.
//!
//! ```text
//! field value ─┬─ name matches a key rule? ── apply its action (redact / mask / hash / drop)
//!              └─ text? ── detectors: card numbers, bearer tokens, JWTs, emails, custom patterns
//! ```
//!
//! Runs while fields are captured — event fields, span fields (once, when
//! recorded), promoted values and the message — so the JSON writer, the
//! OTLP exporter and any other output only ever see the redacted record.
//!
//! The hot path is a key lookup bucketed by segment length and one scan of
//! each string for digits, `@`, `eyJ` and `earer`; nothing else runs unless
//! one of those hints is present or a custom pattern was configured.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// What replaces a redacted value.
pub const REDACTED: &str = "[REDACTED]";

/// Field names redacted by default, matched case-insensitively as whole
/// segments of a longer name (`db_password`, `x-api-key`, `apiKey`).
pub const DEFAULT_KEYS: [&str; 13] = [
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "authorization",
    "cookie",
    "set_cookie",
    "private_key",
    "card_number",
    "cvv",
    "ssn",
];

/// `EVENTLOG_HASH_KEY`: the default variable [`RedactorBuilder::hash_key_from_env`] reads.
pub const HASH_KEY_ENV: &str = "EVENTLOG_HASH_KEY";

/// The prefix of hashed values, so readers know they hold a pseudonym.
pub const HASH_PREFIX: &str = "hmac-sha256:";

/// What a rule does to a value it matches.
///
/// ```
/// use eventlog::{Action, Redactor};
///
/// let r = Redactor::builder()
///     .key_with("ssn", Action::Mask { keep_last: 4 })
///     .key_with("internal_note", Action::Drop)
///     .build()?;
/// assert_eq!(r.redact_field("ssn", "123-45-6789").as_deref(), Some("*******6789"));
/// assert_eq!(r.redact_field("internal_note", "x"), None);
/// # Ok::<(), eventlog::RedactError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Action {
    /// Replace with [`REDACTED`].
    Redact,
    /// Keep the last `keep_last` characters, star the rest. Card numbers
    /// found in text become `****-****-****-1234` whatever `keep_last` says.
    Mask {
        /// How many trailing characters stay readable.
        keep_last: usize,
    },
    /// Replace with a keyed HMAC-SHA256 pseudonym, `hmac-sha256:<32 hex>`:
    /// equal inputs give equal outputs under one key, so teams can still
    /// join on `hashed_email` without storing the email. Needs a hash key.
    Hash,
    /// Remove the field (text found in a message is redacted instead).
    Drop,
}

/// A built-in value detector, run on string values and the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Detector {
    /// Payment card numbers: 13–19 digits, spaces or dashes allowed,
    /// starting with 2–6 (the card networks' ranges) and Luhn-valid.
    Card,
    /// `Bearer <token>` credentials (the token is replaced).
    BearerToken,
    /// JSON Web Tokens (`eyJ…` with three dot-separated base64url parts).
    Jwt,
    /// Email addresses. Masked as `j***@example.com` by default.
    Email,
    /// `name: value` and `name=value` inside text (`Debug` output of a
    /// struct, a query string, embedded JSON) where `name` matches a key
    /// rule: the value is replaced.
    KeyValue,
}

impl Detector {
    /// Every detector, in the order they run.
    pub const ALL: [Detector; 5] = [
        Detector::KeyValue,
        Detector::Card,
        Detector::BearerToken,
        Detector::Jwt,
        Detector::Email,
    ];

    /// The rule name used in counts.
    pub const fn name(self) -> &'static str {
        match self {
            Detector::Card => "card",
            Detector::BearerToken => "bearer_token",
            Detector::Jwt => "jwt",
            Detector::Email => "email",
            Detector::KeyValue => "key_value",
        }
    }

    const fn default_action(self) -> Action {
        match self {
            Detector::Card => Action::Mask { keep_last: 4 },
            Detector::Email => Action::Mask { keep_last: 0 },
            Detector::BearerToken | Detector::Jwt | Detector::KeyValue => Action::Redact,
        }
    }
}

/// Why a redaction configuration was refused.
///
/// ```
/// use eventlog::{Action, RedactError, Redactor};
///
/// let err = Redactor::builder().key_with("email", Action::Hash).build().unwrap_err();
/// assert!(matches!(err, RedactError::MissingHashKey { .. }));
/// let err = Redactor::builder().pattern("order", "(", Action::Redact).build().unwrap_err();
/// assert!(err.to_string().starts_with("redaction rule `order`: invalid pattern"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RedactError {
    /// A custom pattern is not a valid regular expression.
    #[error("redaction rule `{rule}`: invalid pattern: {message}")]
    Pattern {
        /// The rule's name.
        rule: String,
        /// What the regex parser said.
        message: String,
    },
    /// A rule hashes values but no hash key was given. Call
    /// [`RedactorBuilder::hash_key`] or [`RedactorBuilder::hash_key_from_env`].
    #[error("redaction rule `{rule}` hashes values but no hash key is set")]
    MissingHashKey {
        /// The rule's name.
        rule: String,
    },
    /// The hash key is empty.
    #[error("the redaction hash key is empty")]
    EmptyHashKey,
    /// The environment variable meant to hold the hash key is not set (or
    /// not valid unicode).
    #[error("environment variable {name} (the redaction hash key) is not set")]
    HashKeyEnv {
        /// The variable's name.
        name: String,
    },
    /// A key rule is empty or has no letters or digits.
    #[error("redaction key rule `{key}` has no letters or digits")]
    EmptyKey {
        /// The rule as given.
        key: String,
    },
}

#[derive(Debug, Clone)]
struct KeyRule {
    name: String,
    segments: Vec<String>,
    action: Action,
}

#[derive(Debug, Clone)]
struct Pattern {
    name: String,
    regex: regex::Regex,
    action: Action,
}

/// Builds a [`Redactor`]; starts from the defaults (see [`Redactor::builder`]).
#[derive(Debug, Clone)]
#[must_use]
pub struct RedactorBuilder {
    keys: Vec<(String, Action)>,
    detectors: Vec<(Detector, Action)>,
    patterns: Vec<(String, String, Action)>,
    hash_key: Option<Result<Vec<u8>, RedactError>>,
}

impl RedactorBuilder {
    /// Adds a key rule with [`Action::Redact`] (or resets its action).
    pub fn key(self, name: impl Into<String>) -> Self {
        self.key_with(name, Action::Redact)
    }

    /// Adds a key rule with its own action (or changes an existing one).
    pub fn key_with(mut self, name: impl Into<String>, action: Action) -> Self {
        let name = name.into();
        self.keys.retain(|(k, _)| !k.eq_ignore_ascii_case(&name));
        self.keys.push((name, action));
        self
    }

    /// Stops redacting a key (for example a default you do not want).
    pub fn remove_key(mut self, name: &str) -> Self {
        self.keys.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        self
    }

    /// Removes every key rule, defaults included.
    pub fn clear_keys(mut self) -> Self {
        self.keys.clear();
        self
    }

    /// Turns a detector on with this action.
    pub fn detect(mut self, detector: Detector, action: Action) -> Self {
        self.detectors.retain(|(d, _)| *d != detector);
        self.detectors.push((detector, action));
        self.detectors
            .sort_by_key(|(d, _)| Detector::ALL.iter().position(|x| x == d));
        self
    }

    /// Turns a detector off.
    pub fn no_detect(mut self, detector: Detector) -> Self {
        self.detectors.retain(|(d, _)| *d != detector);
        self
    }

    /// Adds a custom pattern (a regular expression) run on every string
    /// value and message; each match gets `action`. Only configured
    /// patterns put a regex on the hot path.
    pub fn pattern(
        mut self,
        name: impl Into<String>,
        regex: impl Into<String>,
        action: Action,
    ) -> Self {
        self.patterns.push((name.into(), regex.into(), action));
        self
    }

    /// The key for [`Action::Hash`].
    pub fn hash_key(mut self, key: impl AsRef<[u8]>) -> Self {
        self.hash_key = Some(Ok(key.as_ref().to_vec()));
        self
    }

    /// Reads the key for [`Action::Hash`] from an environment variable
    /// (usually [`HASH_KEY_ENV`]); a missing variable fails [`build`](Self::build).
    pub fn hash_key_from_env(mut self, name: &str) -> Self {
        self.hash_key = Some(std::env::var(name).map(String::into_bytes).map_err(|_| {
            RedactError::HashKeyEnv {
                name: name.to_owned(),
            }
        }));
        self
    }

    /// Checks every rule and builds the redactor.
    pub fn build(self) -> Result<Redactor, RedactError> {
        let hasher = match self.hash_key {
            Some(Ok(key)) if key.is_empty() => return Err(RedactError::EmptyHashKey),
            Some(Ok(key)) => {
                Some(Hmac::<Sha256>::new_from_slice(&key).map_err(|_| RedactError::EmptyHashKey)?)
            }
            Some(Err(e)) => return Err(e),
            None => None,
        };
        let mut names = Vec::new();
        let mut keys = Vec::new();
        for (name, action) in self.keys {
            let segments: Vec<String> = segments(&name).map(str::to_ascii_lowercase).collect();
            if segments.is_empty() {
                return Err(RedactError::EmptyKey { key: name });
            }
            names.push(format!("key:{name}"));
            keys.push(KeyRule {
                name,
                segments,
                action,
            });
        }
        let mut by_len: Vec<Vec<usize>> = vec![Vec::new(); MAX_SEGMENT + 1];
        for (i, rule) in keys.iter().enumerate() {
            if let Some(bucket) = by_len.get_mut(rule.segments[0].len()) {
                bucket.push(i);
            }
        }
        let detectors = self.detectors;
        names.extend(detectors.iter().map(|(d, _)| d.name().to_owned()));
        let mut patterns = Vec::new();
        for (name, regex, action) in self.patterns {
            let regex = regex::Regex::new(&regex).map_err(|e| RedactError::Pattern {
                rule: name.clone(),
                message: e.to_string(),
            })?;
            names.push(format!("pattern:{name}"));
            patterns.push(Pattern {
                name,
                regex,
                action,
            });
        }
        let hashing = keys
            .iter()
            .map(|k| (k.name.as_str(), k.action))
            .chain(detectors.iter().map(|(d, a)| (d.name(), *a)))
            .chain(patterns.iter().map(|p| (p.name.as_str(), p.action)))
            .find(|(_, a)| *a == Action::Hash);
        if let (Some((rule, _)), None) = (hashing, &hasher) {
            return Err(RedactError::MissingHashKey {
                rule: rule.to_owned(),
            });
        }
        let counts = names.iter().map(|_| AtomicU64::new(0)).collect();
        Ok(Redactor(Some(Arc::new(Rules {
            id: NEXT_RULES_ID.fetch_add(1, Ordering::Relaxed),
            keys,
            by_len,
            detectors,
            patterns,
            hasher,
            names,
            counts,
        }))))
    }
}

/// Longest segment a key rule can start with; longer name segments skip
/// the key lookup entirely.
const MAX_SEGMENT: usize = 32;

#[derive(Debug)]
struct Rules {
    /// Unique per build, for the per-thread key cache.
    id: u64,
    keys: Vec<KeyRule>,
    /// Key rules by the length of their first segment.
    by_len: Vec<Vec<usize>>,
    detectors: Vec<(Detector, Action)>,
    patterns: Vec<Pattern>,
    hasher: Option<Hmac<Sha256>>,
    /// Rule names: key rules, then detectors, then patterns (as `counts`).
    names: Vec<String>,
    counts: Vec<AtomicU64>,
}

/// Removes secrets from field values and messages; see the module docs.
///
/// On by default in [`EventLayer`](crate::EventLayer) with
/// [`Redactor::default`]: the [`DEFAULT_KEYS`] redacted, card numbers and
/// emails masked, bearer tokens and JWTs redacted. Turn it off with
/// `.redactor(Redactor::none())`. Cheap to clone; clones share counters.
///
/// ```
/// use eventlog::Redactor;
///
/// let r = Redactor::default();
/// assert_eq!(r.redact_field("db_password", "hunter2").as_deref(), Some("[REDACTED]"));
/// assert_eq!(r.redact_field("order_id", "o-1").as_deref(), Some("o-1"));
/// assert_eq!(
///     r.redact_text("paid with 4111 1111 1111 1111, mail ana@example.com"),
///     "paid with ****-****-****-1111, mail a***@example.com"
/// );
/// assert_eq!(r.counts().iter().find(|(n, _)| n == "card").unwrap().1, 1);
/// ```
#[derive(Debug, Clone)]
pub struct Redactor(Option<Arc<Rules>>);

impl Default for Redactor {
    fn default() -> Self {
        // The defaults hold no pattern and no hash action, so building them
        // cannot fail; `none` is the fallback should that ever change.
        Self::builder().build().unwrap_or_else(|_| Self::none())
    }
}

const KEY_CACHE_SLOTS: usize = 256;

/// One cached key decision: which field name (address, length), under
/// which rule set (its unique id, never an address that could be reused),
/// matched which rule.
#[derive(Debug, Clone, Copy)]
struct CachedKey {
    name: (usize, usize),
    rules: u64,
    rule: Option<usize>,
}

/// Ids of built rule sets; 0 is never issued, so empty cache slots match nothing.
static NEXT_RULES_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    static KEY_CACHE: [Cell<CachedKey>; KEY_CACHE_SLOTS] = const {
        [const { Cell::new(CachedKey { name: (0, 0), rules: 0, rule: None }) }; KEY_CACHE_SLOTS]
    };
}

/// A key rule, by position.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyRuleId(usize);

/// What a key rule decided for a field.
pub(crate) enum KeyOutcome {
    /// Not a sensitive name.
    Keep,
    /// Sensitive: write this text instead.
    Replace(String),
    /// Sensitive: leave the field out.
    Drop,
}

impl Redactor {
    /// A builder starting from the defaults:
    ///
    /// | setting | default |
    /// |---|---|
    /// | key rules | [`DEFAULT_KEYS`], each [`Action::Redact`] |
    /// | detectors | [`Detector::Card`] (mask), [`Detector::BearerToken`] (redact), [`Detector::Jwt`] (redact), [`Detector::Email`] (mask) |
    /// | custom patterns | none |
    /// | hash key | none |
    ///
    /// ```
    /// use eventlog::{Action, Detector, Redactor};
    ///
    /// let r = Redactor::builder()
    ///     .key("session_secret_hint")
    ///     .remove_key("token")
    ///     .detect(Detector::Email, Action::Hash)
    ///     .hash_key("0123456789abcdef")
    ///     .build()?;
    /// assert_eq!(r.redact_field("csrf_token", "abc").as_deref(), Some("abc"));
    /// assert!(r.redact_text("ana@example.com").starts_with("hmac-sha256:"));
    /// # Ok::<(), eventlog::RedactError>(())
    /// ```
    pub fn builder() -> RedactorBuilder {
        RedactorBuilder {
            keys: DEFAULT_KEYS
                .iter()
                .map(|k| ((*k).to_owned(), Action::Redact))
                .collect(),
            detectors: Detector::ALL
                .iter()
                .map(|d| (*d, d.default_action()))
                .collect(),
            patterns: Vec::new(),
            hash_key: None,
        }
    }

    /// A redactor that changes nothing.
    pub fn none() -> Self {
        Self(None)
    }

    /// Whether this redactor has any rule at all.
    pub fn is_active(&self) -> bool {
        self.0.is_some()
    }

    /// How many values each rule changed, by rule name (`key:password`,
    /// `card`, `email`, `pattern:<name>`, …). Never the values themselves.
    pub fn counts(&self) -> Vec<(String, u64)> {
        self.0.as_ref().map_or_else(Vec::new, |r| {
            r.names
                .iter()
                .zip(&r.counts)
                .map(|(n, c)| (n.clone(), c.load(Ordering::Relaxed)))
                .collect()
        })
    }

    /// The redacted form of field `name` holding `value`: `None` when the
    /// field is dropped.
    pub fn redact_field<'v>(&self, name: &str, value: &'v str) -> Option<Cow<'v, str>> {
        match self.key(name, value) {
            KeyOutcome::Keep => Some(self.scan(value).map_or(Cow::Borrowed(value), Cow::Owned)),
            KeyOutcome::Replace(text) => Some(Cow::Owned(text)),
            KeyOutcome::Drop => None,
        }
    }

    /// `text` with every detected secret replaced.
    pub fn redact_text<'v>(&self, text: &'v str) -> Cow<'v, str> {
        self.scan(text).map_or(Cow::Borrowed(text), Cow::Owned)
    }

    /// Applies the key rules to a field.
    pub(crate) fn key(&self, name: &str, value: &str) -> KeyOutcome {
        let Some(rules) = &self.0 else {
            return KeyOutcome::Keep;
        };
        let Some(i) = rules.match_key(name) else {
            return KeyOutcome::Keep;
        };
        self.apply_key(KeyRuleId(i), value)
    }

    /// [`key_rule`](Self::key_rule) for a `tracing` field name, cached per
    /// thread: field names are `'static`, so their address identifies them
    /// and a steady-state lookup is one probe instead of segmenting the name.
    pub(crate) fn key_rule_static(&self, name: &'static str) -> Option<KeyRuleId> {
        let rules = self.0.as_ref()?;
        let rules_id = rules.id;
        let name_id = (name.as_ptr() as usize, name.len());
        // Fibonacci hashing spreads neighbouring string literals over slots.
        let mixed = (name_id.0 ^ name_id.1.rotate_left(48)) as u64;
        let slot = usize::try_from(mixed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56).unwrap_or(0);
        // `Some(rule)` on a hit, where `rule` itself may be `None` (a name
        // known not to be sensitive: the common, cached answer).
        let cached: Option<Option<usize>> = KEY_CACHE
            .try_with(|cache| {
                let entry = cache[slot].get();
                (entry.name == name_id && entry.rules == rules_id).then_some(entry.rule)
            })
            .unwrap_or(None);
        if let Some(rule) = cached {
            return rule.map(KeyRuleId);
        }
        let rule = rules.match_key(name);
        let _ = KEY_CACHE.try_with(|cache| {
            cache[slot].set(CachedKey {
                name: name_id,
                rules: rules_id,
                rule,
            });
        });
        rule.map(KeyRuleId)
    }

    /// Applies key rule `rule` to a value (and counts it).
    pub(crate) fn apply_key(&self, rule: KeyRuleId, value: &str) -> KeyOutcome {
        let Some(rules) = &self.0 else {
            return KeyOutcome::Keep;
        };
        let Some(key) = rules.keys.get(rule.0) else {
            return KeyOutcome::Keep;
        };
        rules.count(rule.0);
        match key.action {
            Action::Drop => KeyOutcome::Drop,
            other => KeyOutcome::Replace(rules.apply_text(other, value)),
        }
    }

    /// Whether a field name matches a key rule.
    #[cfg(test)]
    fn is_sensitive_key(&self, name: &str) -> bool {
        self.0.as_ref().is_some_and(|r| r.match_key(name).is_some())
    }

    /// Runs the detectors and patterns; `None` when nothing matched (the
    /// common case, which allocates nothing). A detector whose action is
    /// [`Action::Drop`] redacts the text instead: a message cannot be
    /// dropped, and a field's text has already been captured.
    pub(crate) fn scan(&self, text: &str) -> Option<String> {
        let rules = self.0.as_ref()?;
        let hints = Hints::of(text);
        // Most values give no detector a reason to look: done.
        if !hints.any() && rules.patterns.is_empty() {
            return None;
        }
        let mut current: Option<String> = None;
        for (i, (detector, action)) in rules.detectors.iter().enumerate() {
            if !hints.allows(*detector) {
                continue;
            }
            let input = current.as_deref().unwrap_or(text);
            let (out, n) = match detector {
                Detector::Card => replace_cards(input, |digits| rules.apply_card(*action, digits)),
                Detector::BearerToken => replace_bearer(input, |t| rules.apply_text(*action, t)),
                Detector::Jwt => replace_jwt(input, |t| rules.apply_text(*action, t)),
                Detector::Email => replace_email(input, |t| rules.apply_email(*action, t)),
                Detector::KeyValue => replace_key_values(
                    input,
                    |name| rules.match_key(name).is_some(),
                    |t| rules.apply_text(*action, t),
                ),
            };
            if n > 0 {
                rules.count_n(rules.keys.len() + i, n);
                current = Some(out);
            }
        }
        for (i, pattern) in rules.patterns.iter().enumerate() {
            let input = current.as_deref().unwrap_or(text);
            let mut n = 0u64;
            let out = pattern
                .regex
                .replace_all(input, |caps: &regex::Captures<'_>| {
                    n += 1;
                    rules.apply_text(pattern.action, &caps[0])
                });
            if n > 0 {
                rules.count_n(rules.keys.len() + rules.detectors.len() + i, n);
                current = Some(out.into_owned());
            }
        }
        current
    }
}

impl Rules {
    fn count(&self, i: usize) {
        self.count_n(i, 1);
    }

    fn count_n(&self, i: usize, n: u64) {
        if let Some(c) = self.counts.get(i) {
            c.fetch_add(n, Ordering::Relaxed);
        }
    }

    fn match_key(&self, name: &str) -> Option<usize> {
        if self.keys.is_empty() {
            return None;
        }
        let mut segs = [""; 16];
        let mut n = 0;
        for seg in segments(name) {
            if n == segs.len() {
                break;
            }
            segs[n] = seg;
            n += 1;
        }
        let segs = &segs[..n];
        for (start, seg) in segs.iter().enumerate() {
            let Some(candidates) = self.by_len.get(seg.len()) else {
                continue;
            };
            for &i in candidates {
                let rule = &self.keys[i].segments;
                let tail = &segs[start..];
                if tail.len() >= rule.len()
                    && rule
                        .iter()
                        .zip(tail)
                        .all(|(r, s)| r.eq_ignore_ascii_case(s))
                {
                    return Some(i);
                }
            }
        }
        None
    }

    fn apply_text(&self, action: Action, value: &str) -> String {
        match action {
            Action::Redact | Action::Drop => REDACTED.to_owned(),
            Action::Mask { keep_last } => mask(value, keep_last),
            Action::Hash => self.hash(value),
        }
    }

    fn apply_card(&self, action: Action, digits: &str) -> String {
        match action {
            Action::Mask { .. } => {
                let last4 = &digits[digits.len().saturating_sub(4)..];
                format!("****-****-****-{last4}")
            }
            other => self.apply_text(other, digits),
        }
    }

    fn apply_email(&self, action: Action, email: &str) -> String {
        match action {
            Action::Mask { .. } => match email.split_once('@') {
                Some((local, domain)) => {
                    let first = local.chars().next().unwrap_or('*');
                    format!("{first}***@{domain}")
                }
                None => REDACTED.to_owned(),
            },
            other => self.apply_text(other, email),
        }
    }

    fn hash(&self, value: &str) -> String {
        let Some(hasher) = &self.hasher else {
            // `build` refuses hash actions without a key.
            return REDACTED.to_owned();
        };
        let mut mac = hasher.clone();
        mac.update(value.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut out = String::with_capacity(HASH_PREFIX.len() + 32);
        out.push_str(HASH_PREFIX);
        for b in &digest[..16] {
            let _ = write!(out, "{b:02x}");
        }
        out
    }
}

/// Stars every character but the last `keep_last`; a value no longer than
/// `keep_last` is starred whole, so masking never reveals all of it.
fn mask(value: &str, keep_last: usize) -> String {
    let count = value.chars().count();
    let hidden = if count <= keep_last {
        count
    } else {
        count - keep_last
    };
    let mut out = String::with_capacity(value.len());
    out.extend(std::iter::repeat_n('*', hidden));
    out.extend(value.chars().skip(hidden));
    out
}

/// The segments of a field name: split at `_`, `.`, `-`, spaces and
/// camelCase boundaries (`apiKey` → `api`, `Key`; `DBPassword` → `DB`, `Password`).
fn segments(name: &str) -> impl Iterator<Item = &str> {
    let bytes = name.as_bytes();
    let mut start = 0;
    let mut i = 0;
    std::iter::from_fn(move || {
        while i <= bytes.len() {
            let at = i;
            i += 1;
            let boundary = if at == bytes.len() {
                true
            } else {
                let b = bytes[at];
                if !b.is_ascii_alphanumeric() {
                    let seg = &name[start..at];
                    start = at + 1;
                    if !seg.is_empty() {
                        return Some(seg);
                    }
                    continue;
                }
                let prev = at.checked_sub(1).map(|p| bytes[p]);
                let next = bytes.get(at + 1).copied();
                b.is_ascii_uppercase()
                    && at > start
                    && (prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
                        || (prev.is_some_and(|p| p.is_ascii_uppercase())
                            && next.is_some_and(|n| n.is_ascii_lowercase())))
            };
            if boundary {
                let seg = &name[start..at];
                start = at;
                if !seg.is_empty() {
                    return Some(seg);
                }
            }
        }
        None
    })
}

const DIGIT: u8 = 1;
const AT: u8 = 2;
const SEPARATOR: u8 = 4;
const CAPITAL_J: u8 = 8;
const LETTER_B: u8 = 16;

/// What each byte hints at, for [`Hints::of`].
const BYTE_CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut d = b'0';
    while d <= b'9' {
        table[d as usize] = DIGIT;
        d += 1;
    }
    table[b'@' as usize] = AT;
    table[b':' as usize] = SEPARATOR;
    table[b'=' as usize] = SEPARATOR;
    table[b'J' as usize] = CAPITAL_J;
    table[b'b' as usize] = LETTER_B;
    table[b'B' as usize] = LETTER_B;
    table
};

/// `bytes` (6 to 12 of them) as two little-endian words that together cover
/// every byte, overlapping in the middle.
fn overlapping_words(bytes: &[u8]) -> [u64; 2] {
    let n = bytes.len();
    if n >= 8 {
        let lo = <[u8; 8]>::try_from(&bytes[..8]).unwrap_or([0; 8]);
        let hi = <[u8; 8]>::try_from(&bytes[n - 8..]).unwrap_or([0; 8]);
        [u64::from_le_bytes(lo), u64::from_le_bytes(hi)]
    } else {
        let half =
            |r: &[u8]| u64::from(u32::from_le_bytes(<[u8; 4]>::try_from(r).unwrap_or([0; 4])));
        let lo = half(&bytes[..4]);
        let hi = half(&bytes[n - 4..]);
        // The upper half repeats the lower one: it adds no false byte.
        [lo | lo << 32, hi | hi << 32]
    }
}

/// Whether any byte of `w` is `b` (the classic zero-byte test on `w ^ b…`).
fn has_byte(w: u64, b: u8) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let x = w ^ (LO * u64::from(b));
    x.wrapping_sub(LO) & !x & HI != 0
}

/// Cheap facts gathered in one pass, so detectors that cannot match skip.
#[allow(clippy::struct_excessive_bools)] // One flag per detector, read once each.
struct Hints {
    digits: usize,
    at: bool,
    separator: bool,
    jwt: bool,
    bearer: bool,
}

impl Hints {
    fn of(text: &str) -> Self {
        let bytes = text.as_bytes();
        let mut hints = Hints {
            digits: 0,
            at: false,
            separator: false,
            jwt: false,
            bearer: false,
        };
        // The shortest thing any detector matches (`a@b.co`) is 6 bytes.
        if bytes.len() < 6 {
            return hints;
        }
        // Below 13 bytes only an e-mail or `name=value` fits (a card needs
        // 13 digits, a bearer token or JWT more): look for `@`, `:` and `=`
        // in two overlapping words instead of classifying every byte.
        if bytes.len() < 13 {
            let words = overlapping_words(bytes);
            hints.at = words.iter().any(|&w| has_byte(w, b'@'));
            hints.separator = words
                .iter()
                .any(|&w| has_byte(w, b':') || has_byte(w, b'='));
            return hints;
        }
        // One table lookup per byte; rare letters only raise a flag that
        // the precise (and slower) checks below then confirm.
        let mut seen = 0u8;
        for &b in bytes {
            let class = BYTE_CLASS[usize::from(b)];
            seen |= class;
            hints.digits += usize::from(class & DIGIT);
        }
        hints.at = seen & AT != 0;
        hints.separator = seen & SEPARATOR != 0;
        hints.jwt = seen & CAPITAL_J != 0 && bytes.len() >= 20 && text.contains("eyJ");
        hints.bearer = seen & LETTER_B != 0
            && bytes.len() >= 14
            && bytes.windows(6).any(|w| w.eq_ignore_ascii_case(b"bearer"));
        hints
    }

    /// Whether any detector may match.
    fn any(&self) -> bool {
        self.digits >= 13 || self.at || self.separator || self.jwt || self.bearer
    }

    fn allows(&self, detector: Detector) -> bool {
        match detector {
            Detector::Card => self.digits >= 13,
            Detector::Email => self.at,
            Detector::Jwt => self.jwt,
            Detector::BearerToken => self.bearer,
            Detector::KeyValue => self.separator,
        }
    }
}

/// Builds the redacted copy of a text: untouched runs copied, matches replaced.
struct Rewrite<'t> {
    text: &'t str,
    out: String,
    /// Bytes of `text` already copied or replaced.
    copied: usize,
    count: u64,
}

impl<'t> Rewrite<'t> {
    fn new(text: &'t str) -> Self {
        Self {
            text,
            out: String::with_capacity(text.len()),
            copied: 0,
            count: 0,
        }
    }

    /// Replaces `text[start..end]` (after everything already copied) with `with`.
    fn replace(&mut self, start: usize, end: usize, with: &str) {
        self.out.push_str(&self.text[self.copied..start]);
        self.out.push_str(with);
        self.copied = end;
        self.count += 1;
    }

    fn finish(mut self) -> (String, u64) {
        self.out.push_str(&self.text[self.copied..]);
        (self.out, self.count)
    }
}

/// Replaces each card-number-shaped, Luhn-valid digit run; returns the new
/// text and how many were replaced.
fn replace_cards(text: &str, mut replace: impl FnMut(&str) -> String) -> (String, u64) {
    let bytes = text.as_bytes();
    let mut rw = Rewrite::new(text);
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() || (i > 0 && bytes[i - 1].is_ascii_alphanumeric()) {
            i += 1;
            continue;
        }
        // A run of digits with single spaces or dashes between groups.
        let start = i;
        let mut digits = String::new();
        let mut end = i;
        let mut j = i;
        while j < bytes.len() {
            if bytes[j].is_ascii_digit() {
                digits.push(char::from(bytes[j]));
                j += 1;
                end = j;
            } else if (bytes[j] == b' ' || bytes[j] == b'-')
                && bytes.get(j + 1).is_some_and(u8::is_ascii_digit)
            {
                j += 1;
            } else {
                break;
            }
        }
        let followed_by_word = bytes.get(end).is_some_and(u8::is_ascii_alphanumeric);
        if (13..=19).contains(&digits.len())
            && matches!(digits.as_bytes()[0], b'2'..=b'6')
            && !followed_by_word
            && luhn(&digits)
        {
            rw.replace(start, end, &replace(&digits));
        }
        i = end.max(i + 1);
    }
    rw.finish()
}

/// The Luhn checksum (ISO/IEC 7812) over ASCII digits.
fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let d2 = d * 2;
                if d2 > 9 { d2 - 9 } else { d2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'+' | b'/' | b'=')
}

/// Replaces the token after each `Bearer ` (any case).
fn replace_bearer(text: &str, mut replace: impl FnMut(&str) -> String) -> (String, u64) {
    let bytes = text.as_bytes();
    let mut rw = Rewrite::new(text);
    let mut i = 0;
    while i + 7 <= bytes.len() {
        let word = &bytes[i..i + 6];
        let at_word_start = i == 0 || !bytes[i - 1].is_ascii_alphanumeric();
        if at_word_start && word.eq_ignore_ascii_case(b"bearer") && bytes[i + 6] == b' ' {
            let mut start = i + 7;
            while bytes.get(start) == Some(&b' ') {
                start += 1;
            }
            let mut end = start;
            while bytes.get(end).is_some_and(|b| is_token_byte(*b)) {
                end += 1;
            }
            if end - start >= 8 {
                rw.replace(start, end, &replace(&text[start..end]));
                i = end;
                continue;
            }
        }
        i += 1;
    }
    rw.finish()
}

/// Replaces each JSON Web Token (`eyJ…` header, three base64url parts).
fn replace_jwt(text: &str, mut replace: impl FnMut(&str) -> String) -> (String, u64) {
    let is_b64url = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    let bytes = text.as_bytes();
    let mut rw = Rewrite::new(text);
    let mut search = 0;
    while let Some(found) = text[search..].find("eyJ") {
        let start = search + found;
        let mut end = start;
        let mut parts = [0usize; 3];
        let mut part = 0;
        while end < bytes.len() {
            if is_b64url(bytes[end]) {
                parts[part] += 1;
            } else if bytes[end] == b'.' && part < 2 && parts[part] > 0 {
                part += 1;
            } else {
                break;
            }
            end += 1;
        }
        let preceded_ok = start == 0 || !is_b64url(bytes[start - 1]);
        if preceded_ok && part == 2 && parts.iter().all(|p| *p >= 4) {
            rw.replace(start, end, &replace(&text[start..end]));
            search = end;
        } else {
            search = start + 3;
        }
    }
    rw.finish()
}

/// Replaces the value after each `name:` / `name=` whose name is sensitive.
fn replace_key_values(
    text: &str,
    is_sensitive: impl Fn(&str) -> bool,
    mut replace: impl FnMut(&str) -> String,
) -> (String, u64) {
    let is_name = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.');
    let bytes = text.as_bytes();
    let mut rw = Rewrite::new(text);
    let mut i = 0;
    while i < bytes.len() {
        if !is_name(bytes[i]) || (i > 0 && is_name(bytes[i - 1])) {
            i += 1;
            continue;
        }
        let name_start = i;
        while i < bytes.len() && is_name(bytes[i]) {
            i += 1;
        }
        let name = &text[name_start..i];
        // `name`, `"name"` or `'name'`, then `:` or `=`, then the value.
        let mut j = i;
        if matches!(bytes.get(j), Some(b'"' | b'\'')) {
            j += 1;
        }
        while bytes.get(j) == Some(&b' ') {
            j += 1;
        }
        let Some(&separator @ (b':' | b'=')) = bytes.get(j) else {
            continue;
        };
        if !is_sensitive(name) {
            continue;
        }
        j += 1;
        while bytes.get(j) == Some(&b' ') {
            j += 1;
        }
        let (start, end) = if let Some(&q @ (b'"' | b'\'')) = bytes.get(j) {
            let start = j + 1;
            let mut end = start;
            while end < bytes.len() && bytes[end] != q {
                end += if bytes[end] == b'\\' { 2 } else { 1 };
            }
            (start, end.min(bytes.len()))
        } else {
            // `name=value` ends at a space (query strings, logfmt);
            // `Name: value` runs to the end of the line (HTTP headers:
            // `Authorization: Bearer …` loses both words).
            let ends = |b: u8| {
                matches!(
                    b,
                    b',' | b'}' | b')' | b']' | b';' | b'&' | b'"' | b'\n' | b'\r'
                ) || (separator == b'=' && b.is_ascii_whitespace())
            };
            let mut end = j;
            while end < bytes.len() && !ends(bytes[end]) {
                end += 1;
            }
            while end > j && bytes[end - 1] == b' ' {
                end -= 1;
            }
            (j, end)
        };
        if end > start && text.is_char_boundary(start) && text.is_char_boundary(end) {
            rw.replace(start, end, &replace(&text[start..end]));
            i = end;
        }
    }
    rw.finish()
}

/// Replaces each email address.
fn replace_email(text: &str, mut replace: impl FnMut(&str) -> String) -> (String, u64) {
    let is_local =
        |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-');
    let is_domain = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-');
    let bytes = text.as_bytes();
    let mut rw = Rewrite::new(text);
    for (at, _) in text.match_indices('@') {
        if at < rw.copied {
            continue;
        }
        let mut start = at;
        while start > rw.copied && is_local(bytes[start - 1]) {
            start -= 1;
        }
        let mut end = at + 1;
        while end < bytes.len() && is_domain(bytes[end]) {
            end += 1;
        }
        // Trailing dots end a sentence, not the domain.
        while end > at + 1 && bytes[end - 1] == b'.' {
            end -= 1;
        }
        let domain = &text[at + 1..end];
        let valid = start < at
            && domain.contains('.')
            && !domain.starts_with('.')
            && domain.rsplit('.').next().is_some_and(|tld| tld.len() >= 2);
        if valid {
            rw.replace(start, end, &replace(&text[start..end]));
        }
    }
    rw.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default() -> Redactor {
        Redactor::default()
    }

    #[test]
    fn default_keys_match_as_segments_in_any_case() {
        let r = default();
        for name in [
            "password",
            "PASSWORD",
            "db_password",
            "dbPassword",
            "DBPassword",
            "user.password",
            "x-api-key",
            "x_api_key",
            "apiKey",
            "API_KEY",
            "apikey",
            "access_token",
            "Authorization",
            "set_cookie",
            "setCookie",
            "private_key",
            "card_number",
            "cvv",
            "ssn",
            "client_secret",
            "passwd",
        ] {
            assert!(r.is_sensitive_key(name), "{name} should be sensitive");
        }
        for name in [
            "order_id",
            "tokenizer",
            "keyboard",
            "cookies_ok",
            "card",
            "number",
            "secretary",
            "api",
        ] {
            assert!(!r.is_sensitive_key(name), "{name} should not be sensitive");
        }
    }

    #[test]
    fn the_per_thread_key_cache_agrees_with_matching() {
        let a = default();
        let b = Redactor::builder()
            .clear_keys()
            .key("order_id")
            .build()
            .unwrap();
        for _ in 0..3 {
            for name in ["password", "order_id", "amount", "db_password", "x"] {
                let want_a = a.is_sensitive_key(name);
                assert_eq!(a.key_rule_static(name).is_some(), want_a, "{name}");
                assert_eq!(
                    b.key_rule_static(name).is_some(),
                    name == "order_id",
                    "{name}"
                );
            }
        }
    }

    #[test]
    fn segments_split_on_separators_and_camel_case() {
        let s: Vec<_> = segments("x-apiKey_DBPassword.v2Token").collect();
        assert_eq!(s, ["x", "api", "Key", "DB", "Password", "v2", "Token"]);
        assert_eq!(segments("__").count(), 0);
    }

    #[test]
    fn each_action_on_keys() {
        let r = Redactor::builder()
            .key_with("pin", Action::Mask { keep_last: 2 })
            .key_with("email", Action::Hash)
            .key_with("note", Action::Drop)
            .hash_key("k1")
            .build()
            .unwrap();
        assert_eq!(r.redact_field("pin", "123456").as_deref(), Some("****56"));
        assert_eq!(r.redact_field("pin", "1").as_deref(), Some("*"));
        assert_eq!(r.redact_field("password", "x").as_deref(), Some(REDACTED));
        assert_eq!(r.redact_field("note", "x"), None);
        let h = r.redact_field("email", "a@b.co").unwrap();
        assert!(
            h.starts_with(HASH_PREFIX) && h.len() == HASH_PREFIX.len() + 32,
            "{h}"
        );
    }

    #[test]
    fn hashes_are_stable_per_key_and_differ_across_keys() {
        let with = |key: &str| {
            Redactor::builder()
                .key_with("email", Action::Hash)
                .hash_key(key)
                .build()
                .unwrap()
        };
        let (a, b) = (with("key-a"), with("key-b"));
        let ha1 = a
            .redact_field("email", "ana@example.com")
            .unwrap()
            .into_owned();
        let ha2 = a
            .redact_field("email", "ana@example.com")
            .unwrap()
            .into_owned();
        let hb = b
            .redact_field("email", "ana@example.com")
            .unwrap()
            .into_owned();
        let other = a
            .redact_field("email", "bob@example.com")
            .unwrap()
            .into_owned();
        assert_eq!(ha1, ha2);
        assert_ne!(ha1, hb);
        assert_ne!(ha1, other);
    }

    #[test]
    fn luhn_valid_cards_in_text_are_masked_and_other_digit_runs_are_not() {
        let r = default();
        let cases = [
            ("card 4111111111111111 ok", "card ****-****-****-1111 ok"),
            ("card 4111-1111-1111-1111.", "card ****-****-****-1111."),
            ("amex 3782 822463 10005", "amex ****-****-****-0005"),
            ("mc 5555555555554444", "mc ****-****-****-4444"),
            // Luhn-invalid: an order id.
            ("order 4111111111111112", "order 4111111111111112"),
            // Timestamps: start with 1 (not a card range) or are too short.
            ("at 1732524456123 ms", "at 1732524456123 ms"),
            ("at 20261125084736", "at 20261125084736"),
            // Too long to be a card.
            ("id 41111111111111110000", "id 41111111111111110000"),
            // Glued to letters: an identifier, not a card.
            ("sku4111111111111111", "sku4111111111111111"),
        ];
        for (input, want) in cases {
            assert_eq!(r.redact_text(input), want, "{input}");
        }
    }

    #[test]
    fn bearer_tokens_jwts_and_emails_in_text() {
        let r = default();
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        assert_eq!(
            r.redact_text("sent Bearer abcdef123456.xyz upstream"),
            "sent Bearer [REDACTED] upstream"
        );
        assert_eq!(
            r.redact_text("Authorization: Bearer abcdef123456.xyz"),
            "Authorization: [REDACTED]"
        );
        assert_eq!(r.redact_text(&format!("token={jwt};")), "token=[REDACTED];");
        assert_eq!(
            r.redact_text("mail ana.b+x@mail.example.org."),
            "mail a***@mail.example.org."
        );
        assert_eq!(
            r.redact_text("not an email: a@b, @home, x@localhost"),
            "not an email: a@b, @home, x@localhost"
        );
        assert_eq!(r.redact_text("bearer short"), "bearer short");
    }

    #[test]
    fn sensitive_names_inside_text_lose_their_values() {
        let r = default();
        let cases = [
            (
                r#"Login { user: "ana", password: "hunter2" }"#,
                r#"Login { user: "ana", password: "[REDACTED]" }"#,
            ),
            (
                "GET /cb?code=1&client_secret=abc123&x=1",
                "GET /cb?code=1&client_secret=[REDACTED]&x=1",
            ),
            (
                r#"{"api_key":"k-123","n":1}"#,
                r#"{"api_key":"[REDACTED]","n":1}"#,
            ),
            (
                "db_password=s3cr3t user=bob",
                "db_password=[REDACTED] user=bob",
            ),
            (r#"token: "a \" b" end"#, r#"token: "[REDACTED]" end"#),
            ("ratio: 3, tokens_used: 5", "ratio: 3, tokens_used: 5"),
        ];
        for (input, want) in cases {
            assert_eq!(r.redact_text(input), want, "{input}");
        }
    }

    #[test]
    fn custom_patterns_and_detector_actions() {
        let r = Redactor::builder()
            .pattern("stripe_key", r"sk_live_[0-9a-zA-Z]{8,}", Action::Redact)
            .detect(Detector::Email, Action::Redact)
            .no_detect(Detector::Card)
            .build()
            .unwrap();
        assert_eq!(
            r.redact_text("key sk_live_abcdef123456 used"),
            "key [REDACTED] used"
        );
        assert_eq!(r.redact_text("ana@example.com"), REDACTED);
        assert_eq!(r.redact_text("4111111111111111"), "4111111111111111");
        let counts = r.counts();
        let get = |n: &str| counts.iter().find(|(k, _)| k == n).map(|(_, c)| *c);
        assert_eq!(get("pattern:stripe_key"), Some(1));
        assert_eq!(get("email"), Some(1));
        assert_eq!(get("card"), None);
    }

    #[test]
    fn configuration_errors_are_typed() {
        assert!(matches!(
            Redactor::builder().detect(Detector::Email, Action::Hash).build(),
            Err(RedactError::MissingHashKey { rule }) if rule == "email"
        ));
        assert_eq!(
            Redactor::builder().hash_key("").build().unwrap_err(),
            RedactError::EmptyHashKey
        );
        assert!(matches!(
            Redactor::builder()
                .hash_key_from_env("EVENTLOG_TEST_SURELY_UNSET_VAR")
                .build(),
            Err(RedactError::HashKeyEnv { .. })
        ));
        assert!(matches!(
            Redactor::builder().key("--").build(),
            Err(RedactError::EmptyKey { .. })
        ));
    }

    #[test]
    fn none_changes_nothing() {
        let r = Redactor::none();
        assert_eq!(r.redact_field("password", "x").as_deref(), Some("x"));
        assert_eq!(r.redact_text("4111111111111111"), "4111111111111111");
        assert!(r.counts().is_empty());
    }

    #[test]
    fn short_texts_find_every_at_and_separator() {
        for len in 6..13 {
            for at in 0..len {
                for mark in [b'@', b':', b'=', b'x'] {
                    let mut text = vec![b'a'; len];
                    text[at] = mark;
                    let text = String::from_utf8(text).unwrap();
                    let hints = Hints::of(&text);
                    assert_eq!(hints.at, mark == b'@', "{text}");
                    assert_eq!(hints.separator, mark == b':' || mark == b'=', "{text}");
                }
            }
        }
        let r = Redactor::default();
        assert_eq!(r.scan("a@b.co").as_deref(), Some("a***@b.co"));
        assert!(!r.scan("token=ab12").unwrap().contains("ab12"));
    }
}
