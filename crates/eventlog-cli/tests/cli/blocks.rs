//! Rotated files compressed in blocks with an index, by the real appender,
//! read by the real binary: the same answers with the index, without it,
//! and with every kind of broken index in its place.

// Pseudo-random bytes and bit positions: truncation is the point.
#![allow(clippy::cast_possible_truncation)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use eventlog_appender::RollingFile;

const NAMES: [&str; 6] = [
    "http_request_completed",
    "order_placed",
    "payment_failed",
    "cache_miss",
    "user_signup_failed",
    "job_retry_attempted",
];

struct Logs {
    _dir: tempfile::TempDir,
    /// As the appender left it: rotated `.gz` files with their indexes.
    indexed: PathBuf,
    /// The same files without any index.
    plain: PathBuf,
}

/// 40 000 records over a simulated hour, rotated at 1.5 MiB and
/// compressed in 64 KiB blocks: rare events, errors and traces cluster in
/// time, so whole blocks hold none of them.
fn logs() -> &'static Logs {
    static LOGS: OnceLock<Logs> = OnceLock::new();
    LOGS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let indexed = dir.path().join("indexed");
        let plain = dir.path().join("plain");
        let mut file = RollingFile::builder()
            .directory(&indexed)
            .max_bytes(3 << 19)
            .compress(true)
            .compress_block_bytes(64 << 10)
            .build()
            .unwrap();
        for i in 0..40_000u32 {
            let minute = i * 60 / 40_000;
            // Rare names only in the second quarter; errors only at the end.
            let name = if (10_000..20_000).contains(&i) {
                NAMES[(i % 6) as usize]
            } else {
                NAMES[(i % 2) as usize]
            };
            let level = if i > 39_000 && i % 3 == 0 { "ERROR" } else { "INFO" };
            let escaped = if i == 25_000 { "say \\\"hi\\\"" } else { "ok" };
            writeln!(
                file,
                "{{\"timestamp\":\"2026-12-01T10:{minute:02}:{:02}.{:06}Z\",\"level\":\"{level}\",\"event_name\":\"{name}\",\"event_type\":\"{}\",\"service\":\"svc{}\",\"trace_id\":\"{:032x}\",\"request_id\":\"req_{i}\",\"message\":\"{escaped}\",\"metadata\":{{\"duration_ms\":{}.5,\"reason\":\"r{}\"}}}}",
                i % 60,
                i,
                if level == "ERROR" { "error" } else { "system_event" },
                i % 4,
                i / 3,
                i % 500,
                i % 3,
            )
            .unwrap();
            if i == 30_000 {
                // A line no index vouches for: its block is always read.
                writeln!(file, "not json at all payment_failed").unwrap();
            }
        }
        drop(file); // waits for compression
        std::fs::create_dir(&plain).unwrap();
        for entry in std::fs::read_dir(&indexed).unwrap() {
            let p = entry.unwrap().path();
            let name = p.file_name().unwrap();
            let event_file = p.extension().is_some_and(|e| e == "gz")
                || (!p.is_symlink() && p.extension().is_some_and(|e| e == "jsonl"));
            if event_file {
                std::fs::copy(&p, plain.join(name)).unwrap();
            }
        }
        Logs {
            _dir: dir,
            indexed,
            plain,
        }
    })
}

/// stdout, exit status and stderr of the binary on `dir`, with what it skipped.
fn run(dir: &Path, args: &[&str]) -> (String, Option<i32>, String) {
    let mut all: Vec<&str> = args.to_vec();
    let dir = dir.to_str().unwrap();
    if let Some(at) = all.iter().position(|a| *a == "DIR") {
        all[at] = dir;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_eventlog"))
        .args(&all)
        .env("EVENTLOG_EXPLAIN", "1")
        .output()
        .unwrap();
    (
        String::from_utf8(out.stdout).unwrap(),
        out.status.code(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Blocks skipped, from the `EVENTLOG_EXPLAIN` line.
fn skipped(stderr: &str) -> u64 {
    stderr
        .lines()
        .find_map(|l| l.split("files, ").nth(1))
        .and_then(|r| r.split(' ').next())
        .map_or(0, |n| n.parse().unwrap())
}

const QUESTIONS: [&[&str]; 10] = [
    &["query", "DIR", "--event", "user_signup_failed"],
    &["query", "DIR", "--event", "job_retry_attempted", "--count"],
    &[
        "query", "DIR", "--level", "error", "--by", "service", "--format", "csv",
    ],
    &["query", "DIR", "--since", "2026-12-01T10:58:00Z", "--count"],
    &[
        "query",
        "DIR",
        "--until",
        "2026-12-01T10:01:00Z",
        "--event",
        "order_placed",
        "--count",
    ],
    &[
        "query",
        "DIR",
        "--type",
        "error",
        "--fields",
        "request_id,level",
    ],
    &[
        "query",
        "DIR",
        "--event",
        "payment_failed",
        "--where",
        "reason=r1",
        "--count",
    ],
    &["query", "DIR", "--event", "no_such_event", "--count"],
    &["trace", "req_33333", "DIR", "--json"],
    &["trace", "00000000000000000000000000001a0a", "DIR", "--json"],
];

#[test]
fn the_appender_left_blocked_files_with_indexes() {
    let logs = logs();
    let names: Vec<String> = std::fs::read_dir(&logs.indexed)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let gz = names.iter().filter(|n| n.ends_with(".jsonl.gz")).count();
    let idx = names
        .iter()
        .filter(|n| n.ends_with(".jsonl.gz.idx"))
        .count();
    assert!(gz >= 4, "{names:?}");
    assert_eq!(gz, idx, "{names:?}");
    // The index is never read as an event file: every line counted once.
    let (out, code, _) = run(&logs.indexed, &["query", "DIR", "--count"]);
    assert_eq!((out.trim(), code), ("40000", Some(0)));
}

#[test]
fn every_question_has_the_same_answer_with_and_without_the_index() {
    let logs = logs();
    let mut skipped_total = 0;
    for q in QUESTIONS {
        let with = run(&logs.indexed, q);
        let without = run(&logs.plain, q);
        assert_eq!((&with.0, with.1), (&without.0, without.1), "{q:?}");
        assert!(!with.0.is_empty() || with.1 == Some(1), "{q:?}");
        assert_eq!(skipped(&without.2), 0, "{q:?}");
        skipped_total += skipped(&with.2);
        // No note about the index: it checked out.
        assert!(!with.2.contains("index ignored"), "{}", with.2);
    }
    // Selective questions skip blocks without inflating them.
    let (_, _, err) = run(&logs.indexed, QUESTIONS[0]);
    assert!(skipped(&err) > 10, "{err}");
    let (_, _, err) = run(&logs.indexed, QUESTIONS[8]);
    assert!(skipped(&err) > 10, "{err}");
    assert!(skipped_total > 50, "{skipped_total}");
}

/// Re-sums an index's CRC, so a change passes that check and must be caught by the others.
fn resum(mut bytes: Vec<u8>) -> Vec<u8> {
    let n = bytes.len();
    let mut crc = flate2::Crc::new();
    crc.update(&bytes[..n - 4]);
    bytes[n - 4..].copy_from_slice(&crc.sum().to_le_bytes());
    bytes
}

#[test]
fn hostile_indexes_give_the_same_answers_as_none() {
    let logs = logs();
    let dir = tempfile::tempdir().unwrap();
    let mut gzs: Vec<PathBuf> = std::fs::read_dir(&logs.indexed)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "gz"))
        .collect();
    gzs.sort();
    // One file with the broken index, the others without any.
    let victim = dir.path().join(gzs[1].file_name().unwrap());
    std::fs::copy(&gzs[1], &victim).unwrap();
    let idx = eventlog_appender::blocks::index_path(&victim);
    let good = std::fs::read(eventlog_appender::blocks::index_path(&gzs[1])).unwrap();
    let other = std::fs::read(eventlog_appender::blocks::index_path(&gzs[2])).unwrap();
    let questions = [QUESTIONS[0], QUESTIONS[3], QUESTIONS[8]];
    std::fs::remove_file(&idx).ok();
    let want: Vec<_> = questions.iter().map(|q| run(dir.path(), q)).collect();
    let mut variants: Vec<(String, Vec<u8>)> = Vec::new();
    let step = (good.len() / 60).max(1);
    for cut in (0..good.len())
        .step_by(step)
        .chain(good.len() - 8..good.len())
    {
        variants.push((format!("cut at {cut}"), good[..cut].to_vec()));
    }
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for i in 0..40 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let mut flipped = good.clone();
        let bit = (x as usize) % (good.len() * 8);
        flipped[bit / 8] ^= 1 << (bit % 8);
        variants.push((format!("bit {bit} flipped"), flipped));
        let random: Vec<u8> = (0..(x % 4096) as usize)
            .map(|j| (x >> (j % 57)) as u8 ^ j as u8)
            .collect();
        variants.push((format!("random {i}"), random));
    }
    variants.push(("another file's index".into(), other));
    let mut v2 = good.clone();
    v2[8] = 2;
    variants.push(("version 2".into(), resum(v2)));
    // Checksum made right, file size changed: caught against the file.
    let mut sized = good.clone();
    sized[16] ^= 1;
    variants.push(("wrong size, checksum right".into(), resum(sized)));
    for (what, bytes) in &variants {
        std::fs::write(&idx, bytes).unwrap();
        for (q, want) in questions.iter().zip(&want) {
            let got = run(dir.path(), q);
            assert_eq!((&got.0, got.1), (&want.0, want.1), "{what}: {q:?}");
            assert_eq!(skipped(&got.2), 0, "{what}: {q:?}");
            assert!(
                got.2.matches("index ignored").count() <= 1,
                "{what}: {}",
                got.2
            );
        }
    }
    // The good one is used again.
    std::fs::write(&idx, &good).unwrap();
    let got = run(dir.path(), QUESTIONS[8]);
    assert_eq!((&got.0, got.1), (&want[2].0, want[2].1));
}

#[test]
fn zcat_reads_the_blocked_files_whole() {
    let logs = logs();
    for entry in std::fs::read_dir(&logs.indexed).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_none_or(|e| e != "gz") {
            continue;
        }
        let zcat = Command::new("zcat").arg(&p).output().unwrap();
        assert!(zcat.status.success());
        let mut whole = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::MultiGzDecoder::new(std::fs::File::open(&p).unwrap()),
            &mut whole,
        )
        .unwrap();
        assert_eq!(zcat.stdout, whole);
        assert!(whole.ends_with(b"\n"));
    }
}
