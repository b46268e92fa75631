//! Where the limiter reads time: each event's own timestamp (taken once per
//! event anyway, so limits cost no clock read of their own), at a
//! millisecond's resolution, or a [`ManualClock`] that tests move by hand.
//!
//! ```text
//! event timestamp ─ within this thread's current millisecond? ─ yes: its nanoseconds, cached
//!                                                             └ no:  converted (duration_since), cached
//! ```
//!
//! Converting a `SystemTime` to nanoseconds cost 56 instructions per event
//! (callgrind, `per_event`: `duration_since` and `sub_timespec`), a quarter
//! of the limiter's budget; two comparisons with the cached millisecond
//! cost about ten. A bucket therefore refills up to 1 ms late, which no
//! rate a log budget uses can notice.

use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A clock that only moves when told to, for tests of rate limits and
/// summaries; clones share the time. Give it to
/// [`LimitsBuilder::clock`](crate::LimitsBuilder::clock).
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use eventlog::testing::ManualClock;
///
/// let clock = ManualClock::new(UNIX_EPOCH + Duration::from_secs(1_800_000_000));
/// clock.advance(Duration::from_millis(1500));
/// assert_eq!(clock.now(), UNIX_EPOCH + Duration::from_millis(1_800_000_001_500));
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicU64>);

impl ManualClock {
    /// A clock showing `start` (clamped to 1970 ..= 2554, what nanoseconds
    /// in a `u64` hold).
    pub fn new(start: SystemTime) -> Self {
        Self(Arc::new(AtomicU64::new(nanos_since_epoch(start))))
    }

    /// Moves the clock forward by `by` (saturating).
    pub fn advance(&self, by: Duration) {
        let by = u64::try_from(by.as_nanos()).unwrap_or(u64::MAX);
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |t| {
                Some(t.saturating_add(by))
            });
    }

    /// Sets the clock to `at` (backwards too: limits then refill nothing
    /// until time passes the old reading again).
    pub fn set(&self, at: SystemTime) {
        self.0.store(nanos_since_epoch(at), Ordering::Relaxed);
    }

    /// What the clock shows.
    pub fn now(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_nanos(self.0.load(Ordering::Relaxed))
    }

    fn nanos(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The limiter's time source.
#[derive(Debug, Clone, Default)]
pub(crate) enum Clock {
    /// The event's timestamp.
    #[default]
    Event,
    /// A test's clock.
    Manual(ManualClock),
}

impl Clock {
    /// Nanoseconds since the Unix epoch: the event's timestamp's (taken
    /// once per event anyway: no clock read of its own), or the manual
    /// clock's.
    #[inline]
    pub(crate) fn nanos(&self, timestamp: SystemTime) -> u64 {
        match self {
            Clock::Event => coarse_nanos(timestamp),
            Clock::Manual(clock) => clock.nanos(),
        }
    }
}

/// This thread's current millisecond: `[start, end)` and `start`'s nanoseconds.
#[derive(Clone, Copy)]
struct Tick {
    start: SystemTime,
    end: SystemTime,
    nanos: u64,
}

thread_local! {
    static TICK: Cell<Tick> = const {
        Cell::new(Tick { start: UNIX_EPOCH, end: UNIX_EPOCH, nanos: 0 })
    };
}

/// `timestamp` in nanoseconds since the epoch, rounded down to the
/// millisecond this thread last converted when it falls in it.
#[inline]
fn coarse_nanos(timestamp: SystemTime) -> u64 {
    TICK.try_with(|tick| {
        let cached = tick.get();
        if timestamp >= cached.start && timestamp < cached.end {
            return cached.nanos;
        }
        next_tick(tick, timestamp)
    })
    .unwrap_or_else(|_| nanos_since_epoch(timestamp))
}

#[cold]
#[inline(never)]
fn next_tick(tick: &Cell<Tick>, timestamp: SystemTime) -> u64 {
    let nanos = nanos_since_epoch(timestamp);
    let end = timestamp
        .checked_add(Duration::from_millis(1))
        .unwrap_or(timestamp);
    tick.set(Tick {
        start: timestamp,
        end,
        nanos,
    });
    nanos
}

/// `t` as nanoseconds since 1970, 0 before it, saturating after 2554.
pub(crate) fn nanos_since_epoch(t: SystemTime) -> u64 {
    nanos_of(t.duration_since(UNIX_EPOCH).unwrap_or_default())
}

/// A duration in nanoseconds, saturating after 584 years.
#[inline]
fn nanos_of(d: Duration) -> u64 {
    d.as_secs()
        .saturating_mul(1_000_000_000)
        .saturating_add(u64::from(d.subsec_nanos()))
}

/// The time `nanos` after the epoch.
pub(crate) fn time_of(nanos: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_nanos(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_time_is_exact_at_a_new_millisecond_and_never_runs_ahead() {
        let t0 = UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let at = |d: Duration| coarse_nanos(t0 + d);
        let base = nanos_since_epoch(t0);
        assert_eq!(at(Duration::ZERO), base);
        // Within the millisecond: the cached start.
        assert_eq!(at(Duration::from_micros(999)), base);
        // The next one is converted again, exactly.
        assert_eq!(at(Duration::from_micros(1500)), base + 1_500_000);
        // Time going back is converted too, not held at the later reading.
        assert_eq!(at(Duration::from_micros(200)), base + 200_000);
        assert_eq!(coarse_nanos(UNIX_EPOCH), 0);
    }
}
