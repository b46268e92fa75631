//! The category of an event, the value of the `event_type` key.
//!
//! Its own module because the envelope pre-encodes the built-in categories
//! and the record, the schema and the capture all name them.

use std::fmt;

/// The category of an event: the `event_type` key.
///
/// Five categories cover what teams log, plus `log` for events that are
/// none of them. A closed set that may grow, so it is a newtype with
/// constants rather than an enum.
///
/// ```
/// use eventlog::EventType;
///
/// assert_eq!(EventType::BUSINESS.as_str(), "business");
/// assert_eq!(EventType::ALL.len(), 6);
/// assert_eq!(EventType::from_name("security"), Some(EventType::SECURITY));
/// assert_eq!(EventType::from_name("other"), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EventType(&'static str);

impl EventType {
    /// Something a user did: `user_login_attempt`, `password_reset_requested`.
    pub const USER_ACTION: Self = Self("user_action");
    /// Something the system did: `service_started`, `job_completed`.
    pub const SYSTEM_EVENT: Self = Self("system_event");
    /// A business fact: `order_placed`, `payment_captured`.
    pub const BUSINESS: Self = Self("business");
    /// A failure: `payment_failed`, `timeout_occurred`. The default for `ERROR` events.
    pub const ERROR: Self = Self("error");
    /// A security-relevant fact: `access_denied`, `account_locked`.
    pub const SECURITY: Self = Self("security");
    /// None of the above. The default for events that do not say.
    pub const LOG: Self = Self("log");
    /// Every category.
    pub const ALL: [Self; 6] = [
        Self::USER_ACTION,
        Self::SYSTEM_EVENT,
        Self::BUSINESS,
        Self::ERROR,
        Self::SECURITY,
        Self::LOG,
    ];

    /// The category's name as written in records.
    pub const fn as_str(self) -> &'static str {
        self.0
    }

    /// The category with this name, if it is one of [`EventType::ALL`].
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.0 == name)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}
