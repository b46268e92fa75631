//! The compiled [`Schema`]: the model, an index by event name, a check plan
//! per event, and the violation counts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use rustc_hash::FxHashMap;

use super::model::{EventSpec, Naming, SchemaBuilder, UnknownEvents};
use super::plan::Plan;
use crate::violation::Violation;

/// A compiled schema; see the module docs and [`Schema::builder`].
///
/// Cheap to clone (one `Arc`); clones share violation counts.
///
/// ```
/// use eventlog::{EventSpec, EventType, FieldSpec, FieldType, Schema};
///
/// let schema = Schema::builder()
///     .version(3)
///     .event(
///         EventSpec::new("order_placed")
///             .event_type(EventType::BUSINESS)
///             .field(FieldSpec::new("amount", FieldType::F64).required())
///             .field(FieldSpec::new("currency", FieldType::String).required().pattern("^[A-Z]{3}$")),
///     )
///     .build()?;
/// assert_eq!(schema.version(), 3);
/// assert!(schema.event("order_placed").is_some());
/// # Ok::<(), eventlog::SchemaError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Schema(pub(crate) Arc<Compiled>);

#[derive(Debug)]
pub(crate) struct Compiled {
    pub(crate) model: SchemaBuilder,
    /// Event index by name. FxHash: the keys are the schema's own event
    /// names (not attacker-chosen), and SipHash cost a third of a check.
    pub(crate) index: FxHashMap<String, usize>,
    /// Per event: its own fields followed by its type's fields, with
    /// compiled patterns, and the required context of both.
    pub(crate) plans: Vec<Plan>,
    /// Plans for undeclared events, by category.
    pub(crate) type_plans: Vec<(String, Plan)>,
    pub(crate) counts: Mutex<HashMap<(String, &'static str), u64>>,
}

impl Schema {
    /// A builder with version 1, `object_action` naming, unknown events
    /// allowed, and nothing declared.
    pub fn builder() -> SchemaBuilder {
        SchemaBuilder {
            version: 1,
            naming: Naming::ObjectAction,
            unknown_events: UnknownEvents::Allow,
            required_context: Vec::new(),
            types: Vec::new(),
            events: Vec::new(),
        }
    }

    pub(crate) fn empty() -> Schema {
        Schema(Arc::new(Compiled {
            model: Self::builder(),
            index: FxHashMap::default(),
            plans: Vec::new(),
            type_plans: Vec::new(),
            counts: Mutex::new(HashMap::new()),
        }))
    }

    /// The schema's version.
    pub fn version(&self) -> u32 {
        self.0.model.version
    }

    /// What the schema does with undeclared events.
    ///
    /// ```
    /// use eventlog::{Schema, UnknownEvents};
    ///
    /// let schema = Schema::builder().unknown_events(UnknownEvents::Reject).build()?;
    /// assert_eq!(schema.unknown_events(), UnknownEvents::Reject);
    /// # Ok::<(), eventlog::SchemaError>(())
    /// ```
    pub fn unknown_events(&self) -> UnknownEvents {
        self.0.model.unknown_events
    }

    /// The declared event named `name`.
    pub fn event(&self, name: &str) -> Option<&EventSpec> {
        self.0.index.get(name).map(|&i| &self.0.model.events[i])
    }

    /// Every declared event.
    pub fn events(&self) -> &[EventSpec] {
        &self.0.model.events
    }

    /// The model this schema was compiled from (for comparisons and export).
    pub fn to_builder(&self) -> SchemaBuilder {
        self.0.model.clone()
    }

    /// Violations so far, as `(event name, kind, count)`, sorted.
    pub fn violation_counts(&self) -> Vec<(String, &'static str, u64)> {
        let counts = self.0.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let mut out: Vec<_> = counts
            .iter()
            .map(|((event, kind), n)| (event.clone(), *kind, *n))
            .collect();
        out.sort();
        out
    }

    /// The per-event limits the schema declares, as rules for the layer.
    pub(crate) fn limit_rules(&self) -> Vec<(String, crate::limit::SchemaRule)> {
        self.0
            .model
            .events
            .iter()
            .filter(|e| e.budget.is_some() || e.sample_bits.is_some() || e.always_keep)
            .map(|e| {
                let rule = crate::limit::SchemaRule {
                    budget: e.budget.clone(),
                    sample: e.sampling(),
                    always_keep: e.always_keep,
                };
                (e.name.clone(), rule)
            })
            .collect()
    }

    pub(crate) fn count(&self, event: &str, violations: &[Violation]) {
        let mut counts = self.0.counts.lock().unwrap_or_else(PoisonError::into_inner);
        for v in violations {
            *counts.entry((event.to_owned(), v.kind())).or_insert(0) += 1;
        }
    }
}
