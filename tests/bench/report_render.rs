//! How fast headless Chromium draws an `eventlog report --html` page:
//! `report-render PAGE [RUNS]` opens it RUNS times (5 by default) in a
//! fresh browser each time and prints, per run, the milliseconds from
//! navigation to the page's first full draw (`eventlogReport.drawnMs`),
//! to `load` plus two frames, and one redraw for a brushed time range.
//!
//! ```text
//! cargo run --release -p eventlog-tests --bin report-render -- report.html
//! ```

#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::cast_precision_loss
)] // A command-line tool; sizes in MB.

use std::path::PathBuf;
use std::time::Instant;

use eventlog_tests::browser::Browser;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(page) = args.next().map(PathBuf::from) else {
        eprintln!("report-render: usage: report-render PAGE.html [RUNS]");
        std::process::exit(2);
    };
    let runs: usize = match args.next().map(|r| r.parse()) {
        None => 5,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("report-render: RUNS is a whole number above 0");
            std::process::exit(2);
        }
    };
    let bytes = std::fs::metadata(&page).map_or(0, |m| m.len());
    println!("{}: {:.2} MB", page.display(), bytes as f64 / 1e6);
    println!("run\tdrawn_ms\tload_2frames_ms\tbrush_redraw_ms");
    for run in 1..=runs {
        let mut browser = Browser::launch();
        let started = Instant::now();
        browser.open_file(&page);
        let loaded = started.elapsed().as_secs_f64() * 1e3;
        let drawn = browser.eval("window.eventlogReport.drawnMs");
        // The middle half of the range, as a drag would set it.
        let brush = browser.eval(
            "(() => { const r = window.eventlogReport; const [a, b] = r.buckets; \
             r.state.from = a + Math.floor((b - a) / 4); r.state.to = b - Math.floor((b - a) / 4); \
             const t = performance.now(); r.draw(); return performance.now() - t; })()",
        );
        let errors = browser.errors();
        if !errors.is_empty() {
            eprintln!("report-render: the page reported errors: {errors:?}");
            std::process::exit(1);
        }
        println!(
            "{run}\t{:.0}\t{loaded:.0}\t{:.0}",
            drawn.as_f64().unwrap_or(f64::NAN),
            brush.as_f64().unwrap_or(f64::NAN)
        );
    }
}
