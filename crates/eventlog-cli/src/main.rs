//! The `eventlog` command; everything but `main` is in the library.

#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    eventlog_cli::run_cli()
}
