//! When a rolling file starts a new file by time, and in which time zone the
//! period boundaries fall.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::clock;

/// How often a [`RollingFile`](crate::RollingFile) starts a new file by time.
///
/// A closed set that may grow, so it is a newtype with associated constants
/// rather than a public enum. Size-based rotation
/// ([`RollingFileBuilder::max_bytes`](crate::RollingFileBuilder::max_bytes))
/// combines with any of them.
///
/// ```
/// use eventlog_appender::Rotation;
///
/// assert_eq!(Rotation::HOURLY.period(), Some(std::time::Duration::from_secs(3600)));
/// assert_eq!(Rotation::NEVER.period(), None);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rotation(Kind);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Never,
    Minutely,
    Hourly,
    Daily,
}

impl Rotation {
    /// No time-based rotation (size-based rotation may still apply).
    pub const NEVER: Rotation = Rotation(Kind::Never);
    /// A new file at the start of every minute.
    pub const MINUTELY: Rotation = Rotation(Kind::Minutely);
    /// A new file at the start of every hour.
    pub const HOURLY: Rotation = Rotation(Kind::Hourly);
    /// A new file at midnight.
    pub const DAILY: Rotation = Rotation(Kind::Daily);

    /// The period length, or `None` for [`Rotation::NEVER`].
    pub const fn period(self) -> Option<Duration> {
        match self.0 {
            Kind::Never => None,
            Kind::Minutely => Some(Duration::from_secs(60)),
            Kind::Hourly => Some(Duration::from_secs(3600)),
            Kind::Daily => Some(Duration::from_secs(86_400)),
        }
    }

    /// The start of the period holding `now`, and the start of the next one.
    pub(crate) fn bounds(
        self,
        now: SystemTime,
        zone: TimeZone,
    ) -> Option<(SystemTime, SystemTime)> {
        let period = i64::try_from(self.period()?.as_secs()).ok()?;
        let (secs, _) = clock::unix(now);
        let offset = i64::from(zone.offset_at(now));
        let start = (secs + offset).div_euclid(period) * period - offset;
        let to_time =
            |s: i64| UNIX_EPOCH + Duration::from_secs(u64::try_from(s.max(0)).unwrap_or(0));
        Some((to_time(start), to_time(start + period)))
    }
}

/// The time zone in which rotation periods start (the hour or midnight).
///
/// File names always carry UTC stamps, whatever the zone; only the boundaries
/// move. [`TimeZone::UTC`] is the default.
///
/// ```
/// use eventlog_appender::TimeZone;
///
/// let cet = TimeZone::fixed(3600).unwrap();
/// assert_eq!(cet.offset_seconds(), 3600);
/// assert!(TimeZone::fixed(90_000).is_none());
/// assert_eq!(TimeZone::default(), TimeZone::UTC);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TimeZone(Zone);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
enum Zone {
    #[default]
    Utc,
    Fixed(i32),
    #[cfg(feature = "local-time")]
    Local,
}

impl TimeZone {
    /// Coordinated Universal Time.
    pub const UTC: TimeZone = TimeZone(Zone::Utc);

    /// A fixed offset east of UTC in seconds (negative for west), within ±24 h;
    /// `None` outside that range.
    pub const fn fixed(offset_seconds: i32) -> Option<TimeZone> {
        if offset_seconds > -86_400 && offset_seconds < 86_400 {
            Some(TimeZone(Zone::Fixed(offset_seconds)))
        } else {
            None
        }
    }

    /// The system's local time zone (`TZ`, else `/etc/localtime`), daylight
    /// saving included, looked up at each boundary. Falls back to UTC when the
    /// zone cannot be determined.
    ///
    /// Requires the `local-time` feature.
    ///
    /// ```
    /// let zone = eventlog_appender::TimeZone::local();
    /// assert!(zone.offset_seconds().abs() < 86_400);
    /// ```
    #[cfg(feature = "local-time")]
    #[cfg_attr(docsrs, doc(cfg(feature = "local-time")))]
    pub const fn local() -> TimeZone {
        TimeZone(Zone::Local)
    }

    /// The offset east of UTC now, in seconds.
    pub fn offset_seconds(self) -> i32 {
        self.offset_at(SystemTime::now())
    }

    #[cfg_attr(not(feature = "local-time"), allow(unused_variables))]
    fn offset_at(self, at: SystemTime) -> i32 {
        match self.0 {
            Zone::Utc => 0,
            Zone::Fixed(s) => s,
            #[cfg(feature = "local-time")]
            Zone::Local => local_offset(at),
        }
    }
}

#[cfg(feature = "local-time")]
fn local_offset(at: SystemTime) -> i32 {
    let Ok(ts) = jiff::Timestamp::try_from(at) else {
        return 0;
    };
    jiff::tz::TimeZone::try_system().map_or(0, |tz| tz.to_offset(ts).seconds())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn utc_bounds() {
        // 2026-11-25T08:50:07Z
        let now = at(1_795_596_607);
        let (start, next) = Rotation::HOURLY.bounds(now, TimeZone::UTC).unwrap();
        assert_eq!((start, next), (at(1_795_593_600), at(1_795_597_200)));
        let (start, next) = Rotation::DAILY.bounds(now, TimeZone::UTC).unwrap();
        assert_eq!((start, next), (at(1_795_564_800), at(1_795_651_200)));
        let (start, _) = Rotation::MINUTELY.bounds(now, TimeZone::UTC).unwrap();
        assert_eq!(start, at(1_795_596_600));
        assert!(Rotation::NEVER.bounds(now, TimeZone::UTC).is_none());
    }

    #[test]
    fn fixed_offset_moves_midnight() {
        let now = at(1_795_596_607); // 08:50Z = 10:50 at +02:00, local midnight = 22:00Z the day before
        let zone = TimeZone::fixed(7200).unwrap();
        let (start, next) = Rotation::DAILY.bounds(now, zone).unwrap();
        assert_eq!(start, at(1_795_564_800 - 7200));
        assert_eq!(next, at(1_795_651_200 - 7200));
        // Half-hour zones shift hourly boundaries too.
        let zone = TimeZone::fixed(-(3 * 3600 + 1800)).unwrap();
        let (start, _) = Rotation::HOURLY.bounds(now, zone).unwrap();
        assert_eq!(start, at(1_795_593_600 + 1800));
    }
}
