//! `eventlog completions SHELL` and `eventlog man`: generated from the
//! clap definition the parser uses, so they cannot drift from it.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::shared::Out;
use crate::outcome::{CliError, Outcome};

pub(crate) fn completions(
    out: &mut Out<'_>,
    shell: clap_complete::Shell,
    mut command: clap::Command,
) -> Result<Outcome, CliError> {
    // Generated whole first: clap_complete panics on a failed write
    // (`| head`), a plain write reports it.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "eventlog", &mut script);
    out.write_all(&script).map_err(CliError::Output)?;
    Ok(Outcome::Done)
}

/// The page on stdout, or with `dir` a page per command written there
/// (their paths on stdout).
pub(crate) fn man(
    out: &mut Out<'_>,
    dir: Option<&Path>,
    command: clap::Command,
) -> Result<Outcome, CliError> {
    let Some(dir) = dir else {
        let mut page = Vec::new();
        clap_mangen::Man::new(command)
            .render(&mut page)
            .map_err(CliError::Output)?;
        out.write_all(&page).map_err(CliError::Output)?;
        return Ok(Outcome::Done);
    };
    let fail = |e| CliError::io(dir, e);
    std::fs::create_dir_all(dir).map_err(fail)?;
    clap_mangen::generate_to(command, dir).map_err(fail)?;
    let mut pages: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(fail)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("eventlog") && n.ends_with(".1"))
        })
        .collect();
    pages.sort();
    for page in pages {
        writeln!(out, "{}", page.display()).map_err(CliError::Output)?;
    }
    Ok(Outcome::Done)
}
