use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use eventlog_appender::Clock;

/// A clock tests move by hand.
#[derive(Debug, Clone)]
pub(crate) struct ManualClock(Arc<Mutex<SystemTime>>);

impl ManualClock {
    pub(crate) fn at_millis(millis: u64) -> ManualClock {
        ManualClock(Arc::new(Mutex::new(
            UNIX_EPOCH + Duration::from_millis(millis),
        )))
    }

    pub(crate) fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }

    pub(crate) fn shared(&self) -> Arc<dyn Clock> {
        Arc::new(self.clone())
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap()
    }
}

/// 2026-11-25T08:59:59.500Z
pub(crate) const BEFORE_NINE: u64 = 1_795_597_199_500;

/// Regular files in `dir` named `prefix.<stamp>…` (the writer's own), sorted by name.
pub(crate) fn files(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            let stamped = name
                .strip_prefix(&format!("{prefix}."))
                .is_some_and(|rest| rest.len() > 9 && rest.as_bytes()[8] == b'T');
            let ours = [".jsonl", ".jsonl.gz", ".log"]
                .iter()
                .any(|s| name.ends_with(s));
            stamped && ours && !fs::symlink_metadata(p).unwrap().is_symlink()
        })
        .collect();
    out.sort();
    out
}

pub(crate) fn names(paths: &[PathBuf]) -> Vec<String> {
    paths
        .iter()
        .map(|p| p.file_name().unwrap().to_str().unwrap().to_owned())
        .collect()
}

/// The text of a file, gunzipped if its name ends in `.gz`.
pub(crate) fn read(path: &Path) -> String {
    let bytes = fs::read(path).unwrap();
    if path.extension().is_some_and(|e| e == "gz") {
        let mut text = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut text)
            .unwrap();
        text
    } else {
        String::from_utf8(bytes).unwrap()
    }
}

/// Every line of every file of `prefix` in `dir`, each parsed as JSON.
pub(crate) fn json_lines(dir: &Path, prefix: &str) -> Vec<serde_json::Value> {
    files(dir, prefix)
        .iter()
        .flat_map(|p| {
            let text = read(p);
            assert!(
                text.is_empty() || text.ends_with('\n'),
                "{} ends mid-line",
                p.display()
            );
            text.lines()
                .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A ~250-byte JSON line carrying a thread and sequence number.
pub(crate) fn line(thread: usize, seq: usize) -> String {
    format!(
        "{{\"timestamp\":\"2026-11-25T08:50:07.123456Z\",\"level\":\"INFO\",\"event_name\":\"order_placed\",\
         \"thread\":{thread},\"seq\":{seq},\"metadata\":{{\"order_id\":\"ord_{seq:08}\",\"amount\":72.49,\
         \"currency\":\"USD\",\"pad\":\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}}}}\n"
    )
}

/// Whether this process can write into a directory whose write bits are cleared (root can).
#[cfg(unix)]
pub(crate) fn permissions_are_enforced(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let probe = dir.join("probe");
    fs::create_dir(&probe).unwrap();
    fs::set_permissions(&probe, fs::Permissions::from_mode(0o555)).unwrap();
    let denied = fs::write(probe.join("x"), b"x").is_err();
    fs::set_permissions(&probe, fs::Permissions::from_mode(0o755)).unwrap();
    fs::remove_dir_all(&probe).unwrap();
    denied
}
