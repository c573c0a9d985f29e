use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Serialize};

/// A point in event time: milliseconds since the Unix epoch, UTC.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Timestamp(pub i64);

/// Why a timestamp could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    /// The text is no timestamp format we know.
    #[error("`{0}` is not a timestamp (expected RFC 3339, `YYYY-MM-DD HH:MM:SS`, or epoch seconds/milliseconds)")]
    Unrecognised(String),
    /// The text looks like a date but names an impossible one.
    #[error("`{0}` is not a valid date and time")]
    Impossible(String),
    /// A local time skipped in its time zone (the hour clocks jump over in spring).
    #[error("`{0}` does not exist in the time zone given (clocks jumped over it)")]
    Skipped(String),
    /// Epoch number outside the years 1970..=2200.
    #[error("`{0}` is outside the supported range (years 1970 to 2200)")]
    OutOfRange(String),
}

const MAX_MS: i64 = 7_258_118_400_000; // 2200-01-01

impl Timestamp {
    /// From seconds since the epoch.
    pub const fn from_secs(s: i64) -> Self {
        Self(s * 1000)
    }

    /// Seconds since the epoch (rounded down).
    pub const fn secs(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// Reads a timestamp in any of the forms telemetry exporters write:
    /// RFC 3339 with `Z` or an offset, `YYYY-MM-DD HH:MM:SS[.fff]` or with `T` (taken as UTC),
    /// a bare date, epoch seconds, or epoch milliseconds (numbers of 12 digits or more).
    pub fn parse(text: &str) -> Result<Self, TimestampError> {
        Self::parse_in(text, &Utc).map(|(t, _)| t)
    }

    /// As [`Timestamp::parse`], reading a time written without an offset (`2024-03-01
    /// 08:00`, a bare date) as local time in `zone`; also says whether the text had no
    /// offset. A local time that occurs twice (clocks set back) is its first occurrence; one
    /// that never occurs (clocks set forward) is an error.
    pub fn parse_in<Tz: TimeZone>(text: &str, zone: &Tz) -> Result<(Self, bool), TimestampError> {
        let s = text.trim();
        if s.is_empty() {
            return Err(TimestampError::Unrecognised(text.to_string()));
        }
        if s.bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
            && !s[1..].contains('-')
        {
            return Self::parse_epoch(s).map(|t| (t, false));
        }
        if let Ok(dt) = DateTime::parse_from_rfc3339(s) {
            return Self::checked(dt.timestamp_millis(), s).map(|t| (t, false));
        }
        let local = |dt: NaiveDateTime| match zone.from_local_datetime(&dt) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => {
                Self::checked(t.timestamp_millis(), s).map(|t| (t, true))
            }
            LocalResult::None => Err(TimestampError::Skipped(s.to_string())),
        };
        for fmt in [
            "%Y-%m-%d %H:%M:%S%.f",
            "%Y-%m-%dT%H:%M:%S%.f",
            "%Y-%m-%d %H:%M",
            "%Y-%m-%dT%H:%M",
        ] {
            if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
                return local(dt);
            }
        }
        for fmt in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%z"] {
            if let Ok(dt) = DateTime::parse_from_str(s, fmt) {
                return Self::checked(dt.timestamp_millis(), s).map(|t| (t, false));
            }
        }
        if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            return local(d.and_hms_opt(0, 0, 0).expect("midnight exists"));
        }
        let looks_like_date = s.len() >= 10
            && s.as_bytes()[..4].iter().all(u8::is_ascii_digit)
            && s.as_bytes()[4] == b'-';
        Err(if looks_like_date {
            TimestampError::Impossible(s.to_string())
        } else {
            TimestampError::Unrecognised(s.to_string())
        })
    }

    fn parse_epoch(s: &str) -> Result<Self, TimestampError> {
        let v: f64 = s
            .parse()
            .map_err(|_| TimestampError::Unrecognised(s.to_string()))?;
        if !v.is_finite() {
            return Err(TimestampError::Unrecognised(s.to_string()));
        }
        // 12 digits or more before the point: milliseconds (1e11 s is the year 5138).
        let ms = if v.abs() >= 1e11 { v } else { v * 1000.0 };
        if !(0.0..=MAX_MS as f64).contains(&ms) {
            return Err(TimestampError::OutOfRange(s.to_string()));
        }
        Ok(Self(ms.round() as i64))
    }

    fn checked(ms: i64, s: &str) -> Result<Self, TimestampError> {
        Self::from_epoch_millis(ms).ok_or_else(|| TimestampError::OutOfRange(s.to_string()))
    }

    /// From milliseconds since the epoch, when within the supported years (1970 to 2200).
    pub fn from_epoch_millis(ms: i64) -> Option<Self> {
        (0..=MAX_MS).contains(&ms).then_some(Self(ms))
    }

    /// This time rounded down to a multiple of `interval` (aligned to the epoch).
    pub fn floor(self, interval: Interval) -> Self {
        Self(self.0 - self.0.rem_euclid(interval.millis().max(1)))
    }

    /// Milliseconds into the UTC day.
    pub fn millis_of_day(self) -> i64 {
        self.0.rem_euclid(86_400_000)
    }

    /// Day of the week, 0 = Monday.
    pub fn weekday(self) -> u32 {
        // 1970-01-01 was a Thursday (3 when Monday is 0).
        ((self.0.div_euclid(86_400_000) + 3).rem_euclid(7)) as u32
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match DateTime::<Utc>::from_timestamp_millis(self.0) {
            Some(dt) if self.0 % 1000 == 0 => {
                f.write_str(&dt.to_rfc3339_opts(SecondsFormat::Secs, true))
            }
            Some(dt) => f.write_str(&dt.to_rfc3339_opts(SecondsFormat::Millis, true)),
            None => write!(f, "{}ms", self.0),
        }
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A length of time written as `30s`, `15m`, `1h`, `1d` or `1w` (a number and a unit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Interval(i64);

impl Interval {
    /// An interval of this many milliseconds.
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms)
    }
    /// An interval of this many minutes.
    pub const fn from_minutes(m: i64) -> Self {
        Self(m * 60_000)
    }
    /// Length in milliseconds.
    pub const fn millis(self) -> i64 {
        self.0
    }
    /// Length in seconds.
    pub const fn secs(self) -> i64 {
        self.0 / 1000
    }
}

impl FromStr for Interval {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
        let (num, unit) = s.split_at(split);
        let n: i64 = num.parse().map_err(|_| {
            format!("`{s}` is not a duration; write a number and a unit, e.g. 15m, 1h, 1d")
        })?;
        let unit_ms = match unit {
            "ms" => 1,
            "s" => 1000,
            "m" | "min" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "w" => 7 * 86_400_000,
            _ => {
                return Err(format!(
                    "`{s}` has an unknown unit `{unit}`; use ms, s, m, h, d or w"
                ))
            }
        };
        if n <= 0 {
            return Err(format!("`{s}` must be longer than zero"));
        }
        n.checked_mul(unit_ms)
            .map(Self)
            .ok_or_else(|| format!("`{s}` is too long"))
    }
}

impl TryFrom<String> for Interval {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<Interval> for String {
    fn from(i: Interval) -> Self {
        i.to_string()
    }
}

impl fmt::Display for Interval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(i64, &str); 6] = [
            (7 * 86_400_000, "w"),
            (86_400_000, "d"),
            (3_600_000, "h"),
            (60_000, "m"),
            (1000, "s"),
            (1, "ms"),
        ];
        for (ms, unit) in UNITS {
            if self.0 % ms == 0 {
                return write!(f, "{}{unit}", self.0 / ms);
            }
        }
        write!(f, "{}ms", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixed_formats_agree() {
        let a = Timestamp::parse("1704067200").unwrap();
        let b = Timestamp::parse("1704067200000").unwrap();
        let c = Timestamp::parse("2024-01-01 00:00:00").unwrap();
        let d = Timestamp::parse("2024-01-01T05:30:00+05:30").unwrap();
        let e = Timestamp::parse("2024-01-01T00:00:00Z").unwrap();
        assert!(a == b && b == c && c == d && d == e);
        assert_eq!(a.to_string(), "2024-01-01T00:00:00Z");
        assert_eq!(
            Timestamp::parse("2024-01-01 00:00:00.500000").unwrap().0,
            a.0 + 500
        );
    }

    #[test]
    fn bad_times_are_errors() {
        assert!(matches!(
            Timestamp::parse("2024-13-45T99:00:00Z"),
            Err(TimestampError::Impossible(_))
        ));
        assert!(matches!(
            Timestamp::parse("yesterday"),
            Err(TimestampError::Unrecognised(_))
        ));
        assert!(Timestamp::parse("").is_err());
        assert!(Timestamp::parse("1e400").is_err());
        assert!(Timestamp::parse("-5").is_err());
        assert!(Timestamp::parse("99999999999999999999").is_err());
    }

    #[test]
    fn calendar_helpers() {
        let t = Timestamp::parse("2024-01-01T10:20:00Z").unwrap(); // a Monday
        assert_eq!(t.weekday(), 0);
        assert_eq!(
            t.floor(Interval::from_minutes(15)).to_string(),
            "2024-01-01T10:15:00Z"
        );
        assert_eq!(t.millis_of_day(), (10 * 60 + 20) * 60_000);
    }

    #[test]
    fn intervals() {
        assert_eq!(
            "15m".parse::<Interval>().unwrap(),
            Interval::from_minutes(15)
        );
        assert_eq!("1h".parse::<Interval>().unwrap().to_string(), "1h");
        assert_eq!(Interval::from_minutes(90).to_string(), "90m");
        assert!("0m".parse::<Interval>().is_err());
        assert!("15 parsecs".parse::<Interval>().is_err());
        assert!("m".parse::<Interval>().is_err());
        assert!("99999999999999999w".parse::<Interval>().is_err());
    }
}
