//! `--tz`: the time zone times are shown in, and the one a time typed
//! without an offset (`--since 2026-12-01 09:30`, `today`) is read in.
//! Records stay UTC in the files and are compared as instants; only what
//! is printed changes.
//!
//! Without `--tz` every time prints as today, RFC 3339 in UTC (`…Z`), so
//! scripts and shared outputs do not depend on the machine they ran on;
//! with it, tables, text and JSON alike print RFC 3339 with the zone's
//! offset (`2026-12-01T10:30:00+01:00`), still one instant per string.
//! Zone names come from the system's tz database (`/usr/share/zoneinfo`,
//! through jiff's `tzdb-zoneinfo`; nothing bundled), `local` is the
//! system's zone (`TZ`, else `/etc/localtime`).

use jiff::Timestamp;
use jiff::tz::{Offset, TimeZone};

use crate::outcome::CliError;

/// Where times are shown and read.
#[derive(Debug, Clone)]
pub(crate) struct Zone {
    tz: TimeZone,
    /// How headers name it: `UTC`, `Europe/Paris`, `+05:30`.
    name: String,
    /// UTC (given or by default): times print with `Z`, as they always did.
    utc: bool,
}

impl Default for Zone {
    fn default() -> Self {
        Zone {
            tz: TimeZone::UTC,
            name: "UTC".to_owned(),
            utc: true,
        }
    }
}

/// The longest zone name looked up: IANA names are far shorter, so a
/// longer text is refused before it reaches the database.
const MAX_NAME: usize = 128;

impl Zone {
    /// `--tz`: `UTC`, `local`, an IANA name (`Europe/Paris`, any case), or
    /// a fixed offset (`+02:00`, `-0530`, `+02`).
    pub(crate) fn parse(text: &str) -> Result<Self, CliError> {
        let unknown = || CliError::UnknownZone {
            name: text.to_owned(),
            no_database: jiff::tz::db().is_definitively_empty(),
        };
        let trimmed = text.trim();
        if trimmed.eq_ignore_ascii_case("utc") || trimmed == "Z" {
            return Ok(Zone::default());
        }
        if trimmed.eq_ignore_ascii_case("local") {
            let tz = TimeZone::try_system().map_err(|e| CliError::LocalZone(e.to_string()))?;
            let name = tz
                .iana_name()
                .map_or_else(|| "local".to_owned(), |n| format!("local, {n}"));
            return Ok(Zone::of(tz, name));
        }
        if let Some(offset) = parse_offset(trimmed) {
            let tz = TimeZone::fixed(offset);
            return Ok(Zone::of(tz, offset.to_string()));
        }
        if trimmed.is_empty() || trimmed.len() > MAX_NAME {
            return Err(unknown());
        }
        let tz = TimeZone::get(trimmed).map_err(|_| unknown())?;
        let name = tz.iana_name().unwrap_or(trimmed).to_owned();
        Ok(Zone::of(tz, name))
    }

    fn of(tz: TimeZone, name: String) -> Self {
        let utc = tz == TimeZone::UTC;
        Zone { tz, name, utc }
    }

    pub(crate) fn tz(&self) -> &TimeZone {
        &self.tz
    }

    /// How a header names the zone.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// For a page that shows times in this zone itself (the HTML report):
    /// the zone's offsets from `from` to `to`, as `(since, seconds)` pairs
    /// in time order, `since` in ms since the epoch (the first is `from`);
    /// `None` in UTC. At most 10 000 transitions (centuries of DST).
    pub(crate) fn offsets(&self, from: Timestamp, to: Timestamp) -> Option<Vec<(i64, i32)>> {
        if self.utc {
            return None;
        }
        let mut out = vec![(from.as_millisecond(), self.tz.to_offset(from).seconds())];
        for transition in self.tz.following(from).take(10_000) {
            if transition.timestamp() > to {
                break;
            }
            out.push((
                transition.timestamp().as_millisecond(),
                transition.offset().seconds(),
            ));
        }
        Some(out)
    }

    /// `t` as RFC 3339: with `Z` in UTC, else with the zone's offset then.
    pub(crate) fn show(&self, t: Timestamp) -> String {
        if self.utc {
            t.to_string()
        } else {
            t.display_with_offset(self.tz.to_offset(t)).to_string()
        }
    }
}

/// `+02:00`, `-05:30`, `+0530`, `+02`: a sign, hours (at most 25), and
/// optional minutes.
fn parse_offset(text: &str) -> Option<Offset> {
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let rest = text.get(1..)?;
    let digits: String = rest.chars().filter(|&c| c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) || rest.matches(':').count() > 1 {
        return None;
    }
    let (h, m) = match digits.len() {
        2 => (digits.as_str(), "00"),
        4 => (digits.get(..2)?, digits.get(2..)?),
        _ => return None,
    };
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    if h > 25 || m > 59 || (rest.contains(':') && rest.find(':') != Some(2)) {
        return None;
    }
    Offset::from_seconds(sign * (h * 3600 + m * 60)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_by_name_offset_local_and_utc() {
        let t: Timestamp = "2026-12-01T09:30:00.5Z".parse().unwrap();
        let summer: Timestamp = "2026-07-01T09:30:00Z".parse().unwrap();
        assert_eq!(Zone::default().show(t), "2026-12-01T09:30:00.5Z");
        let paris = Zone::parse("Europe/Paris").unwrap();
        assert_eq!(paris.show(t), "2026-12-01T10:30:00.5+01:00");
        assert_eq!(paris.show(summer), "2026-07-01T11:30:00+02:00");
        assert_eq!(paris.name(), "Europe/Paris");
        // Case does not matter, as in the database.
        assert_eq!(Zone::parse("europe/paris").unwrap().show(t), paris.show(t));
        for utc in ["UTC", "utc", "Z", " UTC "] {
            assert_eq!(Zone::parse(utc).unwrap().show(t), "2026-12-01T09:30:00.5Z");
        }
        for (offset, shown) in [
            ("+05:30", "2026-12-01T15:00:00.5+05:30"),
            ("-0800", "2026-12-01T01:30:00.5-08:00"),
            ("+02", "2026-12-01T11:30:00.5+02:00"),
        ] {
            assert_eq!(Zone::parse(offset).unwrap().show(t), shown, "{offset}");
        }
        assert!(Zone::parse("local").is_ok());
    }

    #[test]
    fn an_unknown_zone_is_named() {
        for bad in [
            "Mars/Olympus",
            "",
            "../../../../etc/passwd",
            "/etc/localtime",
            "Europe/Paris\0",
            "+25:60",
            "+1:00",
            "++01",
            "+01:00:00",
            "Europe/Pariś",
            "日本",
        ] {
            match Zone::parse(bad) {
                Err(CliError::UnknownZone { name, .. }) => assert_eq!(name, bad),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
        let said = Zone::parse("Mars/Olympus").unwrap_err().to_string();
        assert!(
            said.starts_with("--tz \"Mars/Olympus\": no such time zone"),
            "{said}"
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]
        /// Any text: a zone that shows any instant, or the typed error
        /// naming the text; never a panic.
        #[test]
        fn any_zone_text_is_a_zone_or_named(
            text in "\\PC{0,40}|[+-][0-9:]{0,6}|[A-Za-z_/]{1,30}",
            t in Timestamp::MIN.as_second()..=Timestamp::MAX.as_second(),
        ) {
            match Zone::parse(&text) {
                Ok(zone) => {
                    let shown = zone.show(Timestamp::from_second(t).unwrap());
                    proptest::prop_assert!(shown.parse::<Timestamp>().is_ok(), "{}", shown);
                }
                Err(CliError::UnknownZone { name, .. }) => proptest::prop_assert_eq!(name, text),
                Err(CliError::LocalZone(_)) => {}
                Err(other) => proptest::prop_assert!(false, "{}", other),
            }
        }
    }
}
