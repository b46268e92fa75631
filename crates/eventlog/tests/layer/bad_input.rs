//! Odd values still give exactly one valid JSON line, values intact.

use eventlog::testing::Capture;
use tracing_subscriber::prelude::*;

use crate::support::{assert_no_duplicate_keys, run, run_with};

const NASTY: &str = "quote\" backslash\\ newline\n cr\r tab\t nul\0 bell\u{7} esc\u{1b} del\u{7f} \
                     é 漢字 🙂 \u{2028}\u{2029} {\"json\":\"injection\"}\n{\"level\":\"ERROR\"}";

#[test]
fn hostile_strings_stay_one_line_and_round_trip() {
    let capture = Capture::new();
    let subscriber = tracing_subscriber::registry().with(eventlog::layer().writer(capture.clone()));
    tracing::subscriber::with_default(subscriber, || {
        let _s = tracing::info_span!("span", payload = NASTY, request_id = NASTY).entered();
        tracing::info!(event_name = "nasty", value = NASTY, debug = ?NASTY, "{}", NASTY);
    });
    let text = capture.text();
    assert_eq!(text.matches('\n').count(), 1, "exactly one line: {text}");
    assert_no_duplicate_keys(text.trim_end());
    let r = &capture.records()[0];
    assert_eq!(r.metadata("value").unwrap(), NASTY);
    assert_eq!(
        r.metadata("debug").unwrap().as_str().unwrap(),
        format!("{NASTY:?}")
    );
    assert_eq!(r.message(), Some(NASTY));
    assert_eq!(r.span_field("payload").unwrap(), NASTY);
    assert_eq!(r.get("request_id").unwrap(), NASTY);
}

#[test]
fn debug_output_of_arbitrary_bytes_is_valid() {
    let bytes: Vec<u8> = (0..=255).collect();
    let lossy = String::from_utf8_lossy(&[0xff, 0xfe, b'a', 0xc3]).into_owned();
    let records = run(
        || tracing::info!(event_name = "bytes", raw = ?bytes, lossy = %lossy, slice = ?&b"\xff\x00\"x"[..]),
    );
    assert_eq!(
        records[0].metadata("raw").unwrap().as_str().unwrap(),
        format!("{bytes:?}")
    );
    assert_eq!(records[0].metadata("lossy").unwrap(), lossy.as_str());
}

#[test]
fn non_finite_floats_become_strings() {
    let records = run(|| {
        tracing::info!(
            event_name = "floats",
            nan = f64::NAN,
            inf = f64::INFINITY,
            ninf = f64::NEG_INFINITY,
            tiny = f64::MIN_POSITIVE,
            neg_zero = -0.0f64
        );
    });
    let r = &records[0];
    assert_eq!(r.metadata("nan").unwrap(), "NaN");
    assert_eq!(r.metadata("inf").unwrap(), "Infinity");
    assert_eq!(r.metadata("ninf").unwrap(), "-Infinity");
    assert_eq!(
        r.metadata("tiny").unwrap().as_f64().unwrap(),
        f64::MIN_POSITIVE
    );
    assert_eq!(r.metadata("neg_zero").unwrap().as_f64().unwrap(), 0.0);
}

#[test]
fn huge_strings_are_cut_with_a_visible_marker() {
    let huge = "é".repeat(50_000); // 100 000 bytes
    let records = run_with(eventlog::layer().max_value_bytes(1001), || {
        let _s = tracing::info_span!("s", big_span_field = huge.as_str()).entered();
        tracing::info!(event_name = "huge", big = huge.as_str(), dbg = ?huge, "{huge}");
    });
    let r = &records[0];
    let cut = r.metadata("big").unwrap().as_str().unwrap();
    assert!(cut.ends_with("…[truncated]"), "{}", &cut[cut.len() - 20..]);
    let kept = cut.strip_suffix("…[truncated]").unwrap();
    assert_eq!(
        kept.len(),
        1000,
        "cut on a char boundary at or below the cap"
    );
    assert!(huge.starts_with(kept));
    for v in [
        r.metadata("dbg").unwrap(),
        r.get("message").unwrap(),
        r.span_field("big_span_field").unwrap(),
    ] {
        let v = v.as_str().unwrap();
        assert!(v.len() <= 1001 + "…[truncated]".len() && v.ends_with("…[truncated]"));
    }
}

#[test]
fn the_default_cap_keeps_ordinary_values_whole() {
    let long = "x".repeat(eventlog::DEFAULT_MAX_VALUE_BYTES);
    let records = run(|| tracing::info!(event_name = "long", v = long.as_str()));
    assert_eq!(records[0].metadata("v").unwrap(), long.as_str());
}

#[test]
fn errors_are_written_with_their_sources() {
    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("payment gateway call failed")
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }
    let err = Outer(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "connect timed out",
    ));
    let records = run(|| {
        tracing::error!(
            event_name = "payment_failed",
            error = &err as &dyn std::error::Error
        );
    });
    assert_eq!(
        records[0].metadata("error").unwrap(),
        "payment gateway call failed: connect timed out"
    );
}

/// A value whose `Debug` panics, as a buggy user type (or a bug in the
/// redactor, issue #13 item 1) would.
struct PanicsInDebug;

impl std::fmt::Debug for PanicsInDebug {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        panic!("Debug of PanicsInDebug")
    }
}

// Issue #13, item 1: a panic inside `Span::record` poisoned the span's
// extension lock; with close records on, the span's drop then aborted the
// process, and without them later callbacks on the span panicked.
#[test]
fn a_panic_while_recording_a_span_field_does_not_poison_the_span() {
    let capture = eventlog::testing::Capture::new();
    let layer = eventlog::layer().close_events(true).writer(capture.clone());
    let stats = layer.stats();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let span = tracing::info_span!("request", request_id = "r-1", bad = tracing::field::Empty);
        let _entered = span.enter();
        span.record("bad", tracing::field::debug(PanicsInDebug));
        tracing::info!(event_name = "after_the_panic");
        tracing::info_span!("next").in_scope(|| tracing::info!(event_name = "in_the_next_span"));
    });
    let records = capture.records();
    let names: Vec<_> = records.iter().filter_map(|r| r.event_name()).collect();
    assert_eq!(
        names,
        [
            "after_the_panic",
            "in_the_next_span",
            "next_completed",
            "request_completed"
        ]
    );
    assert_eq!(records[0].str("request_id"), Some("r-1"));
    assert_eq!(stats.snapshot().internal_errors, 1);
}
