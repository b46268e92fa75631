//! The funnel panel: per correlation id (request, session or user), how
//! far through a sequence of events it got, how long each step took, and
//! the paths ids take most.
//!
//! A step counts when its event comes after the previous step's, by
//! timestamp: the records of one id may come from several services'
//! files, read one after another. Each id keeps its earliest step events
//! and its earliest events (a few dozen at most), ordered at the end.
//! Memory grows with the number of ids, capped at [`MAX_IDS`]: ids past
//! the cap are counted, not followed.

// FxHash: keyed by ids and names, once per record.
use rustc_hash::FxHashMap as HashMap;

use serde::Serialize;

use crate::aggregate::quantile_cont;

/// Steps a funnel may have.
pub(crate) const MAX_STEPS: usize = 32;

/// Why a funnel's steps were refused.
pub(crate) fn check_steps(steps: &[String]) -> Result<(), &'static str> {
    if steps.is_empty() || steps.len() > MAX_STEPS {
        return Err("from 1 to 32 event names, separated by commas");
    }
    if steps.iter().any(|s| s.trim().is_empty()) {
        return Err("event names, none of them empty");
    }
    Ok(())
}

/// Ids followed at once.
const MAX_IDS: usize = 2_000_000;

/// Events of a path: its first distinct events, in order.
const PATH_LEN: usize = 6;

/// The earliest events kept per id for its path.
const PATH_EVENTS: usize = 16;

/// The earliest step events kept per id.
const STEP_EVENTS: usize = 64;

/// Paths the page lists.
const TOP_PATHS: usize = 10;

/// Which id a funnel follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FunnelBy {
    /// `request_id`.
    Request,
    /// `session_id`.
    Session,
    /// `user_id`.
    User,
}

impl FunnelBy {
    /// The envelope key holding the id.
    pub(crate) fn key(self) -> &'static str {
        match self {
            FunnelBy::Request => "request_id",
            FunnelBy::Session => "session_id",
            FunnelBy::User => "user_id",
        }
    }
}

/// One id's earliest events, as `(milliseconds, what)`, in arrival order
/// (sorted stably at the end, so equal times keep their file order).
#[derive(Debug, Default)]
struct Progress {
    /// Records of this id (counted as untracked if the id is let go at a merge).
    records: u64,
    /// Step events: the step's index.
    steps: Vec<(i64, u8)>,
    /// Any events: the event's id.
    path: Vec<(i64, u32)>,
}

/// Keeps `item` if it is among the `cap` earliest.
fn keep_earliest<T: Copy>(list: &mut Vec<(i64, T)>, item: (i64, T), cap: usize) {
    if list.len() < cap {
        list.push(item);
        return;
    }
    let latest = list
        .iter()
        .enumerate()
        .max_by_key(|(_, (ms, _))| *ms)
        .map(|(i, (ms, _))| (i, *ms));
    if let Some((i, ms)) = latest
        && item.0 < ms
    {
        list.remove(i);
        list.push(item);
    }
}

/// The funnel in progress.
#[derive(Debug)]
pub(crate) struct FunnelBuilder {
    steps: Vec<String>,
    by: FunnelBy,
    ids: HashMap<String, Progress>,
    untracked: u64,
    events: HashMap<String, u32>,
    event_names: Vec<String>,
}

/// One step as the page shows it.
#[derive(Debug, Serialize)]
pub(crate) struct Step {
    pub(crate) event: String,
    /// Ids that reached this step.
    pub(crate) reached: u64,
    /// Median milliseconds from the step before (`None` for the first).
    pub(crate) median_ms_from_previous: Option<f64>,
}

/// The funnel's answer.
#[derive(Debug, Serialize)]
pub(crate) struct Funnel {
    /// `request_id`, `session_id` or `user_id`.
    pub(crate) by: &'static str,
    pub(crate) steps: Vec<Step>,
    /// Ids seen with any record.
    pub(crate) ids: u64,
    /// Records of ids past the cap, not followed.
    pub(crate) untracked: u64,
    /// `[bucket, reached step 1, reached step 2, …]`: the ids whose first
    /// step fell in each time bucket, so the page's time range can select
    /// them.
    pub(crate) starts: Vec<Vec<i64>>,
    /// The commonest paths: their first distinct events, and how many ids took each.
    pub(crate) paths: Vec<(Vec<String>, u64)>,
}

impl FunnelBuilder {
    /// A funnel through `steps` (event names), per `by`.
    pub(crate) fn new(steps: Vec<String>, by: FunnelBy) -> Self {
        Self {
            steps,
            by,
            ids: HashMap::default(),
            untracked: 0,
            events: HashMap::default(),
            event_names: Vec::new(),
        }
    }

    /// The funnel's steps.
    pub(crate) fn steps(&self) -> &[String] {
        &self.steps
    }

    /// Which id the funnel follows.
    pub(crate) fn by(&self) -> FunnelBy {
        self.by
    }

    fn event_id(&mut self, event: &str) -> u32 {
        if let Some(&id) = self.events.get(event) {
            return id;
        }
        let id = u32::try_from(self.event_names.len()).unwrap_or(u32::MAX);
        self.events.insert(event.to_owned(), id);
        self.event_names.push(event.to_owned());
        id
    }

    /// Takes one record of `id`, its event `event` at `ms` (in any order:
    /// steps are ordered by time at the end).
    pub(crate) fn add(&mut self, id: &str, event: &str, ms: i64) {
        if event.is_empty() {
            return;
        }
        let event_id = self.event_id(event);
        if !self.ids.contains_key(id) && self.ids.len() >= MAX_IDS {
            self.untracked += 1;
            return;
        }
        let steps = &self.steps;
        let progress = self.ids.entry(id.to_owned()).or_default();
        progress.records += 1;
        keep_earliest(&mut progress.path, (ms, event_id), PATH_EVENTS);
        // Every position the event holds in the funnel (a step may repeat).
        for (i, step) in steps.iter().enumerate() {
            if step == event
                && let Ok(i) = u8::try_from(i)
            {
                keep_earliest(&mut progress.steps, (ms, i), STEP_EVENTS);
            }
        }
    }

    /// Adds what `other` (the same steps, later records) followed: each
    /// id's earliest events kept as if one builder had seen them all.
    pub(crate) fn merge(&mut self, other: FunnelBuilder) {
        let events: Vec<u32> = other
            .event_names
            .iter()
            .map(|name| self.event_id(name))
            .collect();
        self.untracked += other.untracked;
        for (id, progress) in other.ids {
            if !self.ids.contains_key(&id) && self.ids.len() >= MAX_IDS {
                self.untracked += progress.records;
                continue;
            }
            let mine = self.ids.entry(id).or_default();
            mine.records += progress.records;
            for item in progress.steps {
                keep_earliest(&mut mine.steps, item, STEP_EVENTS);
            }
            for (ms, event) in progress.path {
                let event = events.get(event as usize).copied().unwrap_or(u32::MAX);
                keep_earliest(&mut mine.path, (ms, event), PATH_EVENTS);
            }
        }
    }

    /// The answer, with each id's start placed in buckets `bucket_ms` wide.
    pub(crate) fn finish(mut self, bucket_ms: i64) -> Funnel {
        let bucket_ms = bucket_ms.max(1);
        let mut reached = vec![0u64; self.steps.len()];
        let mut starts: std::collections::BTreeMap<i64, Vec<i64>> =
            std::collections::BTreeMap::new();
        let mut gaps: Vec<Vec<f64>> = vec![Vec::new(); self.steps.len().saturating_sub(1)];
        let mut paths: HashMap<Vec<u32>, u64> = HashMap::default();
        for progress in self.ids.values_mut() {
            progress.steps.sort_by_key(|&(ms, _)| ms);
            let (mut next, mut at_ms) = (0usize, 0i64);
            for &(ms, step) in &progress.steps {
                if usize::from(step) != next {
                    continue;
                }
                if let Some(g) = next.checked_sub(1).and_then(|g| gaps.get_mut(g)) {
                    #[allow(clippy::cast_precision_loss)] // Milliseconds between records.
                    g.push((ms - at_ms) as f64);
                }
                next += 1;
                at_ms = ms;
            }
            for n in reached.iter_mut().take(next) {
                *n += 1;
            }
            if let Some(&(first_ms, _)) = progress.steps.iter().find(|&&(_, step)| step == 0) {
                let row = starts
                    .entry(first_ms.div_euclid(bucket_ms))
                    .or_insert_with(|| vec![0; self.steps.len()]);
                for n in row.iter_mut().take(next) {
                    *n += 1;
                }
            }
            progress.path.sort_by_key(|&(ms, _)| ms);
            let mut path: Vec<u32> = Vec::with_capacity(PATH_LEN);
            for &(_, event) in &progress.path {
                if path.len() < PATH_LEN && path.last() != Some(&event) {
                    path.push(event);
                }
            }
            *paths.entry(path).or_default() += 1;
        }
        let mut paths: Vec<(Vec<u32>, u64)> = paths.into_iter().collect();
        paths.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let names = &self.event_names;
        let steps = self
            .steps
            .iter()
            .zip(reached)
            .enumerate()
            .map(|(i, (event, reached))| {
                let median = i
                    .checked_sub(1)
                    .and_then(|g| gaps.get_mut(g))
                    .filter(|g| !g.is_empty())
                    .map(|g| {
                        g.sort_by(f64::total_cmp);
                        quantile_cont(g, 0.5).unwrap_or(0.0)
                    });
                Step {
                    event: event.clone(),
                    reached,
                    median_ms_from_previous: median,
                }
            })
            .collect();
        Funnel {
            by: self.by.key(),
            steps,
            ids: self.ids.len() as u64,
            untracked: self.untracked,
            starts: starts
                .into_iter()
                .map(|(bucket, row)| std::iter::once(bucket).chain(row).collect())
                .collect(),
            paths: paths
                .into_iter()
                .take(TOP_PATHS)
                .map(|(path, n)| {
                    let path = path
                        .iter()
                        .filter_map(|&e| names.get(e as usize).cloned())
                        .collect();
                    (path, n)
                })
                .collect(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::float_cmp, clippy::indexing_slicing)] // Exact values; a bad index fails the test.
mod tests {
    use super::*;

    fn add(f: &mut FunnelBuilder, session: &str, event: &str, ms: i64) {
        f.add(session, event, ms);
    }

    #[test]
    fn steps_count_in_order_with_median_gaps() {
        let steps = ["checkout_started", "payment_captured", "order_placed"].map(String::from);
        let mut f = FunnelBuilder::new(steps.to_vec(), FunnelBy::Session);
        // a: all three; b: two; c: the second step before the first does not count.
        add(&mut f, "a", "checkout_started", 0);
        add(&mut f, "a", "payment_captured", 100);
        add(&mut f, "a", "order_placed", 130);
        add(&mut f, "b", "checkout_started", 0);
        add(&mut f, "b", "cart_viewed", 5);
        add(&mut f, "b", "payment_captured", 300);
        add(&mut f, "c", "payment_captured", 0);
        add(&mut f, "c", "checkout_started", 10);
        let funnel = f.finish(1_000);
        let reached: Vec<u64> = funnel.steps.iter().map(|s| s.reached).collect();
        assert_eq!(reached, [3, 2, 1]);
        assert_eq!(funnel.steps[1].median_ms_from_previous, Some(200.0));
        assert_eq!(funnel.steps[2].median_ms_from_previous, Some(30.0));
        assert_eq!(funnel.ids, 3);
        assert_eq!(funnel.paths.len(), 3);
    }

    #[test]
    fn steps_follow_timestamps_not_the_order_files_are_read_in() {
        let steps = ["checkout_started", "payment_captured", "order_placed"].map(String::from);
        let mut f = FunnelBuilder::new(steps.to_vec(), FunnelBy::Session);
        // checkout's file first (steps 1 and 3), then payments' (step 2).
        add(&mut f, "a", "checkout_started", 0);
        add(&mut f, "a", "order_placed", 50);
        add(&mut f, "a", "payment_captured", 20);
        let funnel = f.finish(1_000);
        let reached: Vec<u64> = funnel.steps.iter().map(|s| s.reached).collect();
        assert_eq!(reached, [1, 1, 1]);
        assert_eq!(funnel.steps[2].median_ms_from_previous, Some(30.0));
        assert_eq!(
            funnel.paths[0].0,
            ["checkout_started", "payment_captured", "order_placed"]
        );
    }

    #[test]
    fn two_halves_merged_answer_as_one_builder_and_starts_follow_the_first_step() {
        let steps = ["checkout_started", "payment_captured", "order_placed"].map(String::from);
        let records = [
            ("a", "checkout_started", 0),
            ("b", "cart_viewed", 3),
            ("a", "payment_captured", 100),
            ("b", "checkout_started", 1_500),
            ("c", "payment_captured", 1_600),
            ("a", "order_placed", 2_130),
            ("b", "payment_captured", 2_300),
            ("c", "checkout_started", 2_400),
        ];
        let answer = |split: usize| {
            let mut first = FunnelBuilder::new(steps.to_vec(), FunnelBy::Session);
            let mut second = FunnelBuilder::new(steps.to_vec(), FunnelBy::Session);
            for (i, &(id, event, ms)) in records.iter().enumerate() {
                let half = if i < split { &mut first } else { &mut second };
                half.add(id, event, ms);
            }
            first.merge(second);
            serde_json::to_value(first.finish(1_000)).unwrap()
        };
        let whole = answer(records.len());
        for split in 0..records.len() {
            assert_eq!(answer(split), whole, "split after {split} records");
        }
        // a started in second 0 and reached 3 steps; b and c in second 1
        // and 2, reaching 2 and 1.
        assert_eq!(
            whole["starts"],
            serde_json::json!([[0, 1, 1, 1], [1, 1, 1, 0], [2, 1, 0, 0]])
        );
    }
}
