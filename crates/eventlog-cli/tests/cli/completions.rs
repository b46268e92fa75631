//! `eventlog completions SHELL` and `eventlog man`: generated from the
//! same clap definition as the parser, checked by the tools that read them
//! where Debian has them (bash, groff, man), by their structure otherwise.

use std::process::Command;

use super::{eventlog, stdout};

const COMMANDS: [&str; 8] = [
    "stats",
    "report",
    "query",
    "trace",
    "validate",
    "schema",
    "completions",
    "man",
];

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// What bash's completion of `words` (the last one being completed) offers.
fn bash_completes(script: &std::path::Path, words: &[&str]) -> Vec<String> {
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let cword = words.len() - 1;
    let prev = if cword > 0 { words[cword - 1] } else { "" };
    let program = format!(
        "source '{}'; COMP_WORDS=({}); COMP_CWORD={cword}; _eventlog eventlog '{}' '{prev}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        quoted.join(" "),
        words[cword]
    );
    let out = Command::new("bash")
        .args(["-c", &program])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_bash_script_parses_and_completes_commands_flags_and_values() {
    let out = eventlog(&["completions", "bash"]);
    assert!(out.status.success(), "{out:?}");
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("eventlog.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    let check = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(check.status.success(), "bash -n: {check:?}");
    assert_eq!(bash_completes(&script, &["eventlog", "st"]), ["stats"]);
    let flags = bash_completes(&script, &["eventlog", "query", "--t"]);
    for flag in ["--tz", "--threads", "--type"] {
        assert!(flags.iter().any(|f| f == flag), "{flag}: {flags:?}");
    }
    let shells = bash_completes(&script, &["eventlog", "completions", ""]);
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        assert!(shells.iter().any(|s| s == shell), "{shell}: {shells:?}");
    }
}

#[test]
fn every_shells_script_names_every_command_and_flag() {
    for (shell, opening) in [
        ("bash", "_eventlog() {"),
        ("zsh", "#compdef eventlog"),
        ("fish", "# Print an optspec for argparse"),
        ("elvish", "use builtin;"),
        ("powershell", "using namespace System.Management.Automation"),
    ] {
        let out = eventlog(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {out:?}");
        let text = stdout(&out);
        assert!(
            text.contains(opening),
            "{shell}: {}",
            text.get(..200).unwrap_or(&text)
        );
        // Flags as each shell writes them: fish says `-l tz`.
        for word in COMMANDS
            .iter()
            .chain(&["tz", "since", "max-line-bytes", "follow"])
        {
            assert!(text.contains(word), "{shell}: {word}");
        }
    }
    if have("zsh") {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("_eventlog");
        std::fs::write(&f, eventlog(&["completions", "zsh"]).stdout).unwrap();
        assert!(
            Command::new("zsh")
                .arg("-n")
                .arg(&f)
                .status()
                .unwrap()
                .success()
        );
    }
    if have("fish") {
        let out = eventlog(&["completions", "fish"]);
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("eventlog.fish");
        std::fs::write(&f, out.stdout).unwrap();
        assert!(
            Command::new("fish")
                .arg("--no-execute")
                .arg(&f)
                .status()
                .unwrap()
                .success()
        );
    }
    let bad = eventlog(&["completions", "cmd.exe"]);
    assert_eq!(bad.status.code(), Some(2));
}

/// groff's warnings (none expected) and the page as text, if groff is here.
fn groff(page: &[u8]) -> Option<(String, String)> {
    if !have("groff") {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("page.1");
    std::fs::write(&f, page).unwrap();
    // -k: UTF-8 in (preconv), -ww: every warning; wide lines, no
    // hyphenation and no overstrike, so the text can be searched.
    let out = Command::new("groff")
        .args([
            "-k",
            "-man",
            "-Tutf8",
            "-ww",
            "-rLL=300n",
            "-rHY=0",
            "-P-bcou",
        ])
        .arg(&f)
        .env("GROFF_NO_SGR", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    Some((
        String::from_utf8(out.stderr).unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ))
}

#[test]
fn the_man_page_renders_without_warnings_and_documents_every_command() {
    let out = eventlog(&["man"]);
    assert!(out.status.success(), "{out:?}");
    let page = stdout(&out);
    assert!(page.contains(".TH eventlog 1"), "{page}");
    for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "SUBCOMMANDS"] {
        assert!(page.contains(&format!(".SH {section}")), "{section}");
    }
    for word in COMMANDS
        .iter()
        .chain(&["\\-\\-tz", "\\-\\-max\\-line\\-bytes"])
    {
        assert!(page.contains(word), "{word}");
    }
    if let Some((warnings, text)) = groff(&out.stdout) {
        assert_eq!(warnings, "", "groff warnings");
        assert!(text.contains("eventlog - Stats, queries"), "{text}");
        assert!(text.contains("--tz <ZONE>"), "{text}");
    }
    if have("man") {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("eventlog.1");
        std::fs::write(&f, &out.stdout).unwrap();
        let shown = Command::new("man")
            .arg("-l")
            .arg(&f)
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "100")
            .output()
            .unwrap();
        assert!(shown.status.success(), "{shown:?}");
        assert!(String::from_utf8_lossy(&shown.stdout).contains("SUBCOMMANDS"));
    }
}

#[test]
fn man_dir_writes_a_page_per_command_and_names_them() {
    let dir = tempfile::tempdir().unwrap();
    let man1 = dir.path().join("share/man/man1");
    let out = eventlog(&["man", "--dir", man1.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    let listed: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    let mut want: Vec<String> = COMMANDS
        .iter()
        .map(|c| format!("eventlog-{c}.1"))
        .chain(["eventlog.1".to_owned()])
        .map(|n| man1.join(n).display().to_string())
        .collect();
    want.sort();
    assert_eq!(listed, want);
    for page in &listed {
        let bytes = std::fs::read(page).unwrap();
        assert!(
            String::from_utf8_lossy(&bytes).contains(".SH NAME"),
            "{page}"
        );
        if let Some((warnings, _)) = groff(&bytes) {
            assert_eq!(warnings, "", "{page}");
        }
    }
    // The query page documents the query's own flags.
    let query = std::fs::read_to_string(man1.join("eventlog-query.1")).unwrap();
    assert!(
        query.contains("\\-\\-since") && query.contains("\\-\\-follow"),
        "{query}"
    );
    // A directory that cannot be made is named.
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let bad = eventlog(&["man", "--dir", file.join("x").to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("a-file"));
}
