//! Reading `OTEL_*` variables: through a lookup function, so tests give a
//! map (setting the process environment would race with other threads);
//! unset and blank are the same, non-UTF-8 is an error naming the variable.
//!
//! ```text
//!  Lookup (process_env, or a test's map) ─> var / var_pair ─> config, tls
//! ```

use std::ffi::OsString;

use crate::OtlpError;

/// Where variables come from: the process environment, or a map in tests.
pub(crate) type Lookup<'a> = &'a dyn Fn(&str) -> Option<OsString>;

/// The process environment.
pub(crate) fn process_env(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

/// Reads a variable; unset or blank is `None`, non-UTF-8 is an error.
pub(crate) fn var(env: Lookup<'_>, name: &'static str) -> Result<Option<String>, OtlpError> {
    match env(name).map(OsString::into_string) {
        None => Ok(None),
        Some(Ok(v)) if v.trim().is_empty() => Ok(None),
        Some(Ok(v)) => Ok(Some(v)),
        Some(Err(v)) => Err(OtlpError::Env {
            name,
            value: v.to_string_lossy().into_owned(),
            expected: "UTF-8 text",
        }),
    }
}

/// The logs-specific variable, else the generic one, with its name.
pub(crate) fn var_pair(
    env: Lookup<'_>,
    logs: &'static str,
    generic: &'static str,
) -> Result<Option<(&'static str, String)>, OtlpError> {
    Ok(match var(env, logs)? {
        Some(v) => Some((logs, v)),
        None => var(env, generic)?.map(|v| (generic, v)),
    })
}
