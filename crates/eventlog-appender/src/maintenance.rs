//! The background thread that compresses rotated files and applies retention,
//! so neither runs on the caller's path nor on the writer's worker.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use crate::blocks;
use crate::clock::Clock;
use crate::file::open_new;
use crate::naming::{self, GZ, IDX_TMP, TMP};
use crate::stats::{Counter, WriterStats};

/// Which old files to delete; `None` disables that limit.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Retention {
    pub(crate) keep: Option<usize>,
    pub(crate) max_age: Option<Duration>,
    pub(crate) max_total_bytes: Option<u64>,
}

impl Retention {
    fn is_active(self) -> bool {
        self.keep.is_some() || self.max_age.is_some() || self.max_total_bytes.is_some()
    }
}

#[derive(Debug)]
pub(crate) struct Config {
    pub(crate) dir: PathBuf,
    pub(crate) prefix: String,
    pub(crate) suffix: String,
    pub(crate) compress: bool,
    /// Uncompressed bytes per gzip member.
    pub(crate) block_bytes: usize,
    pub(crate) retention: Retention,
    /// Size rotation limit: the active file is counted as this big (it will
    /// grow to it), so the total stays within `max_total_bytes` as it fills.
    pub(crate) max_bytes: Option<u64>,
    pub(crate) mode: u32,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) stats: WriterStats,
}

/// One unit of work, sent after every rotation (and once at start-up).
#[derive(Debug)]
pub(crate) struct Job {
    /// The file just closed, to compress.
    pub(crate) rotated: Option<PathBuf>,
    /// The file now being written: never compressed or deleted.
    pub(crate) active: PathBuf,
    /// Start-up: compress leftovers of a previous run, remove stale temp files.
    pub(crate) startup: bool,
}

/// Handle to the thread; dropping the sender lets it finish its queue and exit.
#[derive(Debug)]
pub(crate) struct Maintenance {
    jobs: Option<Sender<Job>>,
    done: Receiver<()>,
    handle: Option<JoinHandle<()>>,
}

impl Maintenance {
    pub(crate) fn spawn(config: Config, name: String) -> io::Result<Maintenance> {
        let (jobs, rx) = mpsc::channel();
        let (done_tx, done) = mpsc::channel::<()>();
        let handle = std::thread::Builder::new().name(name).spawn(move || {
            // Held until the loop ends: its drop tells `close` the queue is done.
            let _done = done_tx;
            while let Ok(job) = rx.recv() {
                run(&config, &job);
            }
        })?;
        Ok(Maintenance {
            jobs: Some(jobs),
            done,
            handle: Some(handle),
        })
    }

    pub(crate) fn send(&self, job: Job) {
        if let Some(jobs) = &self.jobs {
            // Only fails if the thread is gone, and then there is nobody to do the job.
            let _ = jobs.send(job);
        }
    }

    /// Lets the thread finish queued work, waiting until `deadline` (forever if `None`).
    /// Returns whether it finished.
    pub(crate) fn close(&mut self, deadline: Option<Instant>) -> bool {
        self.jobs = None;
        let finished = match deadline {
            None => {
                // Nobody sends: this returns when the thread drops its end.
                let _ = self.done.recv();
                true
            }
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                matches!(
                    self.done.recv_timeout(left),
                    Err(RecvTimeoutError::Disconnected) | Ok(())
                )
            }
        };
        if finished && let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
        finished
    }
}

fn run(config: &Config, job: &Job) {
    let mut to_compress: Vec<PathBuf> = job.rotated.iter().cloned().collect();
    if job.startup {
        to_compress.extend(startup_leftovers(config, &job.active));
    }
    if config.compress {
        for path in &to_compress {
            match compress(path, config.mode, config.block_bytes) {
                Ok(true) => config.stats.add(Counter::Compressions, 1),
                Ok(false) => {}
                Err(_) => config.stats.add(Counter::CompressionErrors, 1),
            }
        }
    }
    if config.retention.is_active() {
        apply_retention(config, &job.active);
    }
}

/// Uncompressed files of an earlier run (to compress) and stale temp files (removed).
fn startup_leftovers(config: &Config, active: &Path) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(&config.dir) else {
        return Vec::new();
    };
    let active_key = active
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| naming::parse(n, &config.prefix, &config.suffix))
        .map(|owned| (owned.stamp, owned.n));
    let mut leftovers = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let path = entry.path();
        if naming::is_stale_tmp(name, &config.prefix, &config.suffix) {
            let _ = fs::remove_file(&path);
        } else if naming::indexed(name, &config.prefix, &config.suffix).is_some() {
            // An index whose file is gone (deleted by hand, or a crash
            // between the renames and the file then deleted): nobody reads it.
            let gz = path.with_extension("");
            if !gz.exists() && !gz.with_extension("").exists() {
                let _ = fs::remove_file(&path);
            }
        } else if let Some(owned) = naming::parse(name, &config.prefix, &config.suffix)
            && !owned.compressed
            && active_key.is_some_and(|key| (owned.stamp, owned.n) < key)
        {
            // Only files older than this job's active file: if the job runs
            // late, newer files are rotated ones with their own jobs, or the
            // file being written now.
            leftovers.push(path);
        }
    }
    leftovers.sort();
    leftovers
}

fn with_ext(path: &Path, ext: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

/// Gzips `path` into `path.gz` in independent blocks, with its index in
/// `path.gz.idx` (see [`crate::blocks`]), each through a temporary file
/// (`path.gz.tmp`, `path.ix.tmp`) renamed into place once whole and on
/// disk, so a crash leaves no half file under a final name; then removes
/// `path`. The index is renamed first: once the `.gz` exists, so does its
/// index (a crash between the two leaves an index beside the plain file,
/// replaced when the file is compressed at the next start).
/// `Ok(false)` when `path` is already gone (retention got there first).
fn compress(path: &Path, mode: u32, block_bytes: usize) -> io::Result<bool> {
    let input = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    };
    let gz = with_ext(path, GZ);
    let tmp = with_ext(&gz, TMP);
    let idx = blocks::index_path(&gz);
    let idx_tmp = with_ext(path, IDX_TMP);
    let result = (|| {
        let _ = fs::remove_file(&tmp);
        let _ = fs::remove_file(&idx_tmp);
        let out = open_new(&tmp, mode)?;
        let mut out = BufWriter::with_capacity(64 << 10, out);
        let index = blocks::compress(
            io::BufReader::with_capacity(64 << 10, input),
            &mut out,
            block_bytes,
        )?;
        let out = out.into_inner().map_err(io::IntoInnerError::into_error)?;
        // Durable before the rename, or a crash could leave a complete-looking empty file.
        out.sync_all()?;
        let mut idx_file = open_new(&idx_tmp, mode)?;
        idx_file.write_all(&index.to_bytes())?;
        idx_file.sync_all()?;
        fs::rename(&idx_tmp, &idx)?;
        fs::rename(&tmp, &gz)
    })();
    if let Err(e) = result {
        let _ = fs::remove_file(&tmp);
        let _ = fs::remove_file(&idx_tmp);
        return Err(e);
    }
    fs::remove_file(path)?;
    Ok(true)
}

#[derive(Debug)]
struct OwnedFile {
    path: PathBuf,
    stamp: SystemTime,
    n: u32,
    compressed: bool,
    size: u64,
}

fn apply_retention(config: &Config, active: &Path) {
    let Ok(entries) = fs::read_dir(&config.dir) else {
        return;
    };
    let active_name = active
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let Some(active_owned) = naming::parse(active_name, &config.prefix, &config.suffix) else {
        return;
    };
    let active_key = (active_owned.stamp, active_owned.n);
    let mut files = Vec::new();
    let mut active_size = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(owned) = naming::parse(name, &config.prefix, &config.suffix) else {
            continue;
        };
        // `DirEntry::metadata` does not follow symlinks: a link impersonating one
        // of our names is measured, not its target.
        let mut size = entry.metadata().map_or(0, |m| m.len());
        if owned.compressed {
            // Its index lives and dies with it.
            size += fs::symlink_metadata(blocks::index_path(&entry.path())).map_or(0, |m| m.len());
        }
        if name == active_name {
            active_size = size;
            continue;
        }
        // Files at or after the job's active file were opened by later
        // rotations (this job ran late): their own jobs judge them.
        if (owned.stamp, owned.n) >= active_key {
            continue;
        }
        files.push(OwnedFile {
            path: entry.path(),
            stamp: owned.stamp,
            n: owned.n,
            compressed: owned.compressed,
            size,
        });
    }
    files.sort_by_key(|f| (f.stamp, f.n, f.compressed));
    let doomed = select_for_deletion(
        &files,
        config.retention,
        config.clock.now(),
        Some(active_owned.stamp),
        active_size.max(config.max_bytes.unwrap_or(0)),
    );
    for (file, doomed) in files.iter().zip(doomed) {
        if !doomed {
            continue;
        }
        if file.compressed {
            // The index first: an index without its file is never read,
            // but a file must not outlive its deletion by keeping one.
            let _ = fs::remove_file(blocks::index_path(&file.path));
        }
        match fs::remove_file(&file.path) {
            Ok(()) => config.stats.add(Counter::RetentionDeletions, 1),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(_) => config.stats.add(Counter::RetentionErrors, 1),
        }
    }
}

/// Marks files (sorted oldest first) that break a limit. A file's age is
/// measured from when the *next* file started, i.e. from its last line,
/// so no line younger than `max_age` is deleted.
fn select_for_deletion(
    files: &[OwnedFile],
    retention: Retention,
    now: SystemTime,
    active_stamp: Option<SystemTime>,
    active_size: u64,
) -> Vec<bool> {
    let mut doomed = vec![false; files.len()];
    if let Some(keep) = retention.keep {
        let excess = files.len().saturating_sub(keep);
        doomed[..excess].iter_mut().for_each(|d| *d = true);
    }
    if let Some(max_age) = retention.max_age {
        for (i, d) in doomed.iter_mut().enumerate() {
            let ended = files
                .get(i + 1)
                .map(|f| f.stamp)
                .or(active_stamp)
                .unwrap_or(now);
            if now.duration_since(ended).is_ok_and(|age| age > max_age) {
                *d = true;
            }
        }
    }
    if let Some(max_total) = retention.max_total_bytes {
        let mut total = files
            .iter()
            .zip(&doomed)
            .filter(|(_, d)| !**d)
            .fold(active_size, |acc, (f, _)| acc.saturating_add(f.size));
        for (f, d) in files.iter().zip(doomed.iter_mut()) {
            if total <= max_total {
                break;
            }
            if !*d {
                *d = true;
                total = total.saturating_sub(f.size);
            }
        }
    }
    doomed
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn files(stamps: &[(u64, u64)]) -> Vec<OwnedFile> {
        stamps
            .iter()
            .map(|&(secs, size)| OwnedFile {
                path: PathBuf::from(secs.to_string()),
                stamp: UNIX_EPOCH + Duration::from_secs(secs),
                n: 0,
                compressed: true,
                size,
            })
            .collect()
    }

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn keep_deletes_oldest_first() {
        let f = files(&[(10, 1), (20, 1), (30, 1), (40, 1)]);
        let r = Retention {
            keep: Some(1),
            ..Retention::default()
        };
        assert_eq!(
            select_for_deletion(&f, r, at(100), Some(at(50)), 0),
            [true, true, true, false]
        );
        let r = Retention {
            keep: Some(10),
            ..Retention::default()
        };
        assert_eq!(
            select_for_deletion(&f, r, at(100), Some(at(50)), 0),
            [false; 4]
        );
    }

    #[test]
    fn age_counts_from_the_next_file_start() {
        let f = files(&[(10, 1), (20, 1), (30, 1)]);
        let r = Retention {
            max_age: Some(Duration::from_secs(75)),
            ..Retention::default()
        };
        // ended at 20, 30, 50 → ages 80, 70, 50 at t = 100.
        assert_eq!(
            select_for_deletion(&f, r, at(100), Some(at(50)), 0),
            [true, false, false]
        );
    }

    #[test]
    fn total_bytes_counts_the_active_file() {
        let f = files(&[(10, 100), (20, 100), (30, 100)]);
        let r = Retention {
            max_total_bytes: Some(250),
            ..Retention::default()
        };
        assert_eq!(
            select_for_deletion(&f, r, at(100), Some(at(50)), 60),
            [true, true, false]
        );
        assert_eq!(
            select_for_deletion(&f, r, at(100), Some(at(50)), 0),
            [true, false, false]
        );
    }

    #[test]
    fn compress_writes_gzip_then_removes_the_original() {
        use std::io::Read;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jsonl");
        fs::write(&path, b"{\"n\":1}\n").unwrap();
        assert!(compress(&path, 0o640, 1 << 20).unwrap());
        assert!(!path.exists());
        let mut text = String::new();
        flate2::read::GzDecoder::new(File::open(dir.path().join("a.jsonl.gz")).unwrap())
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "{\"n\":1}\n");
        assert!(!compress(&path, 0o640, 1 << 20).unwrap());
    }
}
