use std::fs;
use std::io::Write;

use eventlog_appender::{RollingFile, Rotation};
use eventlog_tests::files::{appender_files, read};

use crate::util::{BEFORE_NINE, ManualClock, names};

#[test]
fn rotated_files_become_gzip_that_flate2_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::at_millis(BEFORE_NINE);
    let mut file = RollingFile::builder()
        .directory(dir.path())
        .rotation(Rotation::NEVER)
        .max_bytes(1000)
        .compress(true)
        .clock(clock.shared())
        .build()
        .unwrap();
    let mut expected = String::new();
    for i in 0..100 {
        let line = format!("{{\"i\":{i},\"text\":\"{}\"}}\n", "z".repeat(40));
        file.write_all(line.as_bytes()).unwrap();
        expected.push_str(&line);
    }
    let active = file.path().unwrap().to_owned();
    drop(file); // waits for the compression thread

    let paths = appender_files(dir.path(), "app");
    let all: String = paths.iter().map(|p| read(p)).collect();
    assert_eq!(all, expected);
    let names = names(&paths);
    assert!(names.len() > 5, "{names:?}");
    // Every file but the active one is compressed; no temp file is left.
    for path in &paths {
        let gz = path.extension().unwrap() == "gz";
        assert_eq!(!gz, *path == active, "{}", path.display());
        if gz {
            let raw = fs::read(path).unwrap();
            assert_eq!(&raw[..2], &[0x1f, 0x8b], "gzip magic");
        }
    }
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn startup_compresses_a_previous_run_and_removes_stale_temp_files() {
    let dir = tempfile::tempdir().unwrap();
    // A previous run that crashed: its active file, and a half-written gzip.
    let old = dir.path().join("app.20261125T070000.000Z.jsonl");
    fs::write(&old, b"{\"run\":1}\n").unwrap();
    let stale = dir.path().join("app.20261125T060000.000Z.jsonl.gz.tmp");
    fs::write(&stale, b"\x1f\x8b half").unwrap();
    let foreign = dir.path().join("other.20261125T060000.000Z.jsonl");
    fs::write(&foreign, b"not ours\n").unwrap();

    let file = RollingFile::builder()
        .directory(dir.path())
        .compress(true)
        .build()
        .unwrap();
    let stats = file.stats();
    drop(file);

    assert!(!old.exists() && !stale.exists());
    assert_eq!(
        read(&dir.path().join("app.20261125T070000.000Z.jsonl.gz")),
        "{\"run\":1}\n"
    );
    assert_eq!(fs::read_to_string(&foreign).unwrap(), "not ours\n");
    assert_eq!(stats.snapshot().compressions, 1);
}

/// The lines of `n` records as the layer writes them.
#[allow(clippy::format_collect)]
fn records(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{{\"timestamp\":\"2026-11-25T08:{:02}:{:02}.000000Z\",\"level\":\"{}\",\"event_name\":\"e{}\",\"trace_id\":\"{:032x}\",\"metadata\":{{\"pad\":\"{}\"}}}}\n",
                i / 60 % 60,
                i % 60,
                if i % 10 == 0 { "ERROR" } else { "INFO" },
                i % 5,
                i,
                "p".repeat(i % 300)
            )
        })
        .collect()
}

#[test]
fn rotated_files_are_blocked_gzip_with_an_index_that_checks_out() {
    use eventlog_appender::blocks::{BlockIndex, Field, index_path};
    let dir = tempfile::tempdir().unwrap();
    let mut file = RollingFile::builder()
        .directory(dir.path())
        .rotation(Rotation::NEVER)
        .max_bytes(3 << 20)
        .compress(true)
        .build()
        .unwrap();
    let text = records(20_000);
    file.write_all(text.as_bytes()).unwrap();
    let active = file.path().unwrap().to_owned();
    drop(file);
    let paths = appender_files(dir.path(), "app");
    let all: String = paths.iter().map(|p| read(p)).collect();
    assert_eq!(all, text);
    let mut blocks = 0;
    for gz in paths.iter().filter(|p| **p != active) {
        let raw = fs::read(gz).unwrap();
        // Any multi-member reader gets the file whole: flate2 …
        let mut whole = String::new();
        std::io::Read::read_to_string(&mut flate2::read::MultiGzDecoder::new(&raw[..]), &mut whole)
            .unwrap();
        // … and zcat.
        let zcat = std::process::Command::new("zcat").arg(gz).output().unwrap();
        assert!(zcat.status.success());
        assert_eq!(String::from_utf8(zcat.stdout).unwrap(), whole);
        let index = BlockIndex::open(gz, &fs::File::open(gz).unwrap()).unwrap();
        assert!(index.blocks().len() >= 2, "{}", index.blocks().len());
        assert_eq!(
            index
                .blocks()
                .iter()
                .map(eventlog_appender::blocks::Block::lines)
                .sum::<u64>(),
            whole.lines().count() as u64
        );
        for b in index.blocks() {
            assert!(b.is_known());
            assert!(b.uncompressed_len() <= (1 << 20) + 1000);
            assert!(b.may_have(Field::Level, |l| l == "ERROR"));
            assert!(!b.may_have(Field::EventName, |n| n == "e9"));
        }
        blocks += index.blocks().len();
        assert!(index_path(gz).exists());
    }
    assert!(blocks >= 3, "{blocks}");
    // Only the files: no temporary file and no index is listed as one.
    let listed = eventlog_appender::read::LogFiles::new(dir.path(), "app")
        .list()
        .unwrap();
    assert_eq!(listed.len(), paths.len());
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn retention_deletes_an_index_with_its_file_and_startup_removes_orphans() {
    let dir = tempfile::tempdir().unwrap();
    // A crash mid-index (its temp file), and an index whose file is gone.
    let stale = dir.path().join("app.20261125T060000.000Z.jsonl.ix.tmp");
    fs::write(&stale, b"half").unwrap();
    let orphan = dir.path().join("app.20261125T050000.000Z.jsonl.gz.idx");
    fs::write(&orphan, b"EVLOGIDX").unwrap();
    let foreign = dir.path().join("other.20261125T050000.000Z.jsonl.gz.idx");
    fs::write(&foreign, b"not ours").unwrap();
    let clock = ManualClock::at_millis(BEFORE_NINE);
    let mut file = RollingFile::builder()
        .directory(dir.path())
        .rotation(Rotation::MINUTELY)
        .compress(true)
        .keep(2)
        .clock(clock.shared())
        .build()
        .unwrap();
    for minute in 0..6 {
        writeln!(file, "{{\"minute\":{minute}}}").unwrap();
        clock.advance(std::time::Duration::from_secs(60));
    }
    drop(file);
    let mut left: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("app.") && n != "app.jsonl")
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            "app.20261125T090200.000Z.jsonl.gz",
            "app.20261125T090200.000Z.jsonl.gz.idx",
            "app.20261125T090300.000Z.jsonl.gz",
            "app.20261125T090300.000Z.jsonl.gz.idx",
            "app.20261125T090400.000Z.jsonl",
        ]
    );
    assert!(foreign.exists());
}
