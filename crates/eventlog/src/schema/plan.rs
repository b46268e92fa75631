//! What is checked per event: its fields (patterns compiled) and required
//! context, merged from the event's declaration and its category's rules.
//! Built by `load`, run by `check`.

use super::model::FieldSpec;

/// A field check with its pattern compiled.
#[derive(Debug)]
pub(crate) struct FieldPlan {
    pub(crate) spec: FieldSpec,
    pub(crate) regex: Option<regex::Regex>,
}

/// Everything checked for one event (its own rules plus its category's).
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) fields: Vec<FieldPlan>,
    pub(crate) context: Vec<String>,
    pub(crate) event_type: Option<String>,
}

impl Plan {
    pub(crate) fn specs(&self) -> impl Iterator<Item = &FieldSpec> {
        self.fields.iter().map(|f| &f.spec)
    }

    pub(crate) fn context(&self) -> &[String] {
        &self.context
    }
}
