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

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value};

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
    fn key(self) -> &'static str {
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
    /// Ids past the cap, not followed.
    pub(crate) untracked: u64,
    /// The commonest paths: their first distinct events, and how many ids took each.
    pub(crate) paths: Vec<(Vec<String>, u64)>,
}

impl FunnelBuilder {
    /// A funnel through `steps` (event names), per `by`.
    pub(crate) fn new(steps: Vec<String>, by: FunnelBy) -> Self {
        Self {
            steps,
            by,
            ids: HashMap::new(),
            untracked: 0,
            events: HashMap::new(),
            event_names: Vec::new(),
        }
    }

    /// Takes one record (in time order per id) at `ms`.
    pub(crate) fn add(&mut self, record: &Map<String, Value>, event: &str, ms: i64) {
        let Some(id) = record.get(self.by.key()).and_then(Value::as_str) else {
            return;
        };
        if event.is_empty() {
            return;
        }
        let next_event = u32::try_from(self.event_names.len()).unwrap_or(u32::MAX);
        let event_id = *self.events.entry(event.to_owned()).or_insert(next_event);
        if event_id == next_event {
            self.event_names.push(event.to_owned());
        }
        if !self.ids.contains_key(id) && self.ids.len() >= MAX_IDS {
            self.untracked += 1;
            return;
        }
        let progress = self.ids.entry(id.to_owned()).or_default();
        keep_earliest(&mut progress.path, (ms, event_id), PATH_EVENTS);
        // Every position the event holds in the funnel (a step may repeat).
        for (i, step) in self.steps.iter().enumerate() {
            if step == event
                && let Ok(i) = u8::try_from(i)
            {
                keep_earliest(&mut progress.steps, (ms, i), STEP_EVENTS);
            }
        }
    }

    pub(crate) fn finish(mut self) -> Funnel {
        let mut reached = vec![0u64; self.steps.len()];
        let mut gaps: Vec<Vec<f64>> = vec![Vec::new(); self.steps.len().saturating_sub(1)];
        let mut paths: HashMap<Vec<u32>, u64> = HashMap::new();
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
        let record: Map<String, Value> =
            serde_json::from_str(&format!(r#"{{"session_id":"{session}"}}"#)).unwrap();
        f.add(&record, event, ms);
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
        let funnel = f.finish();
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
        let funnel = f.finish();
        let reached: Vec<u64> = funnel.steps.iter().map(|s| s.reached).collect();
        assert_eq!(reached, [1, 1, 1]);
        assert_eq!(funnel.steps[2].median_ms_from_previous, Some(30.0));
        assert_eq!(
            funnel.paths[0].0,
            ["checkout_started", "payment_captured", "order_placed"]
        );
    }
}
