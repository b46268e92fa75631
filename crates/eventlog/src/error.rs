//! Typed configuration errors, raised when something is built, never later.

/// A configuration value was refused.
///
/// Each variant carries the value at fault and says what to change.
///
/// ```
/// use eventlog::{ConfigError, Envelope, Key};
///
/// let err = Envelope::builder().rename(Key::Level, "timestamp").build().unwrap_err();
/// assert!(matches!(err, ConfigError::DuplicateKey { ref key } if key == "timestamp"));
/// assert_eq!(err.to_string(), "two top-level keys would both be named `timestamp`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Two envelope keys (after renaming, promotion and static fields) share a
    /// name. Rename one of them.
    #[error("two top-level keys would both be named `{key}`")]
    DuplicateKey {
        /// The shared name.
        key: String,
    },
    /// A key name is empty. Give it a name.
    #[error("the {what} key name is empty")]
    EmptyKey {
        /// Which key.
        what: String,
    },
    /// An `OTEL_RESOURCE_ATTRIBUTES` entry is not `key=value` (or its value is
    /// not valid percent-encoded UTF-8). Fix the variable or unset it.
    #[error("OTEL_RESOURCE_ATTRIBUTES entry `{entry}` is not `key=value`")]
    ResourceAttribute {
        /// The offending entry.
        entry: String,
    },
    /// An environment variable holds text that is not valid Unicode.
    #[error("environment variable {name} is not valid unicode")]
    NotUnicode {
        /// The variable's name.
        name: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_value_at_fault() {
        let e = ConfigError::ResourceAttribute {
            entry: "region".into(),
        };
        assert_eq!(
            e.to_string(),
            "OTEL_RESOURCE_ATTRIBUTES entry `region` is not `key=value`"
        );
        let e = ConfigError::EmptyKey {
            what: "message".into(),
        };
        assert_eq!(e.to_string(), "the message key name is empty");
    }
}
