//! The `log_events_dropped` line the worker writes after drops, so readers
//! of the file see the gap.
//!
//! ```text
//!  DropReport { reason, count, total }
//!    ─> {"timestamp":"…","level":"WARN","event_name":"log_events_dropped",…,"metadata":{…}}
//! ```

use std::io::Write;
use std::time::SystemTime;

use crate::clock;
use crate::stats::{DropReason, DropReport};

fn reason_text(reason: DropReason) -> &'static str {
    match reason {
        DropReason::QueueFull => "the queue was full",
        DropReason::Oversized => "each was larger than the whole queue",
        DropReason::Io => "writing failed after every retry",
        DropReason::Shutdown => "they arrived after shutdown",
    }
}

/// The `log_events_dropped` line, in the eventlog envelope (version 1) shape.
pub(super) fn write_self_report(out: &mut Vec<u8>, report: &DropReport, now: SystemTime) {
    out.extend_from_slice(b"{\"timestamp\":\"");
    clock::push_rfc3339(out, now);
    // Only fixed ASCII text and integers follow: nothing needs escaping.
    let _ = writeln!(
        out,
        "\",\"level\":\"WARN\",\"event_name\":\"log_events_dropped\",\"event_type\":\"system_event\",\
         \"message\":\"{count} log lines dropped: {text}\",\
         \"metadata\":{{\"dropped\":{count},\"reason\":\"{reason}\",\"total_dropped\":{total}}}}}",
        count = report.count,
        text = reason_text(report.reason),
        reason = report.reason.as_str(),
        total = report.total,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn self_report_is_an_envelope_line() {
        let mut out = Vec::new();
        let t = UNIX_EPOCH + Duration::from_micros(1_795_596_607_123_456);
        write_self_report(&mut out, &DropReport::new(DropReason::QueueFull, 12, 40), t);
        assert_eq!(out.last(), Some(&b'\n'));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"timestamp\":\"2026-11-25T08:50:07.123456Z\",\"level\":\"WARN\",\
             \"event_name\":\"log_events_dropped\",\"event_type\":\"system_event\",\
             \"message\":\"12 log lines dropped: the queue was full\",\
             \"metadata\":{\"dropped\":12,\"reason\":\"queue_full\",\"total_dropped\":40}}\n"
        );
    }
}
