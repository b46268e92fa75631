//! The query benchmark's generator (`gen-events`): the same seed gives
//! the same bytes, every line is a record of the envelope, the skew and
//! the spread are what the benchmark claims, and the `.gz` set is the same
//! records as one rotated set of the appender's files.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read as _;
use std::path::Path;
use std::process::Command;

use eventlog_appender::read::LogFiles;

fn generate(dir: &Path, name: &str, seed: u64, gz: Option<&str>) -> Vec<u8> {
    let out = dir.join(name);
    let mut c = Command::new(env!("CARGO_BIN_EXE_gen-events"));
    c.args(["--seed", &seed.to_string(), "--bytes", "2MiB", "--out"])
        .arg(&out);
    if let Some(gz) = gz {
        c.arg("--gz-dir").arg(dir.join(gz)).args(["--parts", "5"]);
    }
    let status = c.status().unwrap();
    assert!(status.success());
    std::fs::read(out).unwrap()
}

#[test]
fn the_generator_is_deterministic_realistic_and_writes_a_rotated_gz_set() {
    let dir = tempfile::tempdir().unwrap();
    let first = generate(dir.path(), "a.jsonl", 18, Some("gz"));
    let again = generate(dir.path(), "b.jsonl", 18, None);
    let other = generate(dir.path(), "c.jsonl", 19, None);
    assert_eq!(first, again, "same seed, same bytes");
    assert_ne!(first, other);
    let size = first.len();
    assert!((2 << 20..(2 << 20) + 4096).contains(&size), "{size}");

    let text = String::from_utf8(first.clone()).unwrap();
    let mut events: BTreeMap<String, u64> = BTreeMap::new();
    let mut services = BTreeSet::new();
    let mut traces: BTreeMap<String, u64> = BTreeMap::new();
    let mut last = String::new();
    for line in text.lines() {
        let r = eventlog::ParsedRecord::parse(line).unwrap();
        let m = r.as_map();
        let keys: Vec<&str> = m.keys().map(String::as_str).collect();
        // Envelope order: the layer's keys, in the layer's order.
        assert_eq!(keys[..3], ["timestamp", "level", "event_name"], "{line}");
        let t = m["timestamp"].as_str().unwrap().to_owned();
        assert!(t >= last, "time-ordered: {t} after {last}");
        last = t;
        *events
            .entry(r.event_name().unwrap().to_owned())
            .or_default() += 1;
        services.insert(r.service().unwrap().to_owned());
        *traces
            .entry(m["trace_id"].as_str().unwrap().to_owned())
            .or_default() += 1;
        let meta = m["metadata"].as_object().unwrap();
        assert!((3..=8).contains(&meta.len()), "{line}");
        assert!(meta["duration_ms"].is_f64(), "{line}");
        if r.event_name().unwrap().ends_with("_failed") {
            assert!(meta["reason"].is_string(), "{line}");
        }
    }
    assert!(events.len() >= 40 && events.len() <= 43, "{events:?}");
    assert_eq!(services.len(), 8);
    // Zipf: the most frequent event is far above the median one.
    let mut counts: Vec<u64> = events.values().copied().collect();
    counts.sort_unstable();
    assert!(
        counts[counts.len() - 1] > 20 * counts[counts.len() / 2],
        "{counts:?}"
    );
    // Traces of several events.
    let several = traces.values().filter(|&&n| n >= 2).count();
    assert!(several * 2 > traces.len(), "{several} of {}", traces.len());

    // The .gz set: the appender's names, write order = the records' order.
    let files = LogFiles::new(dir.path().join("gz"), "events")
        .list()
        .unwrap();
    assert_eq!(files.len(), 5);
    let mut joined = Vec::new();
    for f in &files {
        assert!(f.is_compressed());
        flate2::read::GzDecoder::new(std::fs::File::open(f.path()).unwrap())
            .read_to_end(&mut joined)
            .unwrap();
    }
    assert_eq!(joined, first);
}
