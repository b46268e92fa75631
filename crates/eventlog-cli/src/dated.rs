//! tracing-appender's file names, so a directory of its rotated files is
//! read, in time order. `tracing_appender::rolling` (0.2, `join_date`)
//! names a file `{prefix}.{date}.{suffix}`, `{prefix}.{date}`,
//! `{date}.{suffix}` or `{date}`, where the date is the start of its
//! period in UTC: `YYYY-MM-DD` (daily and weekly), `YYYY-MM-DD-HH`
//! (hourly) or `YYYY-MM-DD-HH-mm` (minutely). Compressed afterwards (by
//! logrotate or by hand), the same name with `.gz`.

use std::time::SystemTime;

/// What a tracing-appender name says: which files it rotates with, and when
/// its period starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Dated {
    /// The name without its date (`app.log`, `svc..jsonl`): files of one
    /// appender share it.
    pub(crate) family: String,
    pub(crate) start: SystemTime,
    /// Nothing follows the date (but `.gz`): no event-like extension is
    /// needed to read it from a directory.
    pub(crate) date_last: bool,
}

/// The date-and-time of `part` (`2026-12-01`, `2026-12-01-13`,
/// `2026-12-01-13-05`), as a UTC instant.
fn date(part: &str) -> Option<SystemTime> {
    let fields: Vec<&str> = part.split('-').collect();
    let widths = [4, 2, 2, 2, 2];
    if !(3..=5).contains(&fields.len())
        || fields
            .iter()
            .zip(widths)
            .any(|(f, w)| f.len() != w || !f.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    let n = |i: usize| fields.get(i).map_or(Some(0), |f| f.parse::<i8>().ok());
    let year: i16 = fields.first()?.parse().ok()?;
    let (month, day, hour, minute) = (n(1)?, n(2)?, n(3)?, n(4)?);
    let civil = jiff::civil::DateTime::new(year, month, day, hour, minute, 0, 0).ok()?;
    let t = civil.to_zoned(jiff::tz::TimeZone::UTC).ok()?.timestamp();
    Some(SystemTime::from(t))
}

/// The name's family and date, if tracing-appender could have written it.
pub(crate) fn parse(name: &str) -> Option<Dated> {
    let plain = name
        .strip_suffix(".gz")
        .or_else(|| name.strip_suffix(".GZ"))
        .unwrap_or(name);
    let parts: Vec<&str> = plain.split('.').collect();
    // The last part that is a date: prefixes are free text, a date is not.
    let (at, start) = parts
        .iter()
        .enumerate()
        .rev()
        .find_map(|(i, p)| date(p).map(|t| (i, t)))?;
    let prefix = parts.get(..at)?.join(".");
    let suffix = parts.get(at + 1..)?.join(".");
    Some(Dated {
        family: format!("{prefix}\u{0}{suffix}"),
        start,
        date_last: suffix.is_empty(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> SystemTime {
        SystemTime::from(text.parse::<jiff::Timestamp>().unwrap())
    }

    #[test]
    fn every_form_tracing_appender_writes() {
        for (name, family, start, date_last) in [
            (
                "app.log.2026-12-01",
                "app.log\0",
                "2026-12-01T00:00:00Z",
                true,
            ),
            (
                "app.log.2026-12-01-13",
                "app.log\0",
                "2026-12-01T13:00:00Z",
                true,
            ),
            (
                "app.log.2026-12-01-13-05",
                "app.log\0",
                "2026-12-01T13:05:00Z",
                true,
            ),
            (
                "app.log.2026-12-01-13-05.gz",
                "app.log\0",
                "2026-12-01T13:05:00Z",
                true,
            ),
            (
                "app.2026-12-01.log",
                "app\0log",
                "2026-12-01T00:00:00Z",
                false,
            ),
            (
                "app.2026-12-01.log.gz",
                "app\0log",
                "2026-12-01T00:00:00Z",
                false,
            ),
            ("2026-12-01.jsonl", "\0jsonl", "2026-12-01T00:00:00Z", false),
            ("2026-12-01-23", "\0", "2026-12-01T23:00:00Z", true),
            (
                "my.app.2026-12-01.2026-12-02",
                "my.app.2026-12-01\0",
                "2026-12-02T00:00:00Z",
                true,
            ),
            ("日志.2026-12-01", "日志\0", "2026-12-01T00:00:00Z", true),
        ] {
            assert_eq!(
                parse(name),
                Some(Dated {
                    family: family.to_owned(),
                    start: at(start),
                    date_last
                }),
                "{name}"
            );
        }
        for no in [
            "app.log",
            "app.log.1",
            "app.log.2026-12-1",
            "app.log.2026-13-01",
            "app.log.2026-02-30",
            "app.log.2026-12-01-24",
            "app.log.2026-12-01-13-60",
            "app.log.2026-12-01-13-05-09",
            "app.log.20261201",
            "app.log.+026-12-01",
            "app.log.２０２６-12-01",
            "",
            ".gz",
        ] {
            assert_eq!(parse(no), None, "{no}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
        /// Any name, in all of Unicode: parsed or not, never a panic.
        #[test]
        fn any_name_is_parsed_or_not(
            name in "\\PC{0,40}|[a-z.]{0,6}\\.?[0-9]{4}-[0-9]{2}-[0-9]{2}(-[0-9]{2}){0,3}(\\.[a-z]{0,5})?(\\.gz)?",
        ) {
            if let Some(d) = parse(&name) {
                proptest::prop_assert!(d.start >= SystemTime::from(jiff::Timestamp::MIN));
            }
        }
    }
}
