//! The CLI against hostile input: FIFOs, devices, file names that are not
//! UTF-8, invalid UTF-8 inside lines, lines without end, gzip bombs, every
//! file shape, and arguments from all of Unicode. Exit status 2 with a
//! message naming the path (and line) for errors; a panic is always a bug.

use std::io::{BufRead as _, Write as _};
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

use super::path;

/// A hang guard only, for commands that must not block.
const HANG_GUARD: Duration = Duration::from_secs(60);

const GOOD: &str = r#"{"timestamp":"2026-12-01T10:00:00.000001Z","level":"INFO","event_name":"order_placed","event_type":"business","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","metadata":{"amount":1.5}}"#;

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_eventlog")
}

/// Runs the binary on `args` (bytes, so paths need not be UTF-8).
fn run<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    Command::new(bin()).args(args).output().unwrap()
}

/// Whatever the input: a normal exit (0, 1 or 2, never a signal), no panic,
/// and an exit 2 says why on stderr, prefixed like every message.
fn assert_sane(out: &Output, what: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{what}: {err}");
    let code = out.status.code();
    assert!(
        matches!(code, Some(0..=2)),
        "{what}: {:?}: {err}",
        out.status
    );
    if code == Some(2) {
        assert!(
            err.starts_with("eventlog: ") || err.starts_with("error: "),
            "{what}: {err}"
        );
    }
}

fn stats_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap()
}

fn dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// The lines a child writes on stderr, as they come.
fn stderr_lines(child: &mut std::process::Child) -> mpsc::Receiver<String> {
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// Waits for a stderr line of `child` holding `needle`; the lines before
/// it too. Kills the child if none comes (it would outlive the test).
fn wait_for(
    child: &mut std::process::Child,
    lines: &mpsc::Receiver<String>,
    needle: &str,
) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        match lines.recv_timeout(HANG_GUARD) {
            Ok(line) => {
                let found = line.contains(needle);
                seen.push(line);
                if found {
                    return seen;
                }
            }
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("no stderr line with {needle:?} ({e}); got {seen:?}");
            }
        }
    }
}

/// See issue 13, item 10: `eventlog stats fifo` blocked in `open` forever,
/// saying nothing. Now it says it waits for a writer, then reads what the
/// writer writes until it closes.
#[test]
fn a_fifo_without_a_writer_says_it_waits_then_reads_it() {
    let d = dir();
    let fifo = d.path().join("events.jsonl");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let mut child = Command::new(bin())
        .args(["stats", path(&fifo), "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = stderr_lines(&mut child);
    let said = wait_for(&mut child, &lines, "waiting");
    assert!(
        said.last()
            .unwrap()
            .starts_with(&format!("eventlog: {}: ", path(&fifo))),
        "{said:?}"
    );
    let mut writer = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    writeln!(writer, "{GOOD}\n{GOOD}").unwrap();
    drop(writer);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stats_json(&out)["records"], 2);
}

/// See issue 13, item 10: a file whose name is not UTF-8 was skipped when
/// its directory was read (and with no other file, "no event files").
#[test]
fn a_non_utf8_file_name_in_a_directory_is_read() {
    let d = dir();
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.jsonl");
    std::fs::write(d.path().join(name), format!("{GOOD}\n")).unwrap();
    let out = run(&["stats", path(d.path()), "--json"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stats_json(&out)["records"], 1);
    // The record's file, as validate names it (lossily: it is JSON text).
    std::fs::write(d.path().join(name), "not json\n").unwrap();
    let out = run(&["validate", path(d.path()), "--json"]);
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let r = stats_json(&out);
    assert!(
        r["examples"][0]["file"]
            .as_str()
            .unwrap()
            .ends_with("caf\u{fffd}.jsonl"),
        "{r}"
    );
}

/// See issue 13, item 10: invalid UTF-8 inside a line was replaced by
/// U+FFFD silently, and `query` printed the replaced text. Now stderr names
/// the file, line and byte, and the line is printed as its bytes are.
#[test]
fn invalid_utf8_in_a_line_is_reported_with_file_and_line_and_printed_as_it_is() {
    let d = dir();
    let file = d.path().join("latin1.jsonl");
    let mut bytes = format!("{GOOD}\n").into_bytes();
    // `café` in Latin-1: a lone 0xE9 byte.
    bytes.extend_from_slice(
        br#"{"timestamp":"2026-12-01T10:00:01Z","level":"INFO","event_name":"order_placed","message":"caf"#,
    );
    bytes.extend_from_slice(b"\xe9\"}");
    bytes.push(b'\n');
    std::fs::write(&file, &bytes).unwrap();

    let out = run(&["query", path(&file), "--event", "order_placed"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(out.stdout, bytes, "both lines, byte for byte");
    let err = String::from_utf8_lossy(&out.stderr);
    let wanted = format!("eventlog: {}:2: invalid UTF-8 at byte ", path(&file));
    assert!(
        err.starts_with(&wanted) && err.lines().count() == 1,
        "{err}"
    );

    let out = run(&["stats", path(&file), "--json"]);
    let s = stats_json(&out);
    assert_eq!(
        (s["records"].as_u64(), s["invalid_utf8_lines"].as_u64()),
        (Some(2), Some(1))
    );

    let out = run(&["validate", path(&file), "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let r = stats_json(&out);
    assert_eq!(r["by_kind"]["invalid_utf8"], 1, "{r}");
    assert_eq!(r["examples"][0]["line"], 2);
    assert!(out.stderr.is_empty(), "validate reports in its report");
}

/// Runs `args` under a virtual memory limit of `kib`, so reading more than
/// the cap into memory aborts instead of slowing the machine.
fn limited(kib: u64, args: &[&str]) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(format!("ulimit -v {kib} && exec \"$0\" \"$@\""))
        .arg(bin())
        .args(args);
    c
}

/// See issue 13, item 10: `/dev/zero` (one line without end) was read into
/// memory until the allocation aborted. Now the line is reported once it
/// passes the cap, then skipped without being kept, in bounded memory.
#[test]
fn dev_zero_is_capped_not_an_allocation_abort() {
    let mut child = limited(200_000, &["stats", "/dev/zero"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = stderr_lines(&mut child);
    let said = wait_for(&mut child, &lines, "line longer than");
    assert_eq!(
        said,
        ["eventlog: /dev/zero:1: line longer than 16 MiB (--max-line-bytes): skipped"]
    );
    // Still reading, in bounded memory: /dev/zero has no end.
    assert!(child.try_wait().unwrap().is_none(), "it stopped");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_100_mb_line_is_skipped_and_counted_with_its_file_and_line() {
    let d = dir();
    let file = d.path().join("big.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
    writeln!(f, "{GOOD}").unwrap();
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..100 {
        f.write_all(&chunk).unwrap();
    }
    // No final newline on the last line.
    write!(f, "\n{GOOD}").unwrap();
    f.flush().unwrap();
    drop(f);

    let out = limited(200_000, &["stats", path(&file), "--json"])
        .output()
        .unwrap();
    assert_sane(&out, "stats");
    assert!(out.status.success(), "{out:?}");
    let s = stats_json(&out);
    assert_eq!(
        (&s["lines"], &s["records"], &s["too_long_lines"]),
        (&Value::from(3), &Value::from(2), &Value::from(1))
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim_end(),
        format!(
            "eventlog: {}:2: line longer than 16 MiB (--max-line-bytes): skipped\neventlog: 1 line longer than 16 MiB (--max-line-bytes) skipped",
            path(&file)
        )
    );

    let out = run(&[
        "validate",
        path(&file),
        "--json",
        "--max-line-bytes",
        "200MiB",
    ]);
    assert!(
        out.status.success() || out.status.code() == Some(1),
        "{out:?}"
    );
    let r = stats_json(&out);
    // Under a higher cap the line is read: it is not JSON.
    assert_eq!(r["by_kind"]["invalid_json"], 1, "{r}");
    let out = run(&["validate", path(&file), "--json"]);
    let r = stats_json(&out);
    assert_eq!(r["by_kind"]["line_too_long"], 1, "{r}");
    assert_eq!(r["examples"][0]["line"], 2, "{r}");
}

/// `report --bucket 1s` over records years apart built every empty bucket
/// first (6e11 here: an allocation abort). Now it is refused, naming the flag.
#[test]
fn report_over_years_in_1s_buckets_is_refused_not_an_allocation_abort() {
    let d = dir();
    let file = d.path().join("far.jsonl");
    std::fs::write(
        &file,
        "{\"timestamp\":\"0001-01-01T00:00:00Z\",\"level\":\"INFO\"}\n\
         {\"timestamp\":\"9999-01-01T00:00:00Z\",\"level\":\"INFO\"}\n",
    )
    .unwrap();
    let out = limited(200_000, &["report", path(&file), "--bucket", "1s"])
        .output()
        .unwrap();
    assert_sane(&out, "1s");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("eventlog: --bucket \"1s\": expected "),
        "{err}"
    );
    // Left to choose, it picks a width that fits.
    let out = run(&["report", path(&file), "--json"]);
    assert!(out.status.success(), "{out:?}");
    let r = stats_json(&out);
    assert!(r["buckets"].as_array().unwrap().len() <= 41, "{r}");
    let total: u64 = r["buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["records"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 2);
}

/// A gzip stream that inflates a thousand times (200 MiB of zeros, no
/// newline) under a 200 MB memory limit: capped like any line.
#[test]
fn a_gzip_bomb_is_read_in_bounded_memory() {
    let d = dir();
    let bomb = d.path().join("bomb.jsonl.gz");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&vec![0u8; 4 << 20]).unwrap();
    let member = encoder.finish().unwrap();
    let mut f = std::fs::File::create(&bomb).unwrap();
    // Concatenated members are one stream: 50 × 4 MiB.
    for _ in 0..50 {
        f.write_all(&member).unwrap();
    }
    let mut encoder = flate2::write::GzEncoder::new(f, flate2::Compression::fast());
    writeln!(encoder, "\n{GOOD}").unwrap();
    encoder.finish().unwrap();
    assert!(std::fs::metadata(&bomb).unwrap().len() < 1 << 20);

    let out = limited(200_000, &["stats", path(&bomb), "--json"])
        .output()
        .unwrap();
    assert_sane(&out, "bomb");
    assert!(out.status.success(), "{out:?}");
    let s = stats_json(&out);
    assert_eq!(
        (&s["records"], &s["too_long_lines"]),
        (&Value::from(1), &Value::from(1))
    );
}

fn symlink(target: impl AsRef<Path>, link: impl AsRef<Path>) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

/// Every file shape: each command reads it, exits normally with the right
/// status and counts, never panics.
#[test]
fn every_file_shape_is_read_or_named() {
    let d = dir();
    let p = |n: &str| d.path().join(n);
    let gz = |text: &[u8]| {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(text).unwrap();
        e.finish().unwrap()
    };
    let good2 = format!("{GOOD}\n{GOOD}\n");
    // (name, bytes, records stats counts, lines, exit status of stats)
    let shapes: Vec<(&str, Vec<u8>, u64, u64, i32)> = vec![
        ("empty.jsonl", Vec::new(), 0, 0, 0),
        ("newlines.jsonl", b"\n\n\r\n \n".to_vec(), 0, 0, 0),
        (
            "no_final_newline.jsonl",
            format!("{GOOD}\n{GOOD}").into_bytes(),
            2,
            2,
            0,
        ),
        (
            "crlf.jsonl",
            format!("{GOOD}\r\n{GOOD}\r\n").into_bytes(),
            2,
            2,
            0,
        ),
        (
            "nul.jsonl",
            format!("{GOOD}\n\0\0\0\n{GOOD}\0\n").into_bytes(),
            1,
            3,
            0,
        ),
        (
            "binary.jsonl",
            (0..=255u8).cycle().take(10_000).collect(),
            0,
            41,
            0,
        ),
        ("whole.jsonl.gz", gz(good2.as_bytes()), 2, 2, 0),
        ("gzip_named_plain.jsonl", gz(good2.as_bytes()), 2, 2, 0),
        (
            "truncated.jsonl.gz",
            {
                let whole = gz(good2.repeat(2000).as_bytes());
                whole[..whole.len() / 2].to_vec()
            },
            0,
            0,
            2,
        ),
        ("only_magic.jsonl.gz", vec![0x1f, 0x8b], 0, 0, 2),
        (
            "bad_gzip.jsonl.gz",
            [&[0x1f, 0x8b][..], &[0xff; 64]].concat(),
            0,
            0,
            2,
        ),
    ];
    for (name, bytes, records, lines, status) in &shapes {
        std::fs::write(p(name), bytes).unwrap();
        let out = run(&["stats", path(&p(name)), "--json"]);
        assert_sane(&out, name);
        assert_eq!(out.status.code(), Some(*status), "{name}: {out:?}");
        let s = stats_json(&out);
        if *name != "truncated.jsonl.gz" {
            assert_eq!(s["records"], *records, "{name}: {s}");
            assert_eq!(s["lines"], *lines, "{name}: {s}");
        }
        if *status == 2 {
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(
                err.contains(&format!("eventlog: {}: ", path(&p(name)))),
                "{name}: {err}"
            );
        }
        for args in [
            vec!["query", path(&p(name))],
            vec!["validate", path(&p(name))],
            vec!["trace", "req_1", path(&p(name))],
            vec!["report", path(&p(name)), "--json"],
        ] {
            assert_sane(&run(&args), &format!("{args:?}"));
        }
    }
    // CRLF lines print without their `\r`; NUL bytes are broken lines.
    let out = run(&["query", path(&p("crlf.jsonl"))]);
    assert_eq!(out.stdout, good2.as_bytes());
    let out = run(&["validate", path(&p("nul.jsonl")), "--json"]);
    assert_eq!(stats_json(&out)["by_kind"]["invalid_json"], 2);
}

/// In a directory: a subdirectory and a FIFO are not log files; a dangling
/// symlink is named, the rest still read, exit status 2. Given directly, a
/// dangling symlink, a missing file, an empty directory are errors naming it.
#[test]
fn every_directory_entry_is_read_skipped_or_named() {
    let d = dir();
    let p = |n: &str| d.path().join(n);
    let good2 = format!("{GOOD}\n{GOOD}\n");
    let logs = p("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(logs.join("a.jsonl"), &good2).unwrap();
    std::fs::create_dir(logs.join("sub.jsonl")).unwrap();
    std::fs::write(logs.join("sub.jsonl").join("x.jsonl"), &good2).unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(logs.join("pipe.jsonl"))
            .status()
            .unwrap()
            .success()
    );
    let out = run(&["stats", path(&logs), "--json"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stats_json(&out)["records"], 2);
    symlink("gone.jsonl", logs.join("dangling.jsonl"));
    let out = run(&["stats", path(&logs), "--json"]);
    assert_sane(&out, "dangling in dir");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert_eq!(stats_json(&out)["records"], 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "eventlog: {}: ",
            path(&logs.join("dangling.jsonl"))
        )),
        "{err}"
    );

    let empty = p("empty_dir");
    std::fs::create_dir(&empty).unwrap();
    for (given, says) in [
        (logs.join("dangling.jsonl"), "dangling.jsonl"),
        (p("missing.jsonl"), "missing.jsonl"),
        (empty.clone(), "no event files"),
    ] {
        let out = run(&["stats", path(&given)]);
        assert_sane(&out, says);
        assert_eq!(out.status.code(), Some(2));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{out:?}"
        );
    }
    // Devices read like pipes: /dev/null is empty.
    let out = run(&["stats", "/dev/null", "--json"]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(stats_json(&out)["lines"], 0);
}

/// A file the user may not read: named with the reason, the others read,
/// exit status 2. As root (who reads anything) the command runs as `nobody`.
#[test]
fn a_file_that_cannot_be_opened_is_named_and_the_rest_are_read() {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
    let d = dir();
    std::fs::set_permissions(d.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let readable = d.path().join("a.jsonl");
    std::fs::write(&readable, format!("{GOOD}\n")).unwrap();
    std::fs::set_permissions(&readable, std::fs::Permissions::from_mode(0o644)).unwrap();
    let secret = d.path().join("b.jsonl");
    std::fs::write(&secret, format!("{GOOD}\n")).unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o000)).unwrap();
    let as_root = std::fs::metadata(&secret).unwrap().uid() == 0;
    let mut command = if as_root {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"])
            .arg(bin());
        c
    } else {
        Command::new(bin())
    };
    let out = command
        .args(["stats", path(d.path()), "--json"])
        .output()
        .unwrap();
    assert_sane(&out, "permission denied");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let s = stats_json(&out);
    assert_eq!(s["records"], 1, "{s}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim_end(),
        format!(
            "eventlog: {}: cannot open: Permission denied (os error 13)",
            path(&secret)
        )
    );
}

/// A file rewritten while it is read: appended to, truncated, replaced.
/// Whatever is read is counted; nothing panics.
#[test]
fn a_file_that_grows_and_shrinks_while_read_is_read_sanely() {
    let d = dir();
    let file = d.path().join("busy.jsonl");
    let body = format!("{GOOD}\n").repeat(20_000);
    std::fs::write(&file, &body).unwrap();
    let (stop, stopped) = mpsc::channel::<()>();
    let writer = {
        let file = file.clone();
        let body = body.clone();
        std::thread::spawn(move || {
            let mut rounds = 0u32;
            while stopped.try_recv().is_err() {
                rounds += 1;
                if rounds.is_multiple_of(2) {
                    let f = std::fs::OpenOptions::new().write(true).open(&file).unwrap();
                    f.set_len(100).unwrap();
                } else {
                    let mut f = std::fs::OpenOptions::new()
                        .append(true)
                        .open(&file)
                        .unwrap();
                    f.write_all(body.as_bytes()).unwrap();
                }
            }
            rounds
        })
    };
    for _ in 0..5 {
        for args in [
            vec!["stats", path(&file), "--json"],
            vec!["query", path(&file), "--count"],
            vec!["validate", path(&file), "--json"],
        ] {
            let out = run(&args);
            assert_sane(&out, &format!("{args:?}"));
        }
    }
    stop.send(()).unwrap();
    assert!(writer.join().unwrap() > 0);
}

/// `--follow` on a file truncated in place (copytruncate): says so and
/// reads it again from its start.
#[test]
fn follow_reads_a_truncated_file_again_from_its_start() {
    let d = dir();
    let file = d.path().join("app.log");
    std::fs::write(&file, format!("{GOOD}\n{GOOD}\n")).unwrap();
    let mut child = Command::new(bin())
        .args(["query", path(&file), "--follow", "--limit", "3"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, printed) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            let _ = tx.send(line.unwrap());
        }
    });
    for _ in 0..2 {
        printed.recv_timeout(HANG_GUARD).unwrap();
    }
    let shorter = GOOD.replace("\"amount\":1.5", "\"n\":3");
    std::fs::write(&file, format!("{shorter}\n")).unwrap();
    let third: Value = serde_json::from_str(&printed.recv_timeout(HANG_GUARD).unwrap()).unwrap();
    assert_eq!(third["metadata"]["n"], 3);
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("was truncated: reading it from its start"),
        "{err}"
    );
}

/// `--follow` on what is not a regular file: a clear error, not a hang.
#[test]
fn follow_refuses_what_it_cannot_follow() {
    let d = dir();
    let fifo = d.path().join("pipe.jsonl");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    for (target, says) in [
        (fifo, "a regular file"),
        (d.path().to_owned(), "a regular file"),
        (PathBuf::from("/dev/zero"), "a regular file"),
        (d.path().join("missing.jsonl"), "missing.jsonl"),
    ] {
        let out = run(&["query", path(&target), "--follow"]);
        assert_sane(&out, says);
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(says),
            "{out:?}"
        );
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(
        std::env::var("EVENTLOG_CLI_ARG_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(96)
    ))]

    /// Any value from all of Unicode (and absurd numbers) for any flag of
    /// any reading command: exit 0, 1 or 2, never a panic, and an error
    /// names the flag.
    #[test]
    fn any_argument_value_is_taken_or_refused(
        command in proptest::sample::select(vec!["stats", "query", "report", "validate", "trace"]),
        flag in proptest::sample::select(vec![
            "--where", "--since", "--until", "--level", "--event", "--type", "--id",
            "--key", "--bucket", "--max-line-bytes", "--limit", "--top", "--by", "--examples",
            "--tz", "--since-last",
        ]),
        value in "\\PC{0,12}|[=!]{0,3}[a-z.]{0,4}[=!]{0,3}|-?[0-9]{1,30}[smhdKMG]?(iB)?|\\s*|[A-Za-z/_+:0-9-]{0,16}|today|yesterday|now|local|Europe/Paris",
    ) {
        let fixture = fixture_file();
        let out = Command::new(bin())
            .arg(command)
            .args(if command == "trace" { vec!["req_1"] } else { vec![] })
            .arg(fixture)
            .arg(format!("{flag}={value}"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        proptest::prop_assert!(!err.contains("panicked"), "{err}");
        proptest::prop_assert!(matches!(out.status.code(), Some(0..=2)), "{:?} {err}", out.status);
        if out.status.code() == Some(2) {
            proptest::prop_assert!(err.contains(flag) || err.starts_with("error: "), "{err}");
        }
    }
}

/// One small file of good records for argument tests.
fn fixture_file() -> &'static Path {
    static FILE: std::sync::OnceLock<(tempfile::TempDir, PathBuf)> = std::sync::OnceLock::new();
    &FILE
        .get_or_init(|| {
            let d = dir();
            let f = d.path().join("events.jsonl");
            std::fs::write(&f, format!("{GOOD}\n").repeat(3)).unwrap();
            (d, f)
        })
        .1
}
