//! What happens after a schema check: the [`Policy`] the layer applies to a
//! record that broke the schema. Here, not in the schema, because a policy
//! may send records to an [`Output`]: the schema only checks.

use std::fmt;

use crate::output::{JsonOutput, Output};

/// What a record that breaks the schema does.
///
/// ```
/// use eventlog::Policy;
/// use tracing_subscriber::prelude::*;
///
/// let main = eventlog::testing::Capture::new();
/// let dead = eventlog::testing::Capture::new();
/// let layer = eventlog::layer()
///     .writer(main.clone())
///     .schema(eventlog::Schema::recommended())
///     .schema_policy(Policy::dead_letter(dead.clone()));
/// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
///     // `user_login_attempt` requires a `result`.
///     tracing::info!(event_name = "user_login_attempt", user_id = "u-1");
/// });
/// assert!(main.records().is_empty());
/// let record = dead.expect_event("user_login_attempt");
/// let errors = record.get("schema_errors").unwrap().as_array().unwrap();
/// assert!(errors.iter().any(|e| e.as_str().unwrap().contains("`result`")), "{errors:?}");
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
