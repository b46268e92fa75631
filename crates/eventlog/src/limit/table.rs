//! The bounded key table: one slot per key (a bucket plus what its summary
//! gathers), found without a lock.
//!
//! ```text
//! key hash ─> slot_of ─> probe up to PROBES slots ─┬─ the key's slot        (a load and a compare)
//!                                                  ├─ an empty slot: claim it (compare-and-swap), unless max_keys are taken
//!                                                  └─ none: the rule's overflow slot, shared and counted
//! ```
//!
//! The table is allocated once, at twice `max_keys` slots (so probes stay
//! short), and never grows: a million distinct `user_id`s cost no more
//! memory than `max_keys` of them. Keys are 64-bit hashes of the key's
//! value, seeded per layer; two values with the same hash (about one pair
//! in 2^64) would share a bucket.

use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use crate::fields::FieldBuf;

/// How many slots a lookup tries before it gives up on a slot of its own.
const PROBES: usize = 8;

/// No key: an empty slot.
const EMPTY: u64 = 0;

/// Why an event was suppressed; a key's rate-limited and sampled-out
/// events are summarised apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reason {
    RateLimited = 0,
    Sampled = 1,
}

impl Reason {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Reason::RateLimited => "rate_limited",
            Reason::Sampled => "sampled",
        }
    }
}

/// Which rule and reason a slot counts for, packed: `rule << 1 | reason`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Meta(u32);

impl Meta {
    const UNSET: u32 = u32::MAX;

    pub(crate) fn new(rule: usize, reason: Reason) -> Meta {
        Meta(u32::try_from(rule).unwrap_or(Self::UNSET >> 1) << 1 | reason as u32)
    }

    /// The packed bits, to tell rules and reasons apart in key hashes.
    pub(crate) fn bits(self) -> u32 {
        self.0
    }

    pub(crate) fn rule(self) -> usize {
        (self.0 >> 1) as usize
    }

    pub(crate) fn reason(self) -> Reason {
        if self.0 & 1 == 0 {
            Reason::RateLimited
        } else {
            Reason::Sampled
        }
    }
}

/// The first suppressed event of a summary: its key and fields, copied
/// (already redacted) when the summary starts.
#[derive(Debug, Clone)]
pub(crate) struct Example {
    pub(crate) key: String,
    pub(crate) event_name: Option<String>,
    pub(crate) message: Option<String>,
    pub(crate) fields: FieldBuf,
    /// When the first event was suppressed, ns since the epoch.
    pub(crate) first: u64,
}

/// One key: its bucket and its pending summary.
#[derive(Debug)]
pub(crate) struct Slot {
    key: AtomicU64,
    meta: AtomicU32,
    /// The bucket's state (see `bucket`).
    pub(crate) tat: AtomicU64,
    /// Suppressed events not yet in a summary.
    pub(crate) pending: AtomicU64,
    /// When the last of them was suppressed, ns.
    pub(crate) last: AtomicU64,
    /// When the pending summary is due, ns.
    pub(crate) due: AtomicU64,
    /// Taken only when a summary starts (its first event) and when it is
    /// written: never on the hot path.
    pub(crate) example: Mutex<Option<Box<Example>>>,
}

impl Slot {
    fn new(key: u64, meta: u32) -> Slot {
        Slot {
            key: AtomicU64::new(key),
            meta: AtomicU32::new(meta),
            tat: AtomicU64::new(0),
            pending: AtomicU64::new(0),
            last: AtomicU64::new(0),
            due: AtomicU64::new(u64::MAX),
            example: Mutex::new(None),
        }
    }

    pub(crate) fn meta(&self) -> Option<Meta> {
        let m = self.meta.load(Ordering::Acquire);
        (m != Meta::UNSET).then_some(Meta(m))
    }

    /// Takes the pending summary's example, if there is one.
    pub(crate) fn lock_example(&self) -> std::sync::MutexGuard<'_, Option<Box<Example>>> {
        self.example.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The slots of every keyed budget of one layer.
#[derive(Debug)]
pub(crate) struct Table {
    slots: Box<[Slot]>,
    /// One per rule and reason, for keys beyond `max_keys`.
    overflow: Box<[Slot]>,
    used: AtomicUsize,
    max_keys: usize,
}

impl Table {
    /// A table for `max_keys` keys (at least 1) and `rules` rules.
    pub(crate) fn new(max_keys: usize, rules: usize) -> Table {
        let max_keys = max_keys.max(1);
        let size = (max_keys * 2).next_power_of_two().max(2);
        let overflow = (0..rules)
            .flat_map(|rule| {
                [Reason::RateLimited, Reason::Sampled]
                    .map(|r| Slot::new(EMPTY, Meta::new(rule, r).0))
            })
            .collect();
        Table {
            slots: (0..size).map(|_| Slot::new(EMPTY, Meta::UNSET)).collect(),
            overflow,
            used: AtomicUsize::new(0),
            max_keys,
        }
    }

    /// The slot of key `hash` for `meta`, claiming one if the key is new;
    /// `true` with the rule's shared overflow slot when none is left.
    #[inline]
    pub(crate) fn find(&self, hash: u64, meta: Meta) -> (&Slot, bool) {
        // 0 marks an empty slot, so no key hashes to it.
        let key = hash | 1;
        let mask = self.slots.len() - 1;
        // The top bits pick the slot: the low bit is forced on.
        #[allow(clippy::cast_possible_truncation)] // Masked below the table size.
        let mut i = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize & mask;
        for _ in 0..PROBES {
            let Some(slot) = self.slots.get(i) else {
                break;
            };
            let seen = slot.key.load(Ordering::Acquire);
            if seen == key {
                return (slot, false);
            }
            if seen == EMPTY {
                if let Some(slot) = self.claim(slot, key, meta) {
                    return (slot, false);
                }
                // Taken meanwhile by another key, or max_keys reached.
                if self.used.load(Ordering::Relaxed) >= self.max_keys {
                    break;
                }
            }
            i = (i + 1) & mask;
        }
        (self.overflow_slot(meta), true)
    }

    #[cold]
    fn claim<'t>(&'t self, slot: &'t Slot, key: u64, meta: Meta) -> Option<&'t Slot> {
        if self.used.fetch_add(1, Ordering::Relaxed) >= self.max_keys {
            self.used.fetch_sub(1, Ordering::Relaxed);
            return None;
        }
        match slot
            .key
            .compare_exchange(EMPTY, key, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {
                slot.meta.store(meta.0, Ordering::Release);
                Some(slot)
            }
            Err(seen) => {
                self.used.fetch_sub(1, Ordering::Relaxed);
                (seen == key).then_some(slot)
            }
        }
    }

    fn overflow_slot(&self, meta: Meta) -> &Slot {
        let i = meta.rule() * 2 + meta.reason() as usize;
        // There is one overflow slot per rule and reason; the fallback
        // (slot 0) is never used.
        self.overflow
            .get(i)
            .or_else(|| self.overflow.first())
            .unwrap_or_else(|| &self.slots[0])
    }

    /// Whether `slot` is a shared overflow slot.
    #[cfg(test)]
    pub(crate) fn is_overflow(&self, slot: &Slot) -> bool {
        self.overflow.iter().any(|s| std::ptr::eq(s, slot))
    }

    /// Keys with a slot of their own.
    #[cfg(test)]
    pub(crate) fn keys(&self) -> usize {
        self.used.load(Ordering::Relaxed).min(self.max_keys)
    }

    /// Every slot, overflow slots included.
    pub(crate) fn all(&self) -> impl Iterator<Item = &Slot> {
        self.slots.iter().chain(self.overflow.iter())
    }

    /// How many slots were allocated (the memory bound).
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.slots.len() + self.overflow.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_million_distinct_keys_fill_max_keys_and_share_the_overflow_slot() {
        let table = Table::new(1000, 1);
        let meta = Meta::new(0, Reason::RateLimited);
        let capacity = table.capacity();
        let mut own = 0u64;
        let mut overflowed = 0u64;
        for n in 0..1_000_000u64 {
            let hash = n.wrapping_mul(0xD6E8_FEB8_6659_FD93) ^ (n >> 7);
            match table.find(hash, meta) {
                (_, false) => own += 1,
                (slot, true) => {
                    overflowed += 1;
                    assert!(table.is_overflow(slot));
                }
            }
        }
        assert_eq!(own + overflowed, 1_000_000);
        assert!(table.keys() <= 1000, "{}", table.keys());
        assert!(
            table.keys() >= 990,
            "probing gave up early: {}",
            table.keys()
        );
        assert_eq!(own, table.keys() as u64, "each own slot was claimed once");
        assert_eq!(table.capacity(), capacity, "the table never grows");
        assert_eq!(capacity, 2048 + 2);
        // A key that has a slot keeps finding it.
        let first = table.find(0, meta).0;
        assert!(std::ptr::eq(first, table.find(0, meta).0));
    }

    #[test]
    fn meta_packs_rule_and_reason() {
        let m = Meta::new(7, Reason::Sampled);
        assert_eq!((m.rule(), m.reason()), (7, Reason::Sampled));
        let m = Meta::new(0, Reason::RateLimited);
        assert_eq!((m.rule(), m.reason()), (0, Reason::RateLimited));
    }
}
