//! Self-reports: the one record an output writes about its own losses, once
//! it works again, so whoever reads the file or the collector sees the gap.
//!
//! ```text
//!  output lost records ─> (reason, dropped, total) ─> DropReporter ─> one line in the layer's envelope
//!   appender: NonBlockingBuilder::self_report(…)        eventlog-otlp: the same fields, as attributes
//! ```
//!
//! One shape for every output: event [`DROP_REPORT_EVENT`], type
//! `system_event`, level `WARN`, and under `metadata` the fields named in
//! [`drop_report_fields`]. A [`DropReporter`] writes it with the layer's
//! [`Envelope`](crate::Envelope) (renamed keys, static fields) and
//! deployment context, so the report reads like every other line.

use std::time::SystemTime;

use crate::encode::JsonBuf;
use crate::encode::layout::Layout;
use crate::envelope::Key;

/// The `target` of a self-report line (there is no `tracing` callsite).
const SELF_REPORT_TARGET: &str = "eventlog";

/// The `event_name` of every self-report.
///
/// ```
/// assert_eq!(eventlog::DROP_REPORT_EVENT, "log_records_dropped");
/// ```
pub const DROP_REPORT_EVENT: &str = "log_records_dropped";

/// The field names of a self-report's `metadata` (attributes, over OTLP).
///
/// ```
/// use eventlog::drop_report_fields as f;
///
/// assert_eq!([f::OUTPUT, f::REASON, f::DROPPED, f::TOTAL_DROPPED], ["output", "reason", "dropped", "total_dropped"]);
/// ```
pub mod drop_report_fields {
    /// Which output lost the records: `file`, `otlp`, or the name the
    /// application gave its [`DropReporter`](crate::DropReporter).
    pub const OUTPUT: &str = "output";
    /// Why, as [`DropReason::as_str`](crate::DropReason::as_str) writes it:
    /// `queue_full`, `io`, `shutdown`, `rejected`, `oversized`.
    pub const REASON: &str = "reason";
    /// Records lost for this reason since the previous report.
    pub const DROPPED: &str = "dropped";
    /// Records this output lost for any reason since it started.
    pub const TOTAL_DROPPED: &str = "total_dropped";
}

/// Writes self-reports in a layer's envelope; cheap to clone and `Send`, so
/// an output's worker thread can keep one.
///
/// Get one from [`EventLayer::drop_reporter`](crate::EventLayer::drop_reporter)
/// after the layer is configured. With `eventlog-appender`, hand it to the
/// writer:
///
/// ```text
/// let reporter = layer.drop_reporter("file");
/// NonBlocking::builder()
///     .self_report(move |r, out| reporter.write(r.reason.as_str(), r.count, r.total, out))
/// ```
///
/// ```
/// let layer = eventlog::layer().service("checkout");
/// let reporter = layer.drop_reporter("file");
/// let mut line = Vec::new();
/// reporter.write("queue_full", 12, 40, &mut line);
/// let json: serde_json::Value = serde_json::from_slice(&line)?;
/// assert_eq!(json["event_name"], "log_records_dropped");
/// assert_eq!(json["service"], "checkout");
/// assert_eq!(json["metadata"]["output"], "file");
/// assert_eq!(json["metadata"]["dropped"], 12);
/// assert_eq!(json["metadata"]["total_dropped"], 40);
/// assert_eq!(line.last(), Some(&b'\n'));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct DropReporter {
    layout: Layout,
    output: String,
}

impl DropReporter {
    pub(crate) fn new(layout: Layout, output: &str) -> Self {
        Self {
            layout,
            output: output.to_owned(),
        }
    }

    /// The output name the reports carry.
    ///
    /// ```
    /// assert_eq!(eventlog::layer().drop_reporter("otlp").output(), "otlp");
    /// ```
    pub fn output(&self) -> &str {
        &self.output
    }

    /// Appends one self-report line (`\n` included) stamped now: `dropped`
    /// records lost for `reason` since the previous report, `total` for any
    /// reason since the output started.
    ///
    /// ```
    /// let reporter = eventlog::layer().drop_reporter("file");
    /// let mut out = b"earlier\n".to_vec();
    /// reporter.write("io", 3, 3, &mut out);
    /// assert!(out.starts_with(b"earlier\n{"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write(&self, reason: &str, dropped: u64, total: u64, out: &mut Vec<u8>) {
        self.write_at(SystemTime::now(), reason, dropped, total, out);
    }

    /// [`write`](Self::write) with a given timestamp.
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    ///
    /// let reporter = eventlog::layer().drop_reporter("file");
    /// let mut out = Vec::new();
    /// reporter.write_at(UNIX_EPOCH + Duration::from_secs(1_795_596_607), "queue_full", 1, 1, &mut out);
    /// let json: serde_json::Value = serde_json::from_slice(&out)?;
    /// assert_eq!(json["timestamp"], "2026-11-25T08:50:07.000000Z");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_at(
        &self,
        at: SystemTime,
        reason: &str,
        dropped: u64,
        total: u64,
        out: &mut Vec<u8>,
    ) {
        use drop_report_fields as f;
        let layout = &self.layout;
        let e = layout.envelope();
        let mut line = JsonBuf::append_to(std::mem::take(out));
        line.raw(&layout.open_json);
        line.timestamp(at);
        line.raw(e.comma_key(Key::Level));
        line.str("WARN");
        line.raw(e.comma_key(Key::EventName));
        line.str(DROP_REPORT_EVENT);
        line.raw(e.comma_key(Key::EventType));
        line.str(crate::EventType::SYSTEM_EVENT.as_str());
        line.raw(e.comma_key(Key::Message));
        line.str(&format!(
            "{dropped} records dropped by the {} output: {reason}",
            self.output
        ));
        if e.writes(Key::Target) {
            line.raw(e.comma_key(Key::Target));
            line.str(SELF_REPORT_TARGET);
        }
        line.raw(layout.fixed_json());
        line.raw(e.comma_key(Key::Metadata));
        line.byte(b'{');
        line.key(f::OUTPUT);
        line.str(&self.output);
        line.byte(b',');
        line.key(f::REASON);
        line.str(reason);
        line.byte(b',');
        line.key(f::DROPPED);
        line.int(dropped);
        line.byte(b',');
        line.key(f::TOTAL_DROPPED);
        line.int(total);
        line.raw(b"}}\n");
        *out = line.into_vec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deployment::Deployment;
    use crate::envelope::Envelope;

    #[test]
    fn a_renamed_envelope_renames_the_report() {
        let envelope = Envelope::builder()
            .rename(Key::Timestamp, "@timestamp")
            .rename(Key::Metadata, "fields")
            .static_field("team", "payments")
            .build()
            .unwrap();
        let layout = Layout::new(envelope, Deployment::default().service("pay"));
        let mut out = Vec::new();
        DropReporter::new(layout, "fi\"le").write("queue_full", 2, 5, &mut out);
        let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert!(json.get("timestamp").is_none());
        assert!(json["@timestamp"].is_string());
        assert_eq!(json["team"], "payments");
        assert_eq!(json["service"], "pay");
        assert_eq!(json["fields"]["output"], "fi\"le");
        assert_eq!(json["fields"]["reason"], "queue_full");
        assert_eq!(json["level"], "WARN");
        assert_eq!(json["event_type"], "system_event");
    }

    proptest::proptest! {
        /// Any output name and reason (all of Unicode, empty, long) and any
        /// count give one valid JSON line that reads them back unchanged.
        #[test]
        fn any_output_name_and_reason_give_a_valid_line(
            output in proptest::prelude::any::<String>(),
            reason in proptest::prelude::any::<String>(),
            dropped in proptest::prelude::any::<u64>(),
            total in proptest::prelude::any::<u64>(),
        ) {
            let layout = Layout::new(Envelope::default(), Deployment::default());
            let mut out = Vec::new();
            DropReporter::new(layout, &output).write(&reason, dropped, total, &mut out);
            // One line: the only newline is the last byte.
            proptest::prop_assert_eq!(out.iter().position(|&b| b == b'\n'), Some(out.len() - 1));
            let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
            proptest::prop_assert_eq!(json["metadata"]["output"].as_str(), Some(output.as_str()));
            proptest::prop_assert_eq!(json["metadata"]["reason"].as_str(), Some(reason.as_str()));
            proptest::prop_assert_eq!(json["metadata"]["dropped"].as_u64(), Some(dropped));
            proptest::prop_assert_eq!(json["metadata"]["total_dropped"].as_u64(), Some(total));
        }
    }
}
