//! Reading a blocked `.gz` through its index: the members that may hold a
//! match are inflated, each as a unit of its own (so one big file is
//! shared among the cores), and the rest are skipped without being read.
//!
//! ```text
//! x.jsonl.gz ─ BlockIndex::open (x.jsonl.gz.idx, checked against the file)
//!    │ ok                           │ missing, cut short, corrupt, another file's, old version
//!    ▼                              ▼
//! [Piece]: Member { offset, len }   None: the file is read whole, as before
//!          Skipped { lines }  ◀─ BlockTest::may_match says no (known blocks only)
//! ```
//!
//! A block is skipped only when its index entry proves no line of it can
//! match: it is *known* (every line a record the index vouches for: no
//! invalid line, invalid UTF-8 or blank line, whose counts and notes would
//! differ), no line of it is over `--max-line-bytes`, and one of the
//! filter's conditions on event, category, level, time or id excludes
//! every line. A skipped block still counts its lines, so every answer and
//! every count is the same with the index as without it.

use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use eventlog_appender::blocks::{Block, BlockIndex, Field, IndexError};
use jiff::Timestamp;

use crate::filter::{Filter, level_rank};

/// What a block must be able to hold for its lines to be read: the
/// conditions of a [`Filter`] an index can answer; the others are left to
/// the lines.
#[derive(Debug, Default)]
pub(crate) struct BlockTest {
    events: Vec<String>,
    types: Vec<String>,
    min_level: Option<u8>,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
    ids: Vec<String>,
}

/// Keeps every block (commands without a filter; members still read in parallel).
pub(crate) static EVERY_BLOCK: BlockTest = BlockTest {
    events: Vec::new(),
    types: Vec::new(),
    min_level: None,
    since: None,
    until: None,
    ids: Vec::new(),
};

impl BlockTest {
    pub(crate) fn of(filter: &Filter) -> Self {
        BlockTest {
            events: filter.events.clone(),
            types: filter.types.clone(),
            min_level: filter.min_level,
            since: filter.since,
            until: filter.until,
            ids: filter.ids.clone(),
        }
    }

    /// Records of one id (`trace ID`).
    pub(crate) fn id(id: &str) -> Self {
        BlockTest {
            ids: vec![id.to_owned()],
            ..BlockTest::default()
        }
    }

    /// Whether some line of `block` may match (`true` unless proved otherwise).
    pub(crate) fn may_match(&self, block: &Block) -> bool {
        if !block.is_known() {
            return true;
        }
        let excluded = |list: &[String], field| {
            !list.is_empty() && !block.may_have(field, |v| list.iter().any(|e| e == v))
        };
        if excluded(&self.events, Field::EventName) || excluded(&self.types, Field::EventType) {
            return false;
        }
        if let Some(min) = self.min_level
            && !block.may_have(Field::Level, |l| level_rank(l).is_some_and(|r| r >= min))
        {
            return false;
        }
        if !self.ids.is_empty() && !self.ids.iter().any(|id| block.may_have_id(id)) {
            return false;
        }
        if let Some(((lo_s, lo_n), (hi_s, hi_n))) = block.time_range()
            && let (Ok(lo), Ok(hi)) = (
                Timestamp::new(lo_s, i32::try_from(lo_n).unwrap_or(0)),
                Timestamp::new(hi_s, i32::try_from(hi_n).unwrap_or(0)),
            )
        {
            // The window is [since, until).
            if self.since.is_some_and(|s| hi < s) || self.until.is_some_and(|u| lo >= u) {
                return false;
            }
        }
        true
    }
}

/// A part of an indexed `.gz` file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece {
    /// A member to inflate: `[offset, offset + len)` of the file.
    Member { offset: u64, len: u64 },
    /// Members that cannot match: their lines are counted, not read.
    Skipped { lines: u64 },
}

/// What the index saved, for `EVENTLOG_EXPLAIN=1`.
#[derive(Debug, Default)]
pub(crate) struct Savings {
    files: AtomicU64,
    blocks: AtomicU64,
    skipped: AtomicU64,
    skipped_bytes: AtomicU64,
}

/// One note per run about an index that is there but not used.
static NOTED: AtomicBool = AtomicBool::new(false);

/// The environment variable that makes stderr say what the indexes saved.
pub(crate) const EXPLAIN: &str = "EVENTLOG_EXPLAIN";

/// The pieces of the open gzip file `file` (at `path`), if it has an index
/// that checks out against it; `None` to read it whole.
pub(crate) fn pieces(
    path: &Path,
    file: &File,
    test: &BlockTest,
    max_line: usize,
    savings: &Savings,
) -> Option<Vec<Piece>> {
    let index = match BlockIndex::open(path, file) {
        Ok(index) => index,
        Err(IndexError::Read { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return None;
        }
        Err(e) => {
            if !NOTED.swap(true, Ordering::Relaxed) {
                eprintln!(
                    "eventlog: {}.idx: {e}: index ignored, the file is read whole",
                    path.display()
                );
            }
            return None;
        }
    };
    let mut out = Vec::with_capacity(index.blocks().len());
    savings.files.fetch_add(1, Ordering::Relaxed);
    for block in index.blocks() {
        savings.blocks.fetch_add(1, Ordering::Relaxed);
        let skip =
            block.is_known() && block.longest_line() <= max_line as u64 && !test.may_match(block);
        if skip {
            savings.skipped.fetch_add(1, Ordering::Relaxed);
            savings
                .skipped_bytes
                .fetch_add(block.uncompressed_len(), Ordering::Relaxed);
            match out.last_mut() {
                Some(Piece::Skipped { lines }) => *lines += block.lines(),
                _ => out.push(Piece::Skipped {
                    lines: block.lines(),
                }),
            }
        } else {
            out.push(Piece::Member {
                offset: block.offset(),
                len: block.compressed_len(),
            });
        }
    }
    Some(out)
}

impl Savings {
    /// Says on stderr what the indexes saved, if asked to.
    pub(crate) fn explain(&self) {
        if std::env::var_os(EXPLAIN).is_none_or(|v| v.is_empty() || v == "0") {
            return;
        }
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        #[allow(clippy::cast_precision_loss)] // a figure for people
        let mb = get(&self.skipped_bytes) as f64 / 1e6;
        eprintln!(
            "eventlog: block index: {} indexed files, {} of {} blocks skipped ({mb:.1} MB not inflated)",
            get(&self.files),
            get(&self.skipped),
            get(&self.blocks),
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn each_condition_can_exclude_a_block_and_unknown_blocks_are_always_read() {
        let text = "{\"timestamp\":\"2026-12-01T10:00:00Z\",\"level\":\"INFO\",\"event_name\":\"a\",\"event_type\":\"log\",\"trace_id\":\"t1\"}\n";
        let index =
            eventlog_appender::blocks::compress(text.as_bytes(), &mut Vec::new(), 1 << 20).unwrap();
        let block = &index.blocks()[0];
        let t = |s: &str| Some(s.parse().unwrap());
        let keeps = |f: Filter| BlockTest::of(&f).may_match(block);
        assert!(keeps(Filter::default()));
        assert!(!keeps(Filter {
            events: vec!["b".into()],
            ..Filter::default()
        }));
        assert!(keeps(Filter {
            events: vec!["b".into(), "a".into()],
            ..Filter::default()
        }));
        assert!(!keeps(Filter {
            types: vec!["error".into()],
            ..Filter::default()
        }));
        assert!(!keeps(Filter {
            min_level: Some(3),
            ..Filter::default()
        }));
        assert!(keeps(Filter {
            min_level: Some(2),
            ..Filter::default()
        }));
        assert!(!keeps(Filter {
            since: t("2026-12-01T10:00:00.000001Z"),
            ..Filter::default()
        }));
        assert!(keeps(Filter {
            since: t("2026-12-01T10:00:00Z"),
            ..Filter::default()
        }));
        assert!(!keeps(Filter {
            until: t("2026-12-01T10:00:00Z"),
            ..Filter::default()
        }));
        assert!(keeps(Filter {
            until: t("2026-12-01T10:00:00.000001Z"),
            ..Filter::default()
        }));
        assert!(!BlockTest::id("t2").may_match(block));
        assert!(BlockTest::id("t1").may_match(block));
        let odd =
            eventlog_appender::blocks::compress(&b"oops\n"[..], &mut Vec::new(), 1 << 20).unwrap();
        assert!(BlockTest::id("t2").may_match(&odd.blocks()[0]));
        assert_eq!(eventlog_appender::blocks::ID_KEYS, crate::filter::ID_KEYS);
    }
}
