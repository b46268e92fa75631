//! Steady-state events allocate nothing.
//!
//! A counting global allocator counts allocations made by the current
//! thread only, so other test threads cannot disturb the figure.

// The allocator below is the only unsafe code in the workspace: a
// pass-through to `System` that bumps a thread-local counter.
#![allow(unsafe_code, clippy::unwrap_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use eventlog_tests::workload::{emit_event, in_two_spans};

use tracing_subscriber::prelude::*;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every method forwards to `System` with the caller's arguments;
// the counter is a const-initialised thread-local `Cell`, which needs no
// allocation and cannot re-enter the allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

/// A writer that keeps its buffer between events, like a file would.
#[derive(Clone, Default)]
struct Reused(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for &Reused {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let mut buf = self.0.lock().unwrap();
        // Keep capacity, drop content: a stand-in for bytes leaving to disk.
        if buf.len() + data.len() > buf.capacity() {
            buf.clear();
        }
        buf.extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Reused {
    type Writer = &'a Reused;
    fn make_writer(&'a self) -> &'a Reused {
        self
    }
}

fn steady_state_allocations(layer: eventlog::EventLayer, writer: &Reused) {
    writer.0.lock().unwrap().reserve(1 << 20);
    let stats = layer.stats();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        in_two_spans(steady_state_checks);
    });
    let s = stats.snapshot();
    assert_eq!((s.accepted, s.violations), (1010, 0));
}

/// Inside the workload's spans: 1000 events after a warm-up allocate
/// nothing (release), and the counter itself counts.
fn steady_state_checks() {
    // Warm up: per-thread buffers grow to the working size (and the
    // spans' shared scope is built at their first record).
    for _ in 0..10 {
        emit_event();
    }
    let n = allocations_during(|| {
        for _ in 0..1000 {
            emit_event();
        }
    });
    // Release builds allocate nothing. Debug builds parse every line
    // back to prove it is valid JSON, and serde_json's parser allocates
    // its scratch buffer once per line: exactly one per event.
    let expected = if cfg!(debug_assertions) { 1000 } else { 0 };
    assert_eq!(n, expected, "allocations in 1000 steady-state events");
    // The counter works: a span with fields allocates its storage.
    let n = allocations_during(|| drop(tracing::info_span!("fresh", step = "x")));
    assert!(n > 0, "the allocation counter counts");
}

#[test]
fn steady_state_events_allocate_nothing() {
    let writer = Reused::default();
    steady_state_allocations(
        eventlog::layer().service("checkout").writer(writer.clone()),
        &writer,
    );
}

#[test]
fn a_valid_event_under_a_schema_allocates_nothing_more() {
    let writer = Reused::default();
    let layer = eventlog::layer()
        .service("checkout")
        .schema(eventlog::Schema::recommended())
        .writer(writer.clone());
    steady_state_allocations(layer, &writer);
}
