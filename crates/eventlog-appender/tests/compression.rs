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
