//! Wall-clock time: the injectable clock and the two timestamp formats the
//! appender writes (RFC 3339 in self-reports, a sortable stamp in file names).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Source of wall-clock time for rotation, file names and retention by age.
///
/// Hidden from the docs: it exists so tests can drive time-based rotation
/// without sleeping. Production code always uses the system clock.
///
/// ```
/// use eventlog_appender::Clock;
/// use std::time::{Duration, SystemTime, UNIX_EPOCH};
///
/// #[derive(Debug)]
/// struct Fixed;
/// impl Clock for Fixed {
///     fn now(&self) -> SystemTime {
///         UNIX_EPOCH + Duration::from_secs(1_700_000_000)
///     }
/// }
/// assert_eq!(Fixed.now(), UNIX_EPOCH + Duration::from_secs(1_700_000_000));
/// ```
#[doc(hidden)]
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current wall-clock time.
    fn now(&self) -> SystemTime;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// Whole seconds and sub-second microseconds since the Unix epoch; times
/// before the epoch are clamped to it (a clock that far off is a bug elsewhere).
pub(crate) fn unix(t: SystemTime) -> (i64, u32) {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    (
        i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        d.subsec_micros(),
    )
}

/// A broken-down UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    pub(crate) year: i64,
    pub(crate) month: u32,
    pub(crate) day: u32,
    pub(crate) hour: u32,
    pub(crate) minute: u32,
    pub(crate) second: u32,
    pub(crate) micros: u32,
}

impl Civil {
    pub(crate) fn from_time(t: SystemTime) -> Civil {
        let (secs, micros) = unix(t);
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        // `rem` is in 0..86_400, so these casts cannot truncate.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let rem = rem as u32;
        Civil {
            year,
            month,
            day,
            hour: rem / 3600,
            minute: rem / 60 % 60,
            second: rem % 60,
            micros,
        }
    }

    pub(crate) fn to_unix_secs(self) -> i64 {
        days_from_civil(self.year, self.month, self.day) * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
    }
}

// Howard Hinnant's `civil_from_days` / `days_from_civil`
// (http://howardhinnant.github.io/date_algorithms.html), valid far beyond any log's lifetime.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn push_num(out: &mut Vec<u8>, value: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut v = value;
    let mut i = digits.len();
    while v > 0 && i > 0 {
        i -= 1;
        // `v % 10` is a single digit.
        #[allow(clippy::cast_possible_truncation)]
        let d = (v % 10) as u8;
        digits[i] = b'0' + d;
        v /= 10;
    }
    let len = (digits.len() - i).max(width).min(digits.len());
    out.extend_from_slice(&digits[digits.len() - len..]);
}

fn year_u64(year: i64) -> u64 {
    u64::try_from(year).unwrap_or(0)
}

/// Length of a file-name stamp, `20261125T085000.123Z`.
pub(crate) const STAMP_LEN: usize = 20;

/// The file-name stamp: UTC, millisecond precision, sorts as text in time order
/// and holds no `:` (not allowed in Windows file names).
pub(crate) fn file_stamp(t: SystemTime) -> String {
    let c = Civil::from_time(t);
    let mut out = Vec::with_capacity(STAMP_LEN);
    push_num(&mut out, year_u64(c.year), 4);
    push_num(&mut out, u64::from(c.month), 2);
    push_num(&mut out, u64::from(c.day), 2);
    out.push(b'T');
    push_num(&mut out, u64::from(c.hour), 2);
    push_num(&mut out, u64::from(c.minute), 2);
    push_num(&mut out, u64::from(c.second), 2);
    out.push(b'.');
    push_num(&mut out, u64::from(c.micros / 1000), 3);
    out.push(b'Z');
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses a [`file_stamp`] back into a time; `None` unless it is exactly that shape.
pub(crate) fn parse_file_stamp(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != STAMP_LEN || b[8] != b'T' || b[15] != b'.' || b[19] != b'Z' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = &b[range];
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let civil = Civil {
        year: i64::from(num(0..4)?),
        month: num(4..6)?,
        day: num(6..8)?,
        hour: num(9..11)?,
        minute: num(11..13)?,
        second: num(13..15)?,
        micros: 0,
    };
    let millis = num(16..19)?;
    if !(1..=12).contains(&civil.month)
        || !(1..=31).contains(&civil.day)
        || civil.hour > 23
        || civil.minute > 59
        || civil.second > 60
    {
        return None;
    }
    let secs = u64::try_from(civil.to_unix_secs()).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_millis(u64::from(millis)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64, micros: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros)
    }

    #[test]
    fn formats_known_instants() {
        // 2026-11-25T08:50:07.123456Z
        assert_eq!(
            file_stamp(at(1_795_596_607, 123_456)),
            "20261125T085007.123Z"
        );
        // Leap day 2000.
        assert_eq!(file_stamp(at(951_782_400, 0)), "20000229T000000.000Z");
    }

    #[test]
    fn stamp_round_trips() {
        for secs in [0, 59, 951_782_400, 1_795_596_607, 4_102_444_799] {
            let t = at(secs, 123_000);
            assert_eq!(parse_file_stamp(&file_stamp(t)), Some(t), "{secs}");
        }
        assert_eq!(parse_file_stamp("20261125T085007.123"), None);
        assert_eq!(parse_file_stamp("20261325T085007.123Z"), None);
        assert_eq!(parse_file_stamp("2026112xT085007.123Z"), None);
    }

    #[test]
    fn civil_matches_days_for_a_range() {
        for days in (-1000..30_000).step_by(17) {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
