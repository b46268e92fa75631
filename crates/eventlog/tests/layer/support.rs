//! Shared helpers: run code under a layer and get parsed records back.

use std::collections::HashSet;
use std::fmt;

use eventlog::EventLayer;
use eventlog::ParsedRecord;
use eventlog::testing::Capture;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use tracing_subscriber::prelude::*;

/// Runs `f` under a registry with `layer` writing to a capture; returns the
/// parsed records and checks every line for duplicate keys.
pub(crate) fn run_with(layer: EventLayer, f: impl FnOnce()) -> Vec<ParsedRecord> {
    let capture = Capture::new();
    let subscriber = tracing_subscriber::registry().with(layer.writer(capture.clone()));
    tracing::subscriber::with_default(subscriber, f);
    for line in capture.lines() {
        assert_no_duplicate_keys(&line);
    }
    capture.records()
}

/// Runs `f` under the default layer (no deployment context from the host).
pub(crate) fn run(f: impl FnOnce()) -> Vec<ParsedRecord> {
    run_with(eventlog::layer(), f)
}

/// The single record named `name`.
pub(crate) fn only<'a>(records: &'a [ParsedRecord], name: &str) -> &'a ParsedRecord {
    let found: Vec<_> = records
        .iter()
        .filter(|r| r.event_name() == Some(name))
        .collect();
    assert_eq!(found.len(), 1, "expected one `{name}` in {records:#?}");
    found[0]
}

/// Fails if any JSON object in `line` repeats a key (serde_json's `Value`
/// would silently keep the last one).
pub(crate) fn assert_no_duplicate_keys(line: &str) {
    let mut de = serde_json::Deserializer::from_str(line);
    if let Err(e) = NoDuplicates::deserialize(&mut de) {
        panic!("{e}: {line}");
    }
}

struct NoDuplicates;

impl<'de> Deserialize<'de> for NoDuplicates {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NoDuplicatesVisitor)
    }
}

struct NoDuplicatesVisitor;

impl<'de> Visitor<'de> for NoDuplicatesVisitor {
    type Value = NoDuplicates;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_i64<E>(self, _: i64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_u64<E>(self, _: u64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_f64<E>(self, _: f64) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_str<E>(self, _: &str) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_unit<E>(self) -> Result<NoDuplicates, E> {
        Ok(NoDuplicates)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NoDuplicates, A::Error> {
        while seq.next_element::<NoDuplicates>()?.is_some() {}
        Ok(NoDuplicates)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NoDuplicates, A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format!("duplicate key `{key}`")));
            }
            map.next_value::<NoDuplicates>()?;
        }
        Ok(NoDuplicates)
    }
}

#[test]
fn the_duplicate_detector_detects_duplicates() {
    let mut de = serde_json::Deserializer::from_str(r#"{"a":1,"b":{"c":1,"c":2}}"#);
    assert!(NoDuplicates::deserialize(&mut de).is_err());
    let mut de = serde_json::Deserializer::from_str(r#"{"a":1,"b":{"c":1,"d":[{"c":2}]}}"#);
    assert!(NoDuplicates::deserialize(&mut de).is_ok());
}
