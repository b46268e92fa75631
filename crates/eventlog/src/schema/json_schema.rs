//! Export: the schema as a JSON Schema (draft 2020-12) of output records.

use serde_json::{Map, Value, json};

use super::compiled::Schema;
use super::model::{EventSpec, FieldSpec, Naming, SchemaBuilder, UnknownEvents};
use super::plan::Plan;
use crate::envelope::DEFAULT_PROMOTED;
use crate::event_type::EventType;
use crate::violation::FieldType;

fn field_schema(spec: &FieldSpec) -> Value {
    let mut s = match spec.ty {
        FieldType::String => json!({"type": "string"}),
        FieldType::Bool => json!({"type": "boolean"}),
        FieldType::I64 => json!({"type": "integer"}),
        FieldType::U64 => json!({"type": "integer", "minimum": 0}),
        FieldType::F64 | FieldType::Number => json!({"type": "number"}),
        FieldType::Timestamp => json!({"type": "string", "format": "date-time"}),
    };
    let obj = s.as_object_mut();
    if let Some(obj) = obj {
        if !spec.one_of.is_empty() {
            obj.insert("enum".into(), json!(spec.one_of));
        }
        if let Some(max) = spec.max_len {
            obj.insert("maxLength".into(), json!(max));
        }
        match (&spec.pattern, &spec.prefix) {
            (Some(p), _) => {
                obj.insert("pattern".into(), json!(p));
            }
            (None, Some(prefix)) => {
                obj.insert(
                    "pattern".into(),
                    json!(format!("^{}", regex::escape(prefix))),
                );
            }
            (None, None) => {}
        }
        if let Some(d) = &spec.description {
            obj.insert("description".into(), json!(d));
        }
    }
    s
}

fn envelope_properties(model: &SchemaBuilder) -> Map<String, Value> {
    let mut properties = Map::new();
    properties.insert(
        "timestamp".into(),
        json!({"type": "string", "format": "date-time"}),
    );
    properties.insert(
        "level".into(),
        json!({"enum": ["TRACE", "DEBUG", "INFO", "WARN", "ERROR"]}),
    );
    let mut name = json!({"type": "string"});
    if model.unknown_events == UnknownEvents::Reject {
        name["enum"] = json!(
            model
                .events
                .iter()
                .map(|e| e.name.as_str())
                .collect::<Vec<_>>()
        );
    } else if model.naming == Naming::ObjectAction {
        name["pattern"] = json!("^[a-z][a-z0-9]*(_[a-z][a-z0-9]*)+$");
    }
    properties.insert("event_name".into(), name);
    properties.insert(
        "event_type".into(),
        json!({"enum": EventType::ALL.iter().map(|t| t.as_str()).collect::<Vec<_>>()}),
    );
    for key in [
        "message",
        "service",
        "environment",
        "region",
        "version",
        "host",
    ] {
        properties.insert(key.into(), json!({"type": "string"}));
    }
    properties.insert(
        "trace_id".into(),
        json!({"type": "string", "pattern": "^[0-9a-f]{32}$"}),
    );
    properties.insert(
        "span_id".into(),
        json!({"type": "string", "pattern": "^[0-9a-f]{16}$"}),
    );
    for key in DEFAULT_PROMOTED {
        properties.insert(key.into(), json!({"type": "string"}));
    }
    properties.insert("target".into(), json!({"type": "string"}));
    properties.insert("file".into(), json!({"type": "string"}));
    properties.insert("line".into(), json!({"type": "integer", "minimum": 0}));
    properties.insert("metadata".into(), json!({"type": "object"}));
    properties.insert(
        "span".into(),
        json!({"type": "object", "required": ["name"]}),
    );
    properties.insert(
        "duration_ms".into(),
        json!({"type": "number", "minimum": 0}),
    );
    properties.insert("schema_version".into(), json!({"const": model.version}));
    // A valid record carries no violations.
    properties.insert(
        "schema_errors".into(),
        json!({"type": "array", "maxItems": 0}),
    );
    properties
}

fn event_rule(event: &EventSpec, plan: &Plan) -> Value {
    let mut then = Map::new();
    let mut top = Map::new();
    let mut top_required: Vec<&str> = plan.context().iter().map(String::as_str).collect();
    let mut meta = Map::new();
    let mut meta_required = Vec::new();
    for spec in plan.specs() {
        if DEFAULT_PROMOTED.contains(&spec.name.as_str()) {
            top.insert(spec.name.clone(), field_schema(spec));
            if spec.required {
                top_required.push(&spec.name);
            }
        } else {
            meta.insert(spec.name.clone(), field_schema(spec));
            if spec.required {
                meta_required.push(spec.name.as_str());
            }
        }
    }
    if let Some(t) = &event.event_type {
        top.insert("event_type".into(), json!({"const": t}));
    }
    let mut metadata = json!({"type": "object", "properties": meta});
    if !meta_required.is_empty() {
        metadata["required"] = json!(meta_required);
        top_required.push("metadata");
    }
    top.insert("metadata".into(), metadata);
    then.insert("properties".into(), Value::Object(top));
    if !top_required.is_empty() {
        then.insert("required".into(), json!(top_required));
    }
    let mut rule = json!({
        "if": {"properties": {"event_name": {"const": event.name}}, "required": ["event_name"]},
        "then": then,
    });
    if let Some(d) = &event.description {
        rule["description"] = json!(d);
    }
    rule
}

impl Schema {
    /// A JSON Schema (draft 2020-12) that every valid output line satisfies,
    /// for downstream tools (and `jsonschema` validators) to check files.
    ///
    /// It assumes the default [`Envelope`](crate::Envelope): default key
    /// names, and the default promoted fields at the top level.
    ///
    /// ```
    /// let schema = eventlog::Schema::recommended().to_json_schema();
    /// assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    /// assert!(schema["allOf"].as_array().unwrap().len() > 5);
    /// ```
    pub fn to_json_schema(&self) -> Value {
        let model = &self.0.model;
        let properties = envelope_properties(model);
        let mut required = vec!["timestamp", "level", "event_type"];
        required.extend(model.required_context.iter().map(String::as_str));
        if model.unknown_events != UnknownEvents::Allow {
            required.push("event_name");
        }

        let mut rules = Vec::new();
        for (event, plan) in model.events.iter().zip(&self.0.plans) {
            rules.push(event_rule(event, plan));
        }
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "eventlog record",
            "description": format!("Records of schema version {}", model.version),
            "type": "object",
            "properties": properties,
            "required": required,
            "allOf": rules,
        })
    }
}
