//! What the layer learns once per event callsite instead of per event.
//!
//! A callsite's metadata is `'static` and never changes, so facts derived
//! from it (its explicit `name:`, whether its field names are all
//! distinct) are cached per thread, keyed by the metadata's address
//! (`cache`).

#![deny(clippy::indexing_slicing, clippy::string_slice)]

use std::cell::Cell;

use tracing_core::Metadata;

use crate::cache::{self, Entry, Slots};

/// Facts about one event callsite.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallsiteFacts {
    /// The macro's explicit `name:`, if it is not `tracing`'s generated one.
    pub(crate) explicit_name: Option<&'static str>,
    /// No two fields share a name, so storing them needs no duplicate check.
    pub(crate) unique_names: bool,
    /// A `log` record bridged by `tracing-log`: target `log`, a
    /// `log.target` field.
    pub(crate) from_log: bool,
    /// The target needs no JSON escaping.
    pub(crate) clean_target: bool,
}

const SLOTS: usize = 128;

thread_local! {
    /// Keyed by the metadata's address; 0 (no address) marks an empty slot.
    static CACHE: Slots<usize, CallsiteFacts, SLOTS> = const {
        [const {
            Cell::new(Entry {
                key: 0,
                value: CallsiteFacts {
                    explicit_name: None,
                    unique_names: false,
                    from_log: false,
                    clean_target: false,
                },
            })
        }; SLOTS]
    };
}

/// `tracing-log`'s callsites (one per level) have target `log` and the
/// fields `log.target`, `log.module_path`, `log.file`, `log.line`.
fn from_log(metadata: &Metadata<'_>) -> bool {
    metadata.target() == "log" && metadata.fields().field("log.target").is_some()
}

/// The facts for `metadata`, from this thread's cache when it has them.
pub(crate) fn facts(metadata: &'static Metadata<'static>) -> CallsiteFacts {
    let key = std::ptr::from_ref(metadata) as usize;
    let slot = cache::slot_of::<SLOTS>(key as u64);
    if let Some(facts) = cache::get(&CACHE, slot, |&k| k == key) {
        return facts;
    }
    derive_and_keep(metadata, key, slot)
}

/// [`facts`]' miss: derive them, and keep them. Out of line, so the hit
/// path keeps its values in registers (callgrind, `per_event`).
#[cold]
#[inline(never)]
fn derive_and_keep(metadata: &'static Metadata<'static>, key: usize, slot: usize) -> CallsiteFacts {
    let facts = CallsiteFacts {
        explicit_name: explicit_name(metadata),
        unique_names: unique_names(metadata),
        from_log: from_log(metadata),
        clean_target: !crate::encode::needs_escape(metadata.target()),
    };
    cache::insert(&CACHE, slot, key, facts, |&k| k != 0);
    facts
}

/// The macro's explicit `name:`, unless it is tracing's generated default
/// (`event src/file.rs:42`) or `tracing-log`'s `log event`.
fn explicit_name(metadata: &'static Metadata<'static>) -> Option<&'static str> {
    let name = metadata.name();
    if name == "log event" {
        return None;
    }
    let generated =
        name.strip_prefix("event ")
            .is_some_and(|rest| match (metadata.file(), metadata.line()) {
                (Some(file), Some(line)) => rest
                    .strip_prefix(file)
                    .and_then(|r| r.strip_prefix(':'))
                    .is_some_and(|r| r.parse::<u32>().ok() == Some(line)),
                _ => true,
            });
    (!generated).then_some(name)
}

fn unique_names(metadata: &'static Metadata<'static>) -> bool {
    let fields = metadata.fields();
    fields
        .iter()
        .enumerate()
        .all(|(i, f)| fields.iter().skip(i + 1).all(|g| g.name() != f.name()))
}

#[cfg(test)]
// Tests index freely: a panic there is a failure report.
#[allow(clippy::indexing_slicing, clippy::string_slice)]
mod tests {
    use super::*;
    use tracing_core::callsite::Callsite;
    use tracing_core::field::FieldSet;
    use tracing_core::metadata::Kind;
    use tracing_core::{Level, identify_callsite};

    struct Site;
    impl Callsite for Site {
        fn set_interest(&self, _: tracing_core::subscriber::Interest) {}
        fn metadata(&self) -> &Metadata<'_> {
            &UNIQUE
        }
    }
    static SITE: Site = Site;

    const fn event(name: &'static str, fields: &'static [&'static str]) -> Metadata<'static> {
        Metadata::new(
            name,
            "t",
            Level::INFO,
            Some("src/a.rs"),
            Some(7),
            None,
            FieldSet::new(fields, identify_callsite!(&SITE)),
            Kind::EVENT,
        )
    }
    static UNIQUE: Metadata<'static> = event("event src/a.rs:7", &["a", "b", "c"]);
    static DUPLICATED: Metadata<'static> = event("checkout_done", &["a", "b", "a"]);

    #[test]
    fn facts_are_derived_once_and_stay_right() {
        for _ in 0..2 {
            let unique = facts(&UNIQUE);
            assert!(unique.unique_names);
            assert_eq!(unique.explicit_name, None);
            let dup = facts(&DUPLICATED);
            assert!(!dup.unique_names);
            assert_eq!(dup.explicit_name, Some("checkout_done"));
        }
    }
}
