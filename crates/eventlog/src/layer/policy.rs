//! What happens after a schema check: the [`Policy`] the layer applies to a
//! record that broke the schema. Here, not in the schema, because a policy
//! may send records to an [`Output`]: the schema only checks.

use std::fmt;

use crate::output::{JsonOutput, Output};

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
