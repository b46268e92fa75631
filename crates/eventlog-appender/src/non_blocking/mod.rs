//! The non-blocking writer: callers copy each line into a byte-bounded
//! queue, one worker thread writes whole batches, and a [`Guard`] flushes
//! and stops it.
//!
//! ```text
//!  callers, any thread: writer::NonBlocking, writer::LineWriter
//!      │ enqueue: copy the line in (Backpressure when full)
//!      ▼
//!  queue::Shared ── swap the batch ──> worker::Worker ── write ──> sink::Sink
//!      ▲  pending bytes ≤ capacity     (its own thread)           (io::Write or a RollingFile)
//!      │                                   └─ drops ──> on_drop callback, self_report line (the caller formats it)
//!  guard::Guard ── flush, shutdown: wake the worker, wait until it is done
//!  builder::NonBlockingBuilder ── checks the settings, reserves the queue, spawns the worker
//! ```
//!
//! Each name is prefixed by the module that holds it. Callers never do
//! I/O: only the worker touches the sink.

mod builder;
mod guard;
mod queue;
pub(crate) mod sink;
mod worker;
mod writer;

pub use builder::NonBlockingBuilder;
pub use guard::Guard;
pub use queue::Backpressure;
pub use writer::{LineWriter, NonBlocking};
