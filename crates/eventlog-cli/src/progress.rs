//! The progress bar of a long scan: bytes read of the files' size (a
//! spinner and a count for stdin or a FIFO, whose size is unknown), on
//! stderr, only when stderr is a terminal, `NO_COLOR` is unset or empty
//! and `TERM` is not `dumb`; it appears once a scan has run for
//! [`DELAY`], so quick answers never flash one, and is erased when the
//! scan ends. Piped or redirected, stderr gets only the notes it always
//! had.
//!
//! Workers add what they read to one counter (a relaxed atomic add per
//! read of up to a megabyte); a thread of its own redraws from it. Notes
//! printed meanwhile go through [`note`], which lifts the bar for them.

use std::io::IsTerminal as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long a scan runs before the bar appears.
const DELAY: Duration = Duration::from_millis(500);
/// How often it is redrawn.
const TICK: Duration = Duration::from_millis(100);

/// The bar on screen, if any: notes lift it.
static SHOWN: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Whether a bar may be drawn: stderr is a terminal a person reads.
fn wanted() -> bool {
    std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// Prints `line` on stderr, above the bar if one is drawn.
pub(crate) fn note(line: &str) {
    let shown = SHOWN.lock().unwrap_or_else(PoisonError::into_inner);
    match shown.as_ref() {
        Some(bar) => bar.suspend(|| eprintln!("{line}")),
        None => eprintln!("{line}"),
    }
}

/// A scan's progress: the counter its readers add to, and the thread
/// that draws it (none when stderr is not a terminal).
#[derive(Debug)]
pub(crate) struct Progress {
    read: Arc<AtomicU64>,
    drawing: Option<(Sender<()>, std::thread::JoinHandle<()>)>,
}

impl Progress {
    /// Starts counting; `total`: the bytes there are to read, if known.
    pub(crate) fn start(total: Option<u64>) -> Self {
        let read = Arc::new(AtomicU64::new(0));
        if !wanted() {
            return Progress {
                read,
                drawing: None,
            };
        }
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let counter = Arc::clone(&read);
        let drawer = std::thread::spawn(move || {
            if stopped.recv_timeout(DELAY) != Err(RecvTimeoutError::Timeout) {
                return;
            }
            let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr());
            let style = match total {
                Some(_) => ProgressStyle::with_template(
                    "eventlog: reading {binary_bytes}/{binary_total_bytes} [{bar:30}] {binary_bytes_per_sec}, {eta} left",
                ),
                None => ProgressStyle::with_template(
                    "eventlog: reading {spinner} {binary_bytes} ({binary_bytes_per_sec})",
                ),
            };
            if let Ok(style) = style {
                bar.set_style(style.progress_chars("=> "));
            }
            *SHOWN.lock().unwrap_or_else(PoisonError::into_inner) = Some(bar.clone());
            loop {
                bar.set_position(counter.load(Ordering::Relaxed));
                bar.tick();
                if stopped.recv_timeout(TICK) != Err(RecvTimeoutError::Timeout) {
                    break;
                }
            }
            *SHOWN.lock().unwrap_or_else(PoisonError::into_inner) = None;
            bar.finish_and_clear();
        });
        Progress {
            read,
            drawing: Some((stop, drawer)),
        }
    }

    /// The counter readers add the bytes they read to.
    pub(crate) fn counter(&self) -> &Arc<AtomicU64> {
        &self.read
    }
}

impl Drop for Progress {
    /// Erases the bar (the answer follows on stdout, notes on stderr).
    fn drop(&mut self) {
        if let Some((stop, drawer)) = self.drawing.take() {
            drop(stop);
            let _ = drawer.join();
        }
    }
}

/// A reader that adds what it reads to a progress counter.
#[derive(Debug)]
pub(crate) struct Counted<R> {
    pub(crate) inner: R,
    pub(crate) read: Arc<AtomicU64>,
}

impl<R: std::io::Read> std::io::Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}
