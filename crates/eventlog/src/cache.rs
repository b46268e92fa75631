//! Small per-thread caches for facts derived from `'static` data (a
//! callsite's metadata, a field name), keyed by its address: the callsite
//! facts (`callsite`) and the redactor's key decisions (`redact::keys`).
//!
//! ```text
//! key ─ hash ─> slot_of ─> get: slot, then slot ^ 1 ─┬─ hit:  the cached value
//!                                                    └─ miss: the caller computes, insert keeps it
//! ```
//!
//! Each user declares its own `thread_local!` array of [`Entry`] cells with
//! a `const` initialiser (so a lookup checks no lazy-init state); the
//! probing and the replacement rule live here once. Two-way: a key lives in
//! its slot or the slot's neighbour, so two keys whose addresses hash alike
//! (it depends on the binary's layout) do not evict each other on every
//! event. During thread teardown the cache is gone and every lookup
//! computes.

#![deny(clippy::indexing_slicing, clippy::string_slice)]

use std::cell::Cell;
use std::thread::LocalKey;

/// One cache slot: a key and the value computed for it. An empty slot
/// holds a key that no lookup uses (address 0, rule set 0).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry<K, V> {
    pub(crate) key: K,
    pub(crate) value: V,
}

/// The cells of a cache with `N` slots, `N` a power of two.
pub(crate) type Slots<K, V, const N: usize> = [Cell<Entry<K, V>>; N];

/// The slot of `hash` among `N`: Fibonacci hashing (the top bits of the
/// product), which spreads neighbouring addresses over different slots.
#[inline]
pub(crate) fn slot_of<const N: usize>(hash: u64) -> usize {
    const { assert!(N.is_power_of_two() && N > 1) };
    // Below N, which is a usize.
    usize::try_from(hash.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - N.trailing_zeros()))
        .unwrap_or(0)
}

/// The value `cache` holds in `slot` or its neighbour for the key `is`
/// accepts, if any.
///
/// A predicate rather than a key to compare: a key of several words went
/// through the stack on the hit path (callgrind, `per_event`).
#[inline]
pub(crate) fn get<K, V, const N: usize>(
    cache: &'static LocalKey<Slots<K, V, N>>,
    slot: usize,
    is: impl Fn(&K) -> bool,
) -> Option<V>
where
    K: Copy + 'static,
    V: Copy + 'static,
{
    cache
        .try_with(|cells| {
            let first = cells.get(slot)?.get();
            if is(&first.key) {
                return Some(first.value);
            }
            let second = cells.get(slot ^ 1)?.get();
            is(&second.key).then_some(second.value)
        })
        .ok()
        .flatten()
}

/// Keeps `value` for `key`: in `slot`, unless that holds an entry `live`
/// says is still worth keeping; then in the neighbour, which is the one
/// replaced next.
///
/// Lookups and inserts are two calls, not one taking a `compute` closure:
/// the caller computes between them with its own variables (measured with
/// callgrind, `per_event`: a closure kept more values alive across the
/// probe, and the hit path spilled them).
#[inline]
pub(crate) fn insert<K, V, const N: usize>(
    cache: &'static LocalKey<Slots<K, V, N>>,
    slot: usize,
    key: K,
    value: V,
    live: impl Fn(&K) -> bool,
) where
    K: Copy + 'static,
    V: Copy + 'static,
{
    let _ = cache.try_with(|cells| {
        let target = match cells.get(slot) {
            Some(first) if live(&first.get().key) => slot ^ 1,
            _ => slot,
        };
        if let Some(cell) = cells.get(target) {
            cell.set(Entry { key, value });
        }
    });
}

#[cfg(test)]
// Tests index freely: a panic there is a failure report.
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    const N: usize = 8;

    thread_local! {
        static CACHE: Slots<u64, u32, N> = const {
            [const { Cell::new(Entry { key: 0, value: 0 }) }; N]
        };
    }

    #[test]
    fn slots_stay_below_the_slot_count() {
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..10_000 {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            assert!(slot_of::<N>(x) < N);
            assert!(slot_of::<256>(x) < 256);
        }
    }

    #[test]
    fn two_keys_in_one_slot_both_stay_cached_and_dead_entries_make_room() {
        // Two keys hashing to the same slot, and a third one.
        let keys: Vec<u64> = (1..1000).collect();
        let a = keys[0];
        let b = *keys[1..]
            .iter()
            .find(|&&k| slot_of::<N>(k) == slot_of::<N>(a))
            .unwrap();
        let computed = Cell::new(0);
        let compute = |v: u32| {
            computed.set(computed.get() + 1);
            v
        };
        let live = |k: &u64| *k != 0;
        let cached = |key: u64, live: &dyn Fn(&u64) -> bool, v: u32| {
            let slot = slot_of::<N>(key);
            get(&CACHE, slot, |k| *k == key).unwrap_or_else(|| {
                let v = compute(v);
                insert(&CACHE, slot, key, v, live);
                v
            })
        };
        for _ in 0..10 {
            assert_eq!(cached(a, &live, 1), 1);
            assert_eq!(cached(b, &live, 2), 2);
        }
        assert_eq!(computed.get(), 2, "each key computed once");
        // Once nothing in the first slot is live, a newcomer takes it.
        let c = *keys
            .iter()
            .find(|&&k| k != a && k != b && slot_of::<N>(k) == slot_of::<N>(a))
            .unwrap();
        assert_eq!(cached(c, &|_| false, 3), 3);
        assert_eq!(cached(c, &live, 4), 3);
        assert_eq!(cached(b, &live, 5), 2, "the neighbour kept b");
    }
}
