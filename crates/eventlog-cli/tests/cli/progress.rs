//! The progress bar: drawn on a terminal's stderr while a scan runs (a
//! pseudo-terminal from util-linux's `script`), never on a pipe, nor
//! with `NO_COLOR` or `TERM=dumb`. The input is a FIFO the test writes,
//! so the scan lasts as long as the test wants, whatever the machine's speed.

use std::io::{Read as _, Write as _};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Longest wait for something the test expects (then it fails, never hangs).
const GUARD: Duration = Duration::from_secs(60);

fn fifo(dir: &Path) -> std::path::PathBuf {
    let f = dir.join("in.fifo");
    let made = Command::new("mkfifo").arg(&f).status().unwrap();
    assert!(made.success());
    f
}

fn records(n: usize) -> String {
    "{\"event_name\":\"e\",\"level\":\"INFO\"}\n".repeat(n)
}

/// A child's output as it comes, in chunks.
fn chunks(child: &mut Child) -> mpsc::Receiver<Vec<u8>> {
    let mut out = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = out.read(&mut buf) {
            if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                return;
            }
        }
    });
    rx
}

/// `eventlog stats --json FIFO` on a pseudo-terminal (stdin, stdout and
/// stderr all on it, 120 columns), with `env` set.
fn on_a_terminal(fifo: &Path, env: &[(&str, &str)]) -> Child {
    let command = format!(
        "stty cols 120 rows 40; exec '{}' stats --json '{}'",
        env!("CARGO_BIN_EXE_eventlog"),
        fifo.display()
    );
    let mut c = Command::new("script");
    c.args(["-qec", &command, "/dev/null"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c.spawn().expect("util-linux's `script` (Debian: bsdutils)")
}

/// Everything `rx` gets until the child ends.
fn rest(rx: &mpsc::Receiver<Vec<u8>>, mut seen: Vec<u8>) -> String {
    while let Ok(chunk) = rx.recv_timeout(GUARD) {
        seen.extend(chunk);
    }
    String::from_utf8_lossy(&seen).into_owned()
}

/// The stats object the command printed.
fn stats_of(text: &str) -> serde_json::Value {
    let from = text
        .find("{\"files\"")
        .unwrap_or_else(|| panic!("no stats in {text:?}"));
    let line = text[from..].split(['\r', '\n']).next().unwrap();
    serde_json::from_str(line).unwrap()
}

#[test]
fn a_terminal_gets_a_bar_while_reading_then_it_is_erased() {
    let dir = tempfile::tempdir().unwrap();
    let f = fifo(dir.path());
    let mut child = on_a_terminal(&f, &[("TERM", "xterm"), ("NO_COLOR", "")]);
    let rx = chunks(&mut child);
    let mut writer = std::fs::OpenOptions::new().write(true).open(&f).unwrap();
    writer.write_all(records(1000).as_bytes()).unwrap();
    // The scan waits for more: the bar shows, counting what was read.
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains("eventlog: reading") {
        seen.extend(rx.recv_timeout(GUARD).expect("a progress bar"));
    }
    writer.write_all(records(500).as_bytes()).unwrap();
    drop(writer);
    let text = rest(&rx, seen);
    assert!(child.wait().unwrap().success(), "{text}");
    // A FIFO's size is unknown: a spinner and the bytes read.
    assert!(text.contains("eventlog: reading "), "{text}");
    // Erased (`ESC [2K`) before the answer, which is whole.
    let erased = text.rfind("\x1b[2K").expect("the bar erased");
    let answer = text.find("{\"files\"").unwrap();
    assert!(erased < answer, "{text:?}");
    assert_eq!(stats_of(&text)["records"], 1500);
}

/// Feeds the FIFO, waits past the bar's delay with the scan still
/// waiting for input, then ends it.
fn feed_slowly(f: &Path) {
    let mut writer = std::fs::OpenOptions::new().write(true).open(f).unwrap();
    writer.write_all(records(1000).as_bytes()).unwrap();
    // Past the half second after which a bar would be drawn.
    std::thread::sleep(Duration::from_millis(1500));
    writer.write_all(records(500).as_bytes()).unwrap();
}

#[test]
fn no_bar_on_a_pipe_nor_with_no_color_or_a_dumb_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let f = fifo(dir.path());
    let child = Command::new(env!("CARGO_BIN_EXE_eventlog"))
        .args(["stats", "--json"])
        .arg(&f)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    feed_slowly(&f);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    // Piped stderr: not one byte of it.
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(s["records"], 1500);

    for env in [("NO_COLOR", "1"), ("TERM", "dumb")] {
        let mut child = on_a_terminal(&f, &[env]);
        let rx = chunks(&mut child);
        feed_slowly(&f);
        let text = rest(&rx, Vec::new());
        assert!(child.wait().unwrap().success(), "{text}");
        assert!(!text.contains("eventlog: reading"), "{env:?}: {text:?}");
        assert!(!text.contains('\x1b'), "{env:?}: {text:?}");
        assert_eq!(stats_of(&text)["records"], 1500, "{env:?}");
    }
}
