//! How a command ends: the error that stops it, or the outcome that sets
//! the exit status (0 found, 1 nothing found or invalid, 2 error or
//! incomplete input). Every command module reports through these, so they
//! live apart from `main`, which only maps them to exit codes.

use std::path::Path;

/// Why a command could not run.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    #[error("{path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("no event files in {0} (looked for *.jsonl, *.jsonl.gz, *.json, *.log)")]
    NoInput(String),
    #[error(
        "no path given, no ./logs here, and nothing piped to stdin: name files or directories to read (or pipe records in; `-` reads stdin)"
    )]
    NoPath,
    #[error("{arg} {value:?}: expected {expected}")]
    BadArgument {
        arg: &'static str,
        value: String,
        expected: &'static str,
    },
    /// `--tz` named no zone of the system's database (or there is none).
    #[error(
        "--tz {name:?}: no such time zone{}: expected an IANA name such as Europe/Paris, UTC, local, or an offset such as +02:00",
        if *.no_database { " (this system has no tz database: install tzdata, or give UTC or an offset)" } else { " in the system's tz database" }
    )]
    UnknownZone { name: String, no_database: bool },
    /// `--tz local`, and the system's zone cannot be told.
    #[error("--tz local: cannot tell this system's time zone ({0}): set TZ, or give a zone name")]
    LocalZone(String),
    #[error("cannot load the schema")]
    Schema(#[from] eventlog::SchemaError),
    #[error("cannot write the output: {0}")]
    Output(#[source] std::io::Error),
}

impl CliError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        CliError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// What a command ended with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Done,
    /// Nothing matched, or validation failed.
    Negative,
    /// The answer was printed, but some input could not be read (named on
    /// stderr): exit status 2.
    Incomplete,
}
