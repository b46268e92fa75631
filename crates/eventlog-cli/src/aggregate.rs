//! `query`'s aggregations: counts by any keys (a cross-tab), time
//! buckets, distinct counts and exact percentiles, merged from every
//! worker's partial groups into one [`Table`].
//!
//! ```text
//! record ─ Groups::add ─▶ group key (the --by values, the --every bucket)
//!                          └▶ Group { count, distinct sets, values of the percentile field }
//! Groups::merge (per unit, in any order) ─ Groups::into_table ─▶ sorted, limited Table
//! ```
//!
//! Percentiles are exact and interpolate linearly between the two
//! nearest values, as DuckDB's `quantile_cont` and NumPy's default
//! `linear` method do: for `n` sorted values and `p` in 0–100, the
//! position is `h = (n − 1) · p / 100` and the result
//! `x[⌊h⌋] + (h − ⌊h⌋) · (x[⌈h⌉] − x[⌊h⌋])`. Every value is kept until the
//! end (8 bytes each), so memory grows with the matching records, not the
//! files.

use std::collections::HashSet;
use std::fmt::Write as _;

use serde_json::Value;

use crate::outcome::CliError;
use crate::view::{FieldRef, RecordView};

/// What to compute per group.
#[derive(Debug, Default, Clone)]
pub(crate) struct Spec {
    /// `--by`: the keys whose values make a group.
    pub(crate) by: Vec<String>,
    /// `--every`: bucket width in seconds.
    pub(crate) every: Option<i64>,
    /// `--count-distinct`: keys whose distinct values are counted.
    pub(crate) distinct: Vec<String>,
    /// `--percentiles FIELD` with `--p`.
    pub(crate) percentiles: Option<(String, Vec<f64>)>,
}

impl Spec {
    /// Whether `query` aggregates at all.
    pub(crate) fn is_some(&self) -> bool {
        !self.by.is_empty()
            || self.every.is_some()
            || !self.distinct.is_empty()
            || self.percentiles.is_some()
    }
}

/// `--p 50,90,99.9`: each from 0 to 100.
pub(crate) fn parse_percents(text: &str) -> Result<Vec<f64>, CliError> {
    let bad = || CliError::BadArgument {
        arg: "--p",
        value: text.to_owned(),
        expected: "percentiles from 0 to 100, separated by commas, such as 50,95,99 or 99.9",
    };
    let ps: Vec<f64> = text
        .split(',')
        .map(|p| {
            p.trim()
                .parse::<f64>()
                .ok()
                .filter(|p| (0.0..=100.0).contains(p))
        })
        .collect::<Option<_>>()
        .ok_or_else(bad)?;
    if ps.is_empty() || ps.len() > 100 {
        return Err(bad());
    }
    Ok(ps)
}

/// One group's accumulators.
#[derive(Debug, Default)]
struct Group {
    /// The --every bucket (seconds), then the --by values (`None`: absent).
    bucket: Option<i64>,
    keys: Vec<Option<String>>,
    count: u64,
    distinct: Vec<HashSet<String>>,
    values: Vec<f64>,
}

/// Groups being counted (one per worker unit, merged at the end).
#[derive(Debug, Default)]
pub(crate) struct Groups {
    map: rustc_hash::FxHashMap<String, Group>,
    /// Reused for each record's encoded key, so a known group costs no allocation.
    key: String,
}

impl Groups {
    pub(crate) fn add(&mut self, spec: &Spec, record: &RecordView<'_>) {
        // The key, encoded without ambiguity: `-` for absent, `len:text` for a value.
        self.key.clear();
        let bucket = spec
            .every
            .and_then(|w| record.timestamp().map(|t| t.as_second().div_euclid(w) * w));
        if spec.every.is_some() {
            match bucket {
                Some(b) => {
                    let _ = write!(self.key, "{b}:");
                }
                None => self.key.push('-'),
            }
        }
        for k in &spec.by {
            match record.lookup(k) {
                Some(v) => {
                    let t = v.as_text();
                    self.key.push_str(itoa::Buffer::new().format(t.len()));
                    self.key.push(':');
                    self.key.push_str(&t);
                }
                None => self.key.push('-'),
            }
        }
        let group = if let Some(g) = self.map.get_mut(self.key.as_str()) {
            g
        } else {
            let g = Group {
                bucket,
                keys: spec
                    .by
                    .iter()
                    .map(|k| record.lookup(k).map(|v| v.as_text().into_owned()))
                    .collect(),
                distinct: vec![HashSet::new(); spec.distinct.len()],
                ..Group::default()
            };
            self.map.entry(self.key.clone()).or_insert(g)
        };
        group.count += 1;
        for (set, k) in group.distinct.iter_mut().zip(&spec.distinct) {
            if let Some(v) = record.lookup(k) {
                let t = v.as_text();
                if !set.contains(t.as_ref()) {
                    set.insert(t.into_owned());
                }
            }
        }
        if let Some((field, _)) = &spec.percentiles
            && let Some(x) = record.lookup(field).and_then(FieldRef::as_f64)
        {
            group.values.push(x);
        }
    }

    pub(crate) fn merge(&mut self, other: Groups) {
        for (key, g) in other.map {
            match self.map.get_mut(&key) {
                Some(mine) => {
                    mine.count += g.count;
                    for (a, b) in mine.distinct.iter_mut().zip(g.distinct) {
                        a.extend(b);
                    }
                    mine.values.extend(g.values);
                }
                None => {
                    self.map.insert(key, g);
                }
            }
        }
    }

    /// The rows, sorted (`sort`, else bucket, then count largest first,
    /// then the keys) and cut to `limit`.
    /// Buckets are shown in `zone` (cut in UTC).
    pub(crate) fn into_table(
        self,
        spec: &Spec,
        sort: &[(String, bool)],
        limit: Option<u64>,
        zone: &crate::zone::Zone,
    ) -> Result<Table, CliError> {
        let mut columns = Vec::new();
        if spec.every.is_some() {
            columns.push("bucket".to_owned());
        }
        columns.extend(spec.by.iter().cloned());
        columns.push("count".to_owned());
        for k in &spec.distinct {
            columns.push(format!("distinct({k})"));
        }
        if let Some((_, ps)) = &spec.percentiles {
            columns.extend(ps.iter().map(|p| format!("p{p}")));
        }
        let mut rows: Vec<Vec<Value>> = self
            .map
            .into_values()
            .map(|mut g| {
                let mut row = Vec::with_capacity(columns.len());
                if spec.every.is_some() {
                    row.push(g.bucket.map_or(Value::Null, |b| {
                        Value::String(
                            jiff::Timestamp::from_second(b)
                                .map(|t| zone.show(t))
                                .unwrap_or_default(),
                        )
                    }));
                }
                row.extend(
                    g.keys
                        .into_iter()
                        .map(|k| k.map_or(Value::Null, Value::String)),
                );
                row.push(Value::from(g.count));
                row.extend(g.distinct.iter().map(|s| Value::from(s.len())));
                if let Some((_, ps)) = &spec.percentiles {
                    g.values.sort_by(f64::total_cmp);
                    row.extend(ps.iter().map(|p| {
                        quantile_cont(&g.values, p / 100.0)
                            .and_then(serde_json::Number::from_f64)
                            .map_or(Value::Null, Value::Number)
                    }));
                }
                row
            })
            .collect();
        let mut order: Vec<(usize, bool)> = Vec::new();
        for (name, desc) in sort {
            let i = columns.iter().position(|c| c == name).ok_or(CliError::BadArgument {
                arg: "--sort",
                value: name.clone(),
                expected: "one of the output's columns (bucket, a --by key, count, distinct(KEY), pNN), with :asc or :desc",
            })?;
            order.push((i, *desc));
        }
        let count_at = columns.iter().position(|c| c == "count").unwrap_or(0);
        if spec.every.is_some() {
            order.push((0, false));
        }
        order.push((count_at, true));
        order.extend((0..columns.len()).map(|i| (i, false)));
        rows.sort_by(|a, b| {
            for &(i, desc) in &order {
                let o = compare(a.get(i), b.get(i));
                let o = if desc { o.reverse() } else { o };
                if o.is_ne() {
                    return o;
                }
            }
            std::cmp::Ordering::Equal
        });
        if let Some(l) = limit {
            rows.truncate(usize::try_from(l).unwrap_or(usize::MAX));
        }
        Ok(Table { columns, rows })
    }
}

/// Orders cells: nulls first, numbers by value, text by text.
pub(crate) fn compare(a: Option<&Value>, b: Option<&Value>) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a, b) {
        (Some(Value::Number(x)), Some(Value::Number(y))) => x
            .as_f64()
            .unwrap_or(0.0)
            .total_cmp(&y.as_f64().unwrap_or(0.0)),
        (Some(Value::String(x)), Some(Value::String(y))) => x.cmp(y),
        (None | Some(Value::Null), None | Some(Value::Null)) => Ordering::Equal,
        (None | Some(Value::Null), _) => Ordering::Less,
        (_, None | Some(Value::Null)) => Ordering::Greater,
        (Some(x), Some(y)) => x.to_string().cmp(&y.to_string()),
    }
}

/// The `q` quantile (0–1) of `sorted` values, interpolated linearly
/// (DuckDB's `quantile_cont`); `None` for no values.
pub(crate) fn quantile_cont(sorted: &[f64], quantile: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    // Counts and positions far below 2^52: exact as floats.
    #[allow(clippy::cast_precision_loss)]
    let position = last as f64 * quantile;
    let (below, above) = (position.floor(), position.ceil());
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let (low, high) = (below as usize, above as usize);
    let at_low = *sorted.get(low)?;
    if low == high {
        return Some(at_low);
    }
    let at_high = *sorted.get(high)?;
    Some(at_low + (position - below) * (at_high - at_low))
}

/// Rows with named columns: an aggregation's answer, or projected records.
#[derive(Debug, Default)]
pub(crate) struct Table {
    pub(crate) columns: Vec<String>,
    pub(crate) rows: Vec<Vec<Value>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate_between_neighbours() {
        let x = [1.0, 2.0, 4.0, 8.0];
        assert_eq!(quantile_cont(&x, 0.0), Some(1.0));
        assert_eq!(quantile_cont(&x, 1.0), Some(8.0));
        // h = 3 · 0.5 = 1.5: halfway between 2 and 4.
        assert_eq!(quantile_cont(&x, 0.5), Some(3.0));
        assert_eq!(quantile_cont(&[7.0], 0.99), Some(7.0));
        assert_eq!(quantile_cont(&[], 0.5), None);
        for bad in ["", "101", "-1", "a", "50,,", "NaN"] {
            assert!(parse_percents(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_percents("50, 99.9").unwrap(), [50.0, 99.9]);
    }
}
