//! Redaction: secrets and personal data removed before any output sees them.
//!
//! ```text
//! field value ─┬─ name matches a key rule? ── apply its action (redact / mask / hash / drop)
//!              ├─ integer in a field named like a card? ── card check
//!              └─ text? ── detectors (below), then custom patterns, then the length cap
//! ```
//!
//! Runs while fields are captured — event fields, span fields (once, when
//! recorded), promoted values, the message, `event_name` / `event` /
//! `event_type` — so the JSON writer, the OTLP exporter, `schema_errors`
//! and any other output only ever see the redacted record. Text is scanned
//! whole and only then cut to the layer's `max_value_bytes`, and the cut
//! piece is scanned again, so a cut never leaves a recognisable fragment.
//!
//! # What is covered by default
//!
//! **Field names** ([`DEFAULT_KEYS`]), matched case-insensitively as whole
//! segments of a longer name, in any script (`db_password`, `apiKey`,
//! `x-api-key`, `user_contraseña` for a `contraseña` rule): the value is
//! replaced whatever its type.
//!
//! **Inside any text** (string values, `Debug` output, error chains,
//! messages, event names):
//!
//! | detector | shapes |
//! |---|---|
//! | [`Detector::PrivateKey`] | PEM private-key blocks (RSA, EC, DSA, OpenSSH, PKCS#8, encrypted, PGP): the body between the armour lines |
//! | [`Detector::UrlCredentials`] | the password of `scheme://user:password@host` URLs and DSNs (`postgres://`, `redis://:pw@…`) |
//! | [`Detector::KeyValue`] | the value after a sensitive `name:` / `name=` (bare, `"quoted"`, `\"escaped\"` JSON inside `Debug` strings, `Some(…)` / `Struct { … }` / `[104, 117]` wrappers, `authorization=Basic …` with both words), and the contents of a sensitive newtype `Secret(…)` |
//! | [`Detector::Card`] | payment card numbers: 13–19 digits in whole groups (spaces or dashes), starting 2–6, Luhn-valid; also followed by an expiry or CVV, preceded by another number, or glued to letters (`card4111…`) unless the whole word is hexadecimal |
//! | [`Detector::BearerToken`] | `Bearer <token>` |
//! | [`Detector::BasicAuth`] | `Basic <base64>` whose base64 decodes to `user:password` |
//! | [`Detector::Jwt`] | JSON Web Tokens (`eyJ…`, three base64url parts) |
//! | [`Detector::VendorToken`] | credentials with a vendor prefix (the prefix stays): AWS access key ids (`AKIA`, `ASIA`, `ABIA`, `ACCA`); GitHub (`ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`, `github_pat_`); GitLab (`glpat-`, `glptt-`, `glrt-`, `gldt-`, `glft-`, `glsoat-`, `glcbt-`, `glimt-`, `gloas-`); Slack tokens (`xoxb-`, `xoxp-`, `xoxa-`, `xoxo-`, `xoxs-`, `xoxr-`, `xoxe-`, `xapp-`) and webhooks; Discord webhooks; Stripe (`sk_`/`rk_` `live`/`test`/`prod`, `whsec_`); OpenAI (`sk-proj-`, `sk-svcacct-`, `sk-admin-`, legacy `sk-…T3BlbkFJ…`); Anthropic (`sk-ant-`); Google (`AIza`, `GOCSPX-`, `ya29.`); npm (`npm_`); PyPI; Hugging Face (`hf_`, `api_org_`); Docker Hub (`dckr_pat_`); Shopify (`shpat_`, `shpca_`, `shppa_`, `shpss_`); SendGrid (`SG.`); DigitalOcean (`dop_v1_`, `doo_v1_`, `dor_v1_`); Postman (`PMAK-`); Linear (`lin_api_`); Sentry (`sntrys_`, `sntryu_`); Heroku (`HRKU-`); 1Password (`ops_`); Square (`sq0atp-`, `sq0csp-`); Grafana (`glc_`, `glsa_`); Atlassian (`ATATT3`); age (`AGE-SECRET-KEY-1`) |
//! | [`Detector::Email`] | email addresses (masked `a***@example.com`) |
//!
//! **Typed integers** (`u64`, `i64`, `u128`, `i128`) in a field named like a
//! card (a `card`, `pan`, `ccn`, `cardnumber` or `creditcard` segment) are
//! checked as card numbers.
//!
//! Not covered: secrets with no recognisable shape in a field whose name
//! says nothing (`note = "hunter2"`), card numbers as floats, names written
//! in code (a span's name, the macro's `name:`), field *names*, and bare
//! high-entropy strings (AWS secret keys, hex API keys): they look like
//! the ids and hashes that must pass through.
//!
//! # Cost
//!
//! The hot path is a key lookup cached per field name and one pass over
//! each string that classifies bytes (digits, `@`, `:` `=` `(`, `J`, `b`,
//! `_` `-` `A` `G`); a detector runs only when its hint is present (for
//! strings under 13 bytes, two word-sized tests for `@`, `:`, `=` and `(`),
//! and custom patterns run on every string only when configured.

#![deny(clippy::indexing_slicing, clippy::string_slice)]

mod detect;
mod keys;
mod tokens;

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use detect::Hints;
pub(crate) use keys::KeyFacts;
use keys::KeyIndex;

/// What replaces a redacted value.
pub const REDACTED: &str = "[REDACTED]";

/// Field names redacted by default, matched case-insensitively as whole
/// segments of a longer name (`db_password`, `x-api-key`, `apiKey`).
pub const DEFAULT_KEYS: [&str; 25] = [
    "password",
    "passwd",
    "pwd",
    "pass",
    "passphrase",
    "secret",
    "token",
    "api_key",
    "apikey",
    "authorization",
    "credentials",
    "credential",
    "creds",
    "cookie",
    "set_cookie",
    "private_key",
    "account_key",
    "card_number",
    "cvv",
    "cvv2",
    "cvc",
    "cvc2",
    "pin",
    "otp",
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
    /// Payment card numbers: 13–19 digits in whole groups (spaces or
    /// dashes between them), starting with 2–6 (the card networks'
    /// ranges) and Luhn-valid; found beside an expiry, a CVV or another
    /// number, and glued to letters unless the word is hexadecimal. Also
    /// run on integers in a field named like a card (`card`, `pan`).
    Card,
    /// `Bearer <token>` credentials (the token is replaced).
    BearerToken,
    /// `Basic <credentials>` whose base64 decodes to `user:password`.
    BasicAuth,
    /// JSON Web Tokens (`eyJ…` with three dot-separated base64url parts).
    Jwt,
    /// Email addresses. Masked as `j***@example.com` by default.
    Email,
    /// `name: value` and `name=value` inside text (`Debug` output of a
    /// struct, a query string, embedded JSON, escaped JSON inside a
    /// `Debug` string) where `name` matches a key rule: the value is
    /// replaced, whole when it is a wrapper (`Some(…)`, `[…]`, `{…}`);
    /// and the contents of a newtype whose name matches (`Secret(…)`).
    KeyValue,
    /// The password in a URL's userinfo (`https://user:pw@host`, database
    /// DSNs); scheme, user and host stay.
    UrlCredentials,
    /// Credentials with a vendor's documented prefix (AWS, GitHub, GitLab,
    /// Slack, Stripe, OpenAI, Google, npm, … see the module docs); the
    /// prefix stays (`ghp_[REDACTED]`).
    VendorToken,
    /// The body of a PEM private-key block.
    PrivateKey,
}

impl Detector {
    /// Every detector, in the order they run.
    pub const ALL: [Detector; 9] = [
        Detector::PrivateKey,
        Detector::UrlCredentials,
        Detector::KeyValue,
        Detector::Card,
        Detector::BearerToken,
        Detector::BasicAuth,
        Detector::Jwt,
        Detector::VendorToken,
        Detector::Email,
    ];

    /// The rule name used in counts.
    pub const fn name(self) -> &'static str {
        match self {
            Detector::Card => "card",
            Detector::BearerToken => "bearer_token",
            Detector::BasicAuth => "basic_auth",
            Detector::Jwt => "jwt",
            Detector::Email => "email",
            Detector::KeyValue => "key_value",
            Detector::UrlCredentials => "url_credentials",
            Detector::VendorToken => "vendor_token",
            Detector::PrivateKey => "private_key",
        }
    }

    const fn default_action(self) -> Action {
        match self {
            Detector::Card => Action::Mask { keep_last: 4 },
            Detector::Email => Action::Mask { keep_last: 0 },
            Detector::BearerToken
            | Detector::BasicAuth
            | Detector::Jwt
            | Detector::KeyValue
            | Detector::UrlCredentials
            | Detector::VendorToken
            | Detector::PrivateKey => Action::Redact,
        }
    }

    /// Whether the hints allow this detector to match at all.
    fn may_match(self, hints: &Hints) -> bool {
        match self {
            Detector::Card => hints.digits >= 13,
            Detector::Email => hints.at,
            Detector::Jwt => hints.jwt,
            Detector::BearerToken => hints.bearer,
            Detector::BasicAuth => hints.basic,
            Detector::KeyValue => hints.separator,
            Detector::UrlCredentials => hints.url,
            Detector::VendorToken => hints.token,
            Detector::PrivateKey => hints.private_key,
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
    /// A key rule is empty or only separators (ASCII punctuation,
    /// whitespace, control characters).
    #[error("redaction key rule `{key}` is empty or only separators")]
    EmptyKey {
        /// The rule as given.
        key: String,
    },
}

#[derive(Debug, Clone)]
struct KeyRule {
    name: String,
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
        let mut segments = Vec::new();
        for (name, action) in self.keys {
            let Some(segs) = keys::rule_segments(&name) else {
                return Err(RedactError::EmptyKey { key: name });
            };
            names.push(format!("key:{name}"));
            segments.push(segs);
            keys.push(KeyRule { name, action });
        }
        let index = KeyIndex::new(segments);
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
            index,
            detectors,
            patterns,
            hasher,
            names,
            counts,
        }))))
    }
}

#[derive(Debug)]
struct Rules {
    /// Unique per build, for the per-thread key cache.
    id: u64,
    keys: Vec<KeyRule>,
    /// The key rules' segments, for matching names.
    index: KeyIndex,
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
/// emails masked, and every other [`Detector`] redacting (see the module
/// docs for the exact shapes). Turn it off with
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
/// assert_eq!(
///     r.redact_text("dsn postgres://app:pw@db/orders, key AKIAQSLOJOLIENSB3IAR"),
///     "dsn postgres://app:[REDACTED]@db/orders, key AKIA[REDACTED]"
/// );
/// // Names in any script segment and match: no panic, whole segments only.
/// let es = Redactor::builder().key("contraseña").build().unwrap();
/// assert_eq!(es.redact_field("user_contraseña", "x").as_deref(), Some("[REDACTED]"));
/// assert_eq!(es.redact_field("contraseñas", "x").as_deref(), Some("x"));
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

/// Ids of built rule sets; 0 is never issued, so empty cache slots match nothing.
static NEXT_RULES_ID: AtomicU64 = AtomicU64::new(1);

/// A key rule, by position.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyRuleId(usize);

impl KeyFacts {
    /// The matching key rule.
    pub(crate) fn rule(self) -> Option<KeyRuleId> {
        self.rule_index().map(KeyRuleId)
    }
}

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
    /// | detectors | all of [`Detector::ALL`]: [`Detector::Card`] and [`Detector::Email`] mask, the others redact |
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

    /// What the key rules say about a `tracing` field name, cached per
    /// thread: field names are `'static`, so their address identifies them
    /// and a steady-state lookup is one probe instead of segmenting the name.
    #[inline]
    pub(crate) fn key_facts_static(&self, name: &'static str) -> KeyFacts {
        let Some(rules) = self.0.as_ref() else {
            return KeyFacts::NONE;
        };
        keys::cached(name, rules.id, |name| {
            KeyFacts::new(
                rules.match_key(name),
                rules.card_action().is_some() && keys::is_card_name(name),
            )
        })
    }

    /// The key rule matching a `tracing` field name (cached per thread).
    #[cfg(test)]
    fn key_rule_static(&self, name: &'static str) -> Option<KeyRuleId> {
        self.key_facts_static(name).rule()
    }

    /// The redacted form of an integer's digits if they are a card number
    /// and the card detector is on (and counts it); `None` otherwise.
    pub(crate) fn redact_card_number(&self, digits: &str) -> Option<String> {
        let rules = self.0.as_ref()?;
        let (i, action) = rules.card_action()?;
        if !detect::is_card(digits.as_bytes()) {
            return None;
        }
        rules.count(rules.keys.len() + i);
        Some(rules.apply_card(action, digits))
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
    #[inline]
    pub(crate) fn scan(&self, text: &str) -> Option<String> {
        let rules = self.0.as_ref()?;
        // Most values are short and give no detector a reason to look: done
        // in a few word-sized tests, without building the hints.
        if rules.patterns.is_empty() && !detect::may_match(text) {
            return None;
        }
        Self::scan_hinted(rules, text)
    }

    /// [`scan`](Self::scan) past the quick test: full hints, then detectors.
    #[inline(never)]
    fn scan_hinted(rules: &Rules, text: &str) -> Option<String> {
        let hints = Hints::of(text);
        if !hints.any() && rules.patterns.is_empty() {
            return None;
        }
        let mut current: Option<String> = None;
        for (i, (detector, action)) in rules.detectors.iter().enumerate() {
            if !detector.may_match(&hints) {
                continue;
            }
            let input = current.as_deref().unwrap_or(text);
            let action = *action;
            let text_action = |t: &str| rules.apply_text(action, t);
            let rewritten = match detector {
                Detector::Card => {
                    detect::replace_cards(input, |digits| rules.apply_card(action, digits))
                }
                Detector::BearerToken => detect::replace_bearer(input, text_action),
                Detector::BasicAuth => detect::replace_basic(input, text_action),
                Detector::Jwt => detect::replace_jwt(input, text_action),
                Detector::Email => detect::replace_email(input, |t| rules.apply_email(action, t)),
                Detector::KeyValue => detect::replace_key_values(
                    input,
                    |name| rules.match_key(name).is_some(),
                    text_action,
                ),
                Detector::UrlCredentials => detect::replace_url_credentials(input, text_action),
                Detector::VendorToken => tokens::replace_tokens(input, text_action),
                Detector::PrivateKey => tokens::replace_private_keys(input, text_action),
            };
            if let Some((out, n)) = rewritten {
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
                    rules.apply_text(pattern.action, caps.get(0).map_or("", |m| m.as_str()))
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
        if self.index.is_empty() {
            return None;
        }
        self.index.find(name)
    }

    /// The card detector's position and action, if it is on.
    fn card_action(&self) -> Option<(usize, Action)> {
        self.detectors
            .iter()
            .enumerate()
            .find_map(|(i, (d, a))| (*d == Detector::Card).then_some((i, *a)))
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
                let last4 = digits
                    .get(digits.len().saturating_sub(4)..)
                    .unwrap_or_default();
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
        for b in digest.iter().take(16) {
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
            // Glued to letters: still a card (issue 13), unless the word is hex.
            ("sku4111111111111111", "sku****-****-****-1111"),
            ("abc4111111111111111", "abc4111111111111111"),
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
            .pattern("internal_ref", r"ref-[0-9a-f]{8}\b", Action::Redact)
            .detect(Detector::Email, Action::Redact)
            .no_detect(Detector::Card)
            .build()
            .unwrap();
        assert_eq!(
            r.redact_text("key ref-0badf00d used"),
            "key [REDACTED] used"
        );
        assert_eq!(r.redact_text("ana@example.com"), REDACTED);
        assert_eq!(r.redact_text("4111111111111111"), "4111111111111111");
        let counts = r.counts();
        let get = |n: &str| counts.iter().find(|(k, _)| k == n).map(|(_, c)| *c);
        assert_eq!(get("pattern:internal_ref"), Some(1));
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
    fn short_texts_are_scanned() {
        let r = Redactor::default();
        assert_eq!(r.scan("a@b.co").as_deref(), Some("a***@b.co"));
        assert!(!r.scan("token=ab12").unwrap().contains("ab12"));
    }
}
