//! Helpers of the appender's tests alone: a hand-moved clock, file names,
//! test lines, tmpfs and full-disk set-ups. Reading files back is shared by
//! every crate's tests: `eventlog_tests::files`.

use std::fs;
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

pub(crate) fn names(paths: &[PathBuf]) -> Vec<String> {
    paths
        .iter()
        .map(|p| p.file_name().unwrap().to_str().unwrap().to_owned())
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

/// Set in a test process re-executed by [`on_tmpfs`]: the tmpfs mount point.
const TMPFS_ENV: &str = "EVENTLOG_APPENDER_TEST_TMPFS";

/// Runs `body` on a fresh tmpfs of `size` (`mount -o size=…` syntax, e.g. `1m`).
///
/// The test binary re-executes itself, running only the test `name`
/// (`module_path!()` and the function name), inside a private mount
/// namespace where it mounts the tmpfs: `unshare --user --map-root-user
/// --mount` works without root where user namespaces are allowed, and plain
/// `unshare --mount` as root. The mount vanishes with the child. When
/// neither works the test fails, naming what was tried: it never skips.
pub(crate) fn on_tmpfs(module: &str, name: &str, size: &str, body: impl FnOnce(&Path)) {
    if let Some(dir) = std::env::var_os(TMPFS_ENV) {
        body(Path::new(&dir));
        return;
    }
    let test = match module.split_once("::") {
        Some((_, rest)) => format!("{rest}::{name}"),
        None => name.to_owned(),
    };
    let root = tempfile::tempdir().unwrap();
    let mnt = root.path().join("mnt");
    fs::create_dir(&mnt).unwrap();
    let exe = std::env::current_exe().unwrap();
    // 97: the mount itself failed (distinct from a failing test, 101).
    let script = r#"mount -t tmpfs -o "size=$1" tmpfs "$2" || exit 97; shift 2; exec "$@""#;
    let mut tried = Vec::new();
    for unshare in [&["--user", "--map-root-user", "--mount"][..], &["--mount"]] {
        let out = std::process::Command::new("unshare")
            .args(unshare)
            .args(["sh", "-c", script, "sh", size])
            .arg(&mnt)
            .arg(&exe)
            .args([test.as_str(), "--exact", "--nocapture", "--test-threads=1"])
            .env(TMPFS_ENV, &mnt)
            .output();
        let out = match out {
            Ok(out) => out,
            Err(e) => {
                tried.push(format!("unshare {}: {e}", unshare.join(" ")));
                continue;
            }
        };
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        match out.status.code() {
            Some(0) => {
                assert!(
                    stdout.contains("test result: ok. 1 passed"),
                    "the re-executed test did not run {test}:\n{stdout}\n{stderr}"
                );
                return;
            }
            Some(101) => panic!("{test} failed on a {size} tmpfs:\n{stdout}\n{stderr}"),
            code => tried.push(format!(
                "unshare {}: exit {code:?}: {}",
                unshare.join(" "),
                stderr.trim()
            )),
        }
    }
    panic!(
        "cannot mount a tmpfs for {test}: this test needs util-linux `unshare` and either \
         user namespaces or root. Tried:\n{}",
        tried.join("\n")
    );
}

/// Fills the filesystem holding `path` with one file, then shrinks it to give
/// back `room` bytes; returns the file (delete it to free the space).
pub(crate) fn fill_leaving(path: &Path, room: u64) -> PathBuf {
    use std::io::Write;
    let mut file = fs::File::create(path).unwrap();
    let chunk = vec![b'#'; 64 << 10];
    loop {
        match file.write(&chunk) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if e.raw_os_error() == Some(28) => break, // ENOSPC
            Err(e) => panic!("filling {}: {e}", path.display()),
        }
    }
    let len = file.metadata().unwrap().len();
    assert!(len > room, "the filesystem holds only {len} bytes");
    file.set_len(len - room).unwrap();
    path.to_owned()
}

/// `builder` writing self-reports the way an eventlog application wires
/// them: in the layer's envelope, for the output `file`.
pub(crate) fn reporting(
    builder: eventlog_appender::NonBlockingBuilder,
) -> eventlog_appender::NonBlockingBuilder {
    let reporter = eventlog::layer().drop_reporter("file");
    builder.self_report(move |r, out| reporter.write(r.reason.as_str(), r.count, r.total, out))
}
