//! Which records a query keeps: event names, categories, a minimum level,
//! a time window, ids, and `key=value` conditions on any field.

use jiff::Timestamp;
use serde_json::{Map, Value};

use crate::outcome::CliError;
use crate::view::{FieldRef, RecordView};
use crate::zone::Zone;

/// `TRACE` … `ERROR` as 0 … 4.
pub(crate) fn level_rank(level: &str) -> Option<u8> {
    match level.to_ascii_uppercase().as_str() {
        "TRACE" => Some(0),
        "DEBUG" => Some(1),
        "INFO" => Some(2),
        "WARN" | "WARNING" => Some(3),
        "ERROR" => Some(4),
        _ => None,
    }
}

/// The value at `path` in `record` (see [`RecordView::lookup`]).
#[cfg(test)]
pub(crate) fn lookup(record: &Map<String, Value>, path: &str) -> Option<Value> {
    RecordView::Full(record)
        .lookup(path)
        .map(FieldRef::to_value)
}

/// How a `--where` condition compares.
#[derive(Debug, Clone)]
enum Op {
    /// `=` / `!=`: the value's text (strings as they are, numbers as JSON writes them).
    Eq,
    Ne,
    /// `>` `>=` `<` `<=`: numbers only; a record whose value is not a number fails.
    Gt(f64),
    Ge(f64),
    Lt(f64),
    Le(f64),
    /// `~` / `!~`: a regular expression found anywhere in the text (a plain
    /// word is a substring match).
    Match(regex::Regex),
    NotMatch(regex::Regex),
    /// `in (a,b,c)` / `not in (a,b,c)`: the text is one of them.
    In(Vec<String>),
    NotIn(Vec<String>),
}

/// One `--where` condition.
#[derive(Debug, Clone)]
pub(crate) struct Condition {
    path: String,
    value: String,
    op: Op,
}

/// The longest regex `~` compiles (bytes of its program), so a hostile
/// pattern is an error, not memory.
const REGEX_LIMIT: usize = 1 << 20;

/// The operators, longest first at each position.
const OPERATORS: [&str; 8] = ["!=", "!~", ">=", "<=", "=", ">", "<", "~"];

/// Where the operator starts and which one; ` in (` and ` not in (` too.
fn find_operator(text: &str) -> Option<(usize, &'static str, usize)> {
    for (i, c) in text.char_indices() {
        let rest = text.get(i..)?;
        if let Some(op) = OPERATORS.iter().find(|op| rest.starts_with(**op)) {
            return Some((i, op, i + op.len()));
        }
        if c.is_whitespace() {
            let word = rest.trim_start();
            let (negated, word) = match word.strip_prefix("not") {
                Some(w) if w.starts_with(char::is_whitespace) => (true, w.trim_start()),
                _ => (false, word),
            };
            if let Some(list) = word.strip_prefix("in")
                && list.trim_start().starts_with('(')
            {
                let at = text.len() - list.trim_start().len();
                return Some((i, if negated { "not in" } else { "in" }, at));
            }
        }
    }
    None
}

impl Condition {
    /// `KEY OP VALUE`: the key is the text before the first operator
    /// (`=`, `!=`, `>`, `>=`, `<`, `<=`, `~`, `!~`, ` in (…)`, ` not in (…)`);
    /// for `=` and `!=` the value is everything after it, as it is.
    pub(crate) fn parse(text: &str) -> Result<Self, CliError> {
        let bad = |expected| CliError::BadArgument {
            arg: "--where",
            value: text.to_owned(),
            expected,
        };
        let general = "KEY=VALUE, KEY!=VALUE, KEY>N (>=, <, <=), KEY~REGEX, KEY!~REGEX or KEY in (A,B,C), for example metadata.error_type=card_declined (--exists KEY for presence)";
        let (at, op, after) = find_operator(text).ok_or_else(|| bad(general))?;
        let path = text.get(..at).unwrap_or_default().trim();
        let value = text.get(after..).unwrap_or_default();
        if path.is_empty() {
            return Err(bad(general));
        }
        let number = || -> Result<f64, CliError> {
            value
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite())
                .ok_or_else(|| {
                    bad("a number after >, >=, < or <=, for example metadata.duration_ms>500")
                })
        };
        let regex = || -> Result<regex::Regex, CliError> {
            regex::RegexBuilder::new(value)
                .size_limit(REGEX_LIMIT)
                .build()
                .map_err(|_| bad("a valid regular expression after ~ (at most 1 MiB compiled), for example message~timeout"))
        };
        let list = || -> Result<Vec<String>, CliError> {
            let inner = value
                .trim()
                .strip_prefix('(')
                .and_then(|v| v.strip_suffix(')'))
                .ok_or_else(|| bad("KEY in (A,B,C): values in parentheses, separated by commas"))?;
            let items: Vec<String> = inner.split(',').map(|v| v.trim().to_owned()).collect();
            if items.iter().all(String::is_empty) {
                return Err(bad("KEY in (A,B,C): at least one value"));
            }
            Ok(items)
        };
        let op = match op {
            "=" => Op::Eq,
            "!=" => Op::Ne,
            ">" => Op::Gt(number()?),
            ">=" => Op::Ge(number()?),
            "<" => Op::Lt(number()?),
            "<=" => Op::Le(number()?),
            "~" => Op::Match(regex()?),
            "!~" => Op::NotMatch(regex()?),
            "in" => Op::In(list()?),
            _ => Op::NotIn(list()?),
        };
        Ok(Condition {
            path: path.to_owned(),
            value: value.to_owned(),
            op,
        })
    }

    fn negated(&self) -> bool {
        matches!(self.op, Op::Ne | Op::NotMatch(_) | Op::NotIn(_))
    }

    pub(crate) fn holds(&self, record: &RecordView<'_>) -> bool {
        let found = record.lookup(&self.path);
        let number = || found.and_then(FieldRef::as_f64);
        match &self.op {
            Op::Eq => found.is_some_and(|v| v.as_text() == self.value),
            Op::Ne => found.is_none_or(|v| v.as_text() != self.value),
            Op::Gt(n) => number().is_some_and(|v| v > *n),
            Op::Ge(n) => number().is_some_and(|v| v >= *n),
            Op::Lt(n) => number().is_some_and(|v| v < *n),
            Op::Le(n) => number().is_some_and(|v| v <= *n),
            Op::Match(r) => found.is_some_and(|v| r.is_match(&v.as_text())),
            Op::NotMatch(r) => !found.is_some_and(|v| r.is_match(&v.as_text())),
            Op::In(items) => found.is_some_and(|v| items.iter().any(|i| *i == v.as_text())),
            Op::NotIn(items) => !found.is_some_and(|v| items.iter().any(|i| *i == v.as_text())),
        }
    }

    /// Needles a matching line must hold (one of), if the condition gives any.
    fn needles(&self) -> Option<Vec<String>> {
        match &self.op {
            Op::Eq if plain(&self.value) => Some(vec![self.value.clone()]),
            Op::In(items) if items.iter().all(|i| plain(i)) => Some(items.clone()),
            _ => None,
        }
    }
}

/// What `--since` / `--until` take, for their errors.
const TIME_EXPECTED: &str = "an RFC 3339 time (2026-12-01T09:30:00Z), a date and time read in --tz (2026-12-01T09:30, 2026-12-01), now, today, yesterday, or a span back from now (90s, 15m, -15m, 2h, 1d)";

/// Parses `--since` / `--until`: an instant (RFC 3339 with an offset, or
/// RFC 9557 with a zone: `…[Europe/Paris]`); a date and time without an
/// offset (`2026-12-01T09:30`, `2026-12-01 09:30:00`, `2026-12-01`), read
/// in `zone`; `now`; `today` or `yesterday` (their midnight in `zone`);
/// or a span back from `now` (`90s`, `15m`, `2h`, `1d`, with or without a
/// leading `-`: both mean back).
pub(crate) fn parse_time(
    arg: &'static str,
    text: &str,
    now: Timestamp,
    zone: &Zone,
) -> Result<Timestamp, CliError> {
    let bad = || CliError::BadArgument {
        arg,
        value: text.to_owned(),
        expected: TIME_EXPECTED,
    };
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t);
    }
    // A zone in brackets is the text's own; an unknown one is an error,
    // not a time read in --tz with the brackets ignored.
    if text.contains('[') {
        return text
            .parse::<jiff::Zoned>()
            .map(|z| z.timestamp())
            .map_err(|_| bad());
    }
    match text {
        "now" => return Ok(now),
        "today" | "yesterday" => {
            let here = now.to_zoned(zone.tz().clone());
            let day = if text == "today" {
                Ok(here)
            } else {
                here.yesterday()
            };
            return day
                .and_then(|d| d.start_of_day())
                .map(|d| d.timestamp())
                .map_err(|_| bad());
        }
        _ => {}
    }
    if text.starts_with(|c: char| c.is_ascii_digit())
        && text.contains('-')
        && let Ok(civil) = text.parse::<jiff::civil::DateTime>()
    {
        // A time skipped by a DST change is read with the offset before
        // it (02:30 in a 02:00 → 03:00 gap is 03:30); a repeated one is
        // the first (Temporal's "compatible", as jiff names it).
        return zone
            .tz()
            .to_ambiguous_zoned(civil)
            .compatible()
            .map(|z| z.timestamp())
            .map_err(|_| bad());
    }
    let secs = parse_span(text).ok_or_else(bad)?;
    now.checked_sub(jiff::SignedDuration::from_secs(secs))
        .map_err(|_| bad())
}

/// A span back in time, in seconds: `90s`, `15m`, `2h`, `1d`, and the
/// same with a leading `-` (`-15m`, as `date -d -15min` reads it).
pub(crate) fn parse_span(text: &str) -> Option<i64> {
    let text = text.strip_prefix('-').unwrap_or(text);
    let split = text.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = text.split_at(split);
    let n: i64 = n.parse().ok()?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(unit)
}

/// How `--since TEXT` is said when nothing matched: what it is relative
/// to, or the zone it was read in.
pub(crate) fn time_said(text: &str, now: Timestamp, zone: &Zone) -> String {
    if text.parse::<Timestamp>().is_ok() || text.contains('[') {
        text.to_owned()
    } else if text == "now" || parse_span(text).is_some() {
        format!("{text} (back from now, {})", zone.show(now))
    } else if text == "today" || text == "yesterday" {
        format!("{text} (midnight in {})", zone.name())
    } else {
        format!("{text} (read in {})", zone.name())
    }
}

/// The record's timestamp, if it has a valid one.
pub(crate) fn timestamp(record: &Map<String, Value>) -> Option<Timestamp> {
    RecordView::Full(record).timestamp()
}

/// Substrings a line must hold to possibly match, checked before the line
/// is parsed: for each group, one of its needles. Parsing is most of the
/// cost of a query, and most lines of a big file fail it.
#[derive(Debug, Default)]
pub(crate) struct Prefilter(Vec<Vec<memchr::memmem::Finder<'static>>>);

impl Prefilter {
    fn of(groups: &[Vec<String>]) -> Self {
        Prefilter(
            groups
                .iter()
                .map(|g| {
                    g.iter()
                        .map(|n| memchr::memmem::Finder::new(n.as_bytes()).into_owned())
                        .collect()
                })
                .collect(),
        )
    }

    /// A prefilter for records holding the string value `id` somewhere.
    pub(crate) fn string_value(id: &str) -> Self {
        Prefilter::of(&quoted(id).map(|n| vec![vec![n]]).unwrap_or_default())
    }

    pub(crate) fn may_match(&self, line: &str) -> bool {
        self.0
            .iter()
            .all(|group| group.iter().any(|n| n.find(line.as_bytes()).is_some()))
    }
}

/// Whether `s` is written into a JSON line as is (nothing escaped).
fn plain(s: &str) -> bool {
    !s.is_empty()
        && !s
            .bytes()
            .any(|b| b == b'"' || b == b'\\' || b < 0x20 || b == 0x7f)
}

/// `"s"`, as a JSON string value appears in a line, if nothing in it is escaped.
fn quoted(s: &str) -> Option<String> {
    plain(s).then(|| format!("\"{s}\""))
}

/// One group of needles, or none when any value cannot be one.
fn group(values: &[String], needle: impl Fn(&str) -> Option<String>) -> Option<Vec<String>> {
    if values.is_empty() {
        return None;
    }
    values.iter().map(|v| needle(v)).collect()
}

/// Everything a query asks of a record; empty keeps everything.
#[derive(Debug, Default)]
pub(crate) struct Filter {
    pub(crate) events: Vec<String>,
    pub(crate) types: Vec<String>,
    pub(crate) min_level: Option<u8>,
    pub(crate) conditions: Vec<Condition>,
    pub(crate) since: Option<Timestamp>,
    /// `--since` as given, with what it was relative to, for messages.
    pub(crate) since_said: Option<String>,
    pub(crate) until: Option<Timestamp>,
    /// Matches `trace_id`, `request_id`, `correlation_id` or `session_id`.
    pub(crate) ids: Vec<String>,
    /// Keys (paths) a record must have, whatever their value (`--exists`).
    pub(crate) exists: Vec<String>,
    /// Keys a record must not have (`--missing`).
    pub(crate) missing: Vec<String>,
}

/// The keys an id given to `--id` or `trace` is looked for under.
pub(crate) const ID_KEYS: [&str; 4] = ["trace_id", "request_id", "correlation_id", "session_id"];

impl Filter {
    /// What a line must hold to match: the quoted event names, categories
    /// and ids asked for, and each `--where` value (unquoted: it may be a
    /// number). Negated conditions and levels give no needle.
    pub(crate) fn prefilter(&self) -> Prefilter {
        let mut groups = Vec::new();
        groups.extend(group(&self.events, quoted));
        groups.extend(group(&self.types, quoted));
        groups.extend(group(&self.ids, quoted));
        for c in self.conditions.iter().filter(|c| !c.negated()) {
            groups.extend(c.needles());
        }
        Prefilter::of(&groups)
    }

    pub(crate) fn matches(&self, record: &RecordView<'_>) -> bool {
        let str_of = |k: &str| record.str_of(k);
        if !self.events.is_empty()
            && !str_of("event_name").is_some_and(|n| self.events.iter().any(|e| e == n))
        {
            return false;
        }
        if !self.types.is_empty()
            && !str_of("event_type").is_some_and(|t| self.types.iter().any(|e| e == t))
        {
            return false;
        }
        if let Some(min) = self.min_level
            && str_of("level")
                .and_then(level_rank)
                .is_none_or(|rank| rank < min)
        {
            return false;
        }
        if !self.ids.is_empty()
            && !ID_KEYS
                .iter()
                .filter_map(|k| str_of(k))
                .any(|v| self.ids.iter().any(|id| id == v))
        {
            return false;
        }
        if (self.since.is_some() || self.until.is_some()) && !self.in_window(record) {
            return false;
        }
        if !self.exists.iter().all(|k| record.lookup(k).is_some())
            || self.missing.iter().any(|k| record.lookup(k).is_some())
        {
            return false;
        }
        self.conditions.iter().all(|c| c.holds(record))
    }

    fn in_window(&self, record: &RecordView<'_>) -> bool {
        let Some(t) = record.timestamp() else {
            return false;
        };
        self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t < u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn record(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    #[test]
    fn paths_reach_nested_and_dotted_keys() {
        let r = record(json!({
            "event_name": "http_request_completed",
            "metadata": {"error_type": "timeout", "http.response.status_code": 504, "db": {"rows": 3}},
            "span": {"name": "payment", "fields": {"order_id": "ord_1"}}
        }));
        assert_eq!(lookup(&r, "metadata.error_type"), Some(json!("timeout")));
        assert_eq!(lookup(&r, "error_type"), Some(json!("timeout")));
        assert_eq!(
            lookup(&r, "metadata.http.response.status_code"),
            Some(json!(504))
        );
        assert_eq!(lookup(&r, "http.response.status_code"), Some(json!(504)));
        assert_eq!(lookup(&r, "db.rows"), Some(json!(3)));
        assert_eq!(lookup(&r, "span.fields.order_id"), Some(json!("ord_1")));
        assert_eq!(lookup(&r, "nothing"), None);
        assert_eq!(lookup(&r, "metadata.nothing"), None);
    }

    #[test]
    fn conditions_compare_text_and_negate() {
        let r = record(json!({"metadata": {"items": 2, "ok": true, "code": "E1"}}));
        for (text, holds) in [
            ("items=2", true),
            ("items=3", false),
            ("ok=true", true),
            ("code!=E1", false),
            ("code!=E2", true),
            ("missing!=x", true),
            ("missing=", false),
        ] {
            assert_eq!(
                Condition::parse(text).unwrap().holds(&RecordView::Full(&r)),
                holds,
                "{text}"
            );
        }
        for bad in ["novalue", "=x", " =x", "", "=", "!=", " != x", "\u{3000}=x"] {
            assert!(Condition::parse(bad).is_err(), "{bad}");
        }
        // Split at the first `=`: the value is everything after it.
        for (text, path, value, negated) in [
            ("a=", "a", "", false),
            ("a!=", "a", "", true),
            ("a=b=c", "a", "b=c", false),
            ("a!=b!=c", "a", "b!=c", true),
            ("a=b!=c", "a", "b!=c", false),
            ("url=https://h/?q=1", "url", "https://h/?q=1", false),
            (" é.ü = x ", "é.ü", " x ", false),
            ("a==b", "a", "=b", false),
        ] {
            let c = Condition::parse(text).unwrap();
            assert_eq!(
                (c.path.as_str(), c.value.as_str(), c.negated()),
                (path, value, negated),
                "{text}"
            );
        }
    }

    #[test]
    fn times_are_absolute_local_named_days_or_back_from_now() {
        let now: Timestamp = "2026-12-01T12:00:00Z".parse().unwrap();
        let utc = Zone::default();
        let t = |s| parse_time("--since", s, now, &utc).unwrap().to_string();
        assert_eq!(t("2026-12-01T09:30:00Z"), "2026-12-01T09:30:00Z");
        assert_eq!(t("2026-12-01T09:30:00+01:00"), "2026-12-01T08:30:00Z");
        assert_eq!(t("90s"), "2026-12-01T11:58:30Z");
        assert_eq!(t("15m"), "2026-12-01T11:45:00Z");
        assert_eq!(t("2h"), "2026-12-01T10:00:00Z");
        assert_eq!(t("1d"), "2026-11-30T12:00:00Z");
        // A leading `-` says "back" too (it was refused before; `date -d -15min` reads it so).
        assert_eq!(t("-15m"), t("15m"));
        assert_eq!(t("-1d"), t("1d"));
        assert_eq!(t("now"), "2026-12-01T12:00:00Z");
        assert_eq!(t("today"), "2026-12-01T00:00:00Z");
        assert_eq!(t("yesterday"), "2026-11-30T00:00:00Z");
        // Without an offset: read in --tz (UTC by default).
        assert_eq!(t("2026-12-01T09:30:00"), "2026-12-01T09:30:00Z");
        assert_eq!(t("2026-12-01T09:30"), "2026-12-01T09:30:00Z");
        assert_eq!(t("2026-12-01 09:30"), "2026-12-01T09:30:00Z");
        assert_eq!(t("2026-12-01"), "2026-12-01T00:00:00Z");
        // A zone of the text's own wins over --tz.
        assert_eq!(t("2026-12-01T09:30[Europe/Paris]"), "2026-12-01T08:30:00Z");

        let paris = Zone::parse("Europe/Paris").unwrap();
        let p = |s| parse_time("--since", s, now, &paris).unwrap().to_string();
        assert_eq!(p("2026-12-01T09:30"), "2026-12-01T08:30:00Z");
        assert_eq!(p("2026-07-01T09:30"), "2026-07-01T07:30:00Z");
        assert_eq!(p("today"), "2026-11-30T23:00:00Z");
        assert_eq!(p("yesterday"), "2026-11-29T23:00:00Z");
        // An offset or a span means the same instant whatever --tz says.
        assert_eq!(p("2026-12-01T09:30:00Z"), "2026-12-01T09:30:00Z");
        assert_eq!(p("15m"), "2026-12-01T11:45:00Z");
        // Skipped by the change to summer time (02:00 → 03:00): read with the
        // offset before it, so 02:30 is 03:30 summer time.
        assert_eq!(p("2026-03-29T02:30"), "2026-03-29T01:30:00Z");
        // Repeated when summer time ends (03:00 → 02:00): the first of the two.
        assert_eq!(p("2026-10-25T02:30"), "2026-10-25T00:30:00Z");
        // Just after midnight in Paris, still yesterday in UTC: today is Paris's.
        let late: Timestamp = "2026-11-30T23:30:00Z".parse().unwrap();
        let at = |s, zone| parse_time("--since", s, late, zone).unwrap().to_string();
        assert_eq!(at("today", &paris), "2026-11-30T23:00:00Z");
        assert_eq!(at("today", &utc), "2026-11-30T00:00:00Z");

        for bad in [
            "tomorrow",
            "Yesterday",
            "5w",
            "m",
            "",
            "-",
            "--5m",
            "+5m",
            "5 m",
            "5M",
            "-٣m",
            "٣m",
            "99999999999999999999s",
            "9223372036854775807d",
            "9223372036854775807s",
            "-9223372036854775808s",
            "2026-13-01T00:00:00Z",
            "2026-12-01T09:30[Mars/Olympus]",
            "2026-12-01T25:00",
            "12/01/2026",
        ] {
            assert!(parse_time("--since", bad, now, &utc).is_err(), "{bad}");
        }
        assert_eq!(parse_span("-7d"), Some(7 * 86_400));
        assert_eq!(parse_span("today"), None);
        let said = |s| time_said(s, now, &paris);
        assert_eq!(
            said("15m"),
            "15m (back from now, 2026-12-01T13:00:00+01:00)"
        );
        assert_eq!(said("today"), "today (midnight in Europe/Paris)");
        assert_eq!(
            said("2026-12-01T09:30"),
            "2026-12-01T09:30 (read in Europe/Paris)"
        );
        assert_eq!(said("2026-12-01T09:30:00Z"), "2026-12-01T09:30:00Z");
    }

    #[test]
    fn prefilters_never_drop_a_matching_line() {
        let line = r#"{"level":"WARN","event_name":"payment_failed","event_type":"error","request_id":"req_1","metadata":{"items":2,"error_type":"card_declined"}}"#;
        let r: Map<String, Value> = serde_json::from_str(line).unwrap();
        let mut f = Filter {
            events: vec!["order_placed".into(), "payment_failed".into()],
            types: vec!["error".into()],
            ids: vec!["req_1".into()],
            conditions: vec![
                Condition::parse("items=2").unwrap(),
                Condition::parse("error_type!=x").unwrap(),
            ],
            ..Filter::default()
        };
        assert!(f.matches(&RecordView::Full(&r)) && f.prefilter().may_match(line));
        f.ids = vec!["req_2".into()];
        assert!(!f.prefilter().may_match(line));
        // A value JSON would escape gives no needle, so nothing is skipped.
        f.ids = vec!["a\"b".into()];
        assert!(f.prefilter().may_match(line));
        assert!(Prefilter::string_value("req_1").may_match(line));
        assert!(!Prefilter::string_value("req_10").may_match(line));
        assert!(Prefilter::default().may_match("anything"));
    }

    /// Any JSON value, nested a few levels, keys from all of Unicode and dots.
    fn any_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "\\PC{0,8}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                proptest::collection::btree_map("[a.é_]{0,4}|\\PC{0,4}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]

        /// `--where` with any text (any Unicode, empty, operators in any
        /// order, huge): a condition whose key is the trimmed, non-empty text
        /// before the first operator, or a `BadArgument` carrying the text,
        /// never a panic; and a condition holds or not on any record.
        #[test]
        fn any_where_text_parses_or_is_refused(
            text in "\\PC*|[=!<>~a. ()in,0-9]{0,12}|[a-z.]{1,5} (not )?in \\(\\PC{0,8}\\)|[a-z]{1,3}[<>]=?-?[0-9.e]{0,6}",
            record in any_json(),
        ) {
            match Condition::parse(&text) {
                Ok(c) => {
                    proptest::prop_assert!(!c.path.is_empty());
                    let (at, _, _) = find_operator(&text).unwrap();
                    proptest::prop_assert_eq!(c.path.as_str(), text.get(..at).unwrap().trim());
                    if let Value::Object(m) = &record {
                        let _ = c.holds(&RecordView::Full(m));
                    }
                }
                Err(CliError::BadArgument { arg, value, .. }) => {
                    proptest::prop_assert_eq!(arg, "--where");
                    proptest::prop_assert_eq!(value, text);
                }
                Err(other) => proptest::prop_assert!(false, "{other}"),
            }
        }

        /// `--since` with any text (spans with or without `-`, day names,
        /// dates and times without offset, zones in brackets), now at any
        /// time jiff can hold, in UTC or a zone with DST: a time or a
        /// `BadArgument` naming the flag, never a panic (overflows included).
        #[test]
        fn any_time_text_parses_or_is_refused(
            text in "\\PC*|[0-9]{1,25}[smhdw]?|-?[0-9]{1,20}[smhd]|-{0,2}[0-9]{0,3}[smhd ]?|now|today|yesterday|[0-9]{4,6}-[0-9]{1,2}-[0-9]{1,2}([T ][0-9]{1,2}(:[0-9]{1,2}){0,2})?(\\[[A-Za-z/_]{0,16}\\])?",
            now in Timestamp::MIN.as_second()..=Timestamp::MAX.as_second(),
            paris in proptest::bool::ANY,
        ) {
            let now = Timestamp::from_second(now).unwrap();
            let zone = if paris { Zone::parse("Europe/Paris").unwrap() } else { Zone::default() };
            match parse_time("--since", &text, now, &zone) {
                Ok(t) => {
                    // Whatever was parsed shows as a time that reads back.
                    proptest::prop_assert!(zone.show(t).parse::<Timestamp>().is_ok());
                    let _ = time_said(&text, now, &zone);
                }
                Err(e) => {
                    let named = matches!(e, CliError::BadArgument { arg: "--since", .. });
                    proptest::prop_assert!(named, "{}", e);
                }
            }
        }

        /// Any record, any key path and filter values: matching never panics,
        /// and `--where K=V` holds exactly when `--where K!=V` does not.
        #[test]
        fn any_record_and_path_match_or_not(
            record in any_json(),
            path in "[a.é_]{0,6}|\\PC{0,6}",
            value in "\\PC{0,4}",
        ) {
            let Value::Object(record) = record else { return Ok(()) };
            let _ = lookup(&record, &path);
            let text = format!("{path}={value}");
            if let (Ok(eq), Ok(ne)) = (
                Condition::parse(&text),
                Condition::parse(&format!("{path}!={value}")),
            ) && find_operator(&text).map(|(at, _, _)| at) == Some(path.len())
                && find_operator(&format!("{path}!={value}")).map(|(at, _, _)| at) == Some(path.len())
            {
                let view = RecordView::Full(&record);
                proptest::prop_assert_ne!(eq.holds(&view), ne.holds(&view));
            }
            let f = Filter {
                events: vec![value.clone()],
                min_level: Some(2),
                ..Filter::default()
            };
            let _ = f.matches(&RecordView::Full(&record));
        }
    }

    #[test]
    fn numbers_regexes_lists_and_existence() {
        let r = record(json!({
            "event_name": "checkout_completed",
            "metadata": {"duration_ms": 512.5, "status": "timeout", "code": 504, "note": null}
        }));
        let v = RecordView::Full(&r);
        for (text, holds) in [
            ("metadata.duration_ms>500", true),
            ("duration_ms>512.5", false),
            ("duration_ms>=512.5", true),
            ("duration_ms<1e3", true),
            ("duration_ms <= 512", false),
            ("code>500", true),
            ("status>1", false),
            ("missing<1", false),
            ("status~time", true),
            ("status~^time$", false),
            ("status!~out$", false),
            ("missing!~x", true),
            ("event_name~_completed$", true),
            ("status in (ok, timeout)", true),
            ("status in (ok)", false),
            ("code in (503,504)", true),
            ("status not in (timeout)", false),
            ("missing not in (x)", true),
            ("note=null", true),
        ] {
            assert_eq!(Condition::parse(text).unwrap().holds(&v), holds, "{text}");
        }
        for bad in [
            "duration_ms>fast",
            "duration_ms>",
            "duration_ms>inf",
            "status~(",
            "status in ()",
            "status in (a",
            "status in",
            ">5",
            " ~x",
        ] {
            assert!(Condition::parse(bad).is_err(), "{bad}");
        }
        // The first operator wins: the value of `=` keeps any other.
        let c = Condition::parse("url=a>b~c").unwrap();
        assert_eq!((c.path.as_str(), c.value.as_str()), ("url", "a>b~c"));
        let mut f = Filter {
            exists: vec!["metadata.note".into()],
            ..Filter::default()
        };
        assert!(f.matches(&v));
        f.missing = vec!["status".into()];
        assert!(!f.matches(&v));
        f.missing = vec!["span.name".into()];
        assert!(f.matches(&v));
    }

    proptest::proptest! {
        // Each case compiles a regex of up to 100 000 bytes: few cases.
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

        /// A huge `--where`: parsed or refused, never a panic.
        #[test]
        fn a_huge_where_text_is_parsed_or_refused(n in 1usize..100_000, c in "[a(~=,\\\\*+]") {
            let text = format!("k~{}", c.repeat(n));
            let _ = Condition::parse(&text);
            let text = format!("k in ({})", "a,".repeat(n));
            proptest::prop_assert!(Condition::parse(&text).is_ok());
        }

    }

    #[test]
    fn filters_combine() {
        let r = record(json!({
            "timestamp": "2026-12-01T10:00:00.5Z", "level": "WARN",
            "event_name": "payment_failed", "event_type": "error",
            "request_id": "req_1", "metadata": {"error_type": "card_declined"}
        }));
        let mut f = Filter::default();
        assert!(f.matches(&RecordView::Full(&r)));
        f.events = vec!["payment_failed".into()];
        f.types = vec!["error".into()];
        f.min_level = level_rank("warn");
        f.ids = vec!["req_1".into()];
        f.conditions = vec![Condition::parse("error_type=card_declined").unwrap()];
        f.since = Some("2026-12-01T10:00:00Z".parse().unwrap());
        f.until = Some("2026-12-01T10:00:01Z".parse().unwrap());
        assert!(f.matches(&RecordView::Full(&r)));
        f.min_level = level_rank("error");
        assert!(!f.matches(&RecordView::Full(&r)));
        f.min_level = None;
        f.until = Some("2026-12-01T10:00:00.5Z".parse().unwrap());
        assert!(!f.matches(&RecordView::Full(&r)), "until is exclusive");
    }
}
