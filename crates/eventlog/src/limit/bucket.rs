//! The token bucket, as one atomic: the generic cell rate algorithm (GCRA).
//!
//! ```text
//! state = the theoretical arrival time (TAT) of the next event, in ns
//! event at t: base = max(TAT, t); base − t > tolerance ─> suppressed
//!                                 otherwise            ─> passes, TAT = base + interval
//! ```
//!
//! One compare-and-swap per passing event and none per suppressed one, no
//! lock, no clock of its own: `t` is the event's time. A fresh bucket (TAT
//! 0) holds a whole burst; time going backwards refills nothing.

use std::sync::atomic::{AtomicU64, Ordering};

use super::config::Budget;

/// A budget in the bucket's units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cell {
    /// Nanoseconds between two events at the rate (at least 1).
    pub(crate) interval: u64,
    /// How far ahead of `t` the TAT may run: `(burst − 1) × interval`,
    /// saturating (a huge burst is no limit).
    pub(crate) tolerance: u64,
}

impl Cell {
    /// The bucket form of a checked budget.
    pub(crate) fn of(budget: &Budget) -> Cell {
        // A checked budget has a non-zero rate; the fallback never runs.
        let interval = budget.rate.interval_ns().unwrap_or(u64::MAX);
        Cell {
            interval,
            tolerance: interval.saturating_mul(budget.burst_size().saturating_sub(1)),
        }
    }
}

/// Takes one token from the bucket whose state is `tat` at time `t`:
/// whether the event passes.
#[inline]
pub(crate) fn take(tat: &AtomicU64, t: u64, cell: Cell) -> bool {
    let mut current = tat.load(Ordering::Relaxed);
    loop {
        let base = current.max(t);
        if base - t > cell.tolerance {
            return false;
        }
        match tat.compare_exchange_weak(
            current,
            base.saturating_add(cell.interval),
            Ordering::Relaxed,
            Ordering::Relaxed,
        ) {
            Ok(_) => return true,
            Err(seen) => current = seen,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::limit::config::Rate;

    fn cell(per_second: u64, burst: u64) -> Cell {
        Cell::of(&Budget::new(Rate::per_second(per_second)).burst(burst))
    }

    #[test]
    fn a_fresh_bucket_passes_its_burst_then_the_rate() {
        let tat = AtomicU64::new(0);
        let c = cell(10, 3);
        let t0 = 1_000_000_000_000;
        let passed = (0..10).filter(|_| take(&tat, t0, c)).count();
        assert_eq!(passed, 3);
        // 100 ms later: one more token.
        assert!(take(&tat, t0 + 100_000_000, c));
        assert!(!take(&tat, t0 + 100_000_000, c));
        // A second later: a whole burst again, never more.
        let later = t0 + 5_000_000_000;
        assert_eq!((0..10).filter(|_| take(&tat, later, c)).count(), 3);
    }

    #[test]
    fn time_going_backwards_refills_nothing() {
        let tat = AtomicU64::new(0);
        let c = cell(1, 1);
        assert!(take(&tat, 10_000_000_000, c));
        assert!(!take(&tat, 1, c));
        assert!(!take(&tat, 10_500_000_000, c));
        assert!(take(&tat, 11_000_000_000, c));
    }

    #[test]
    fn extreme_budgets_saturate_instead_of_wrapping() {
        let tat = AtomicU64::new(0);
        let unlimited = cell(u64::MAX, u64::MAX);
        assert_eq!(unlimited.interval, 1);
        assert!((0..1000).all(|_| take(&tat, u64::MAX - 5, unlimited)));
        let slow = Cell::of(&Budget::new(Rate::new(1, std::time::Duration::MAX)));
        let tat = AtomicU64::new(0);
        assert!(take(&tat, 7, slow));
        assert!(!take(&tat, u64::MAX - 1, slow));
    }
}
