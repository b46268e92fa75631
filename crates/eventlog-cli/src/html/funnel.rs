//! The funnel panel: per correlation id (request, session or user), how
//! far through a sequence of events it got, how long each step took, and
//! the paths ids take most.
//!
//! A step counts when its event comes after the previous step's (records
//! are taken in time order per id; an earlier repeat of a step is not a
//! second entry). Memory grows with the number of ids, capped at
//! [`MAX_IDS`]: ids past the cap are counted, not followed.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value};

use super::data::quantile_cont;

/// Ids followed at once.
const MAX_IDS: usize = 2_000_000;

/// Events of a path: its first distinct events, in order.
const PATH_LEN: usize = 6;

/// Paths the page lists.
const TOP_PATHS: usize = 10;

/// Which id a funnel follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum FunnelBy {
    Request,
    Session,
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

#[derive(Debug, Default)]
struct Progress {
    /// Steps reached so far.
    reached: usize,
    /// Milliseconds of the last step reached.
    at_ms: i64,
    path: Vec<u32>,
}

/// The funnel in progress.
#[derive(Debug)]
pub(crate) struct FunnelBuilder {
    steps: Vec<String>,
    by: FunnelBy,
    ids: HashMap<String, Progress>,
    untracked: u64,
    /// Milliseconds from step `i` to step `i + 1`, per id that made it.
    gaps: Vec<Vec<f64>>,
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
        let gaps = vec![Vec::new(); steps.len().saturating_sub(1)];
        Self {
            steps,
            by,
            ids: HashMap::new(),
            untracked: 0,
            gaps,
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
        if progress.path.len() < PATH_LEN && progress.path.last() != Some(&event_id) {
            progress.path.push(event_id);
        }
        if self.steps.get(progress.reached).is_some_and(|s| s == event) {
            if progress.reached > 0
                && let Some(gaps) = self.gaps.get_mut(progress.reached - 1)
            {
                #[allow(clippy::cast_precision_loss)] // Milliseconds between records.
                gaps.push((ms - progress.at_ms) as f64);
            }
            progress.reached += 1;
            progress.at_ms = ms;
        }
    }

    pub(crate) fn finish(mut self) -> Funnel {
        let mut reached = vec![0u64; self.steps.len()];
        let mut paths: HashMap<Vec<u32>, u64> = HashMap::new();
        for progress in self.ids.values() {
            for n in reached.iter_mut().take(progress.reached) {
                *n += 1;
            }
            *paths.entry(progress.path.clone()).or_default() += 1;
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
                    .and_then(|g| self.gaps.get_mut(g))
                    .filter(|g| !g.is_empty())
                    .map(|g| {
                        g.sort_by(f64::total_cmp);
                        quantile_cont(g, 0.5)
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
}
