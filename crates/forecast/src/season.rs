//! Finding a series' seasonal period from its data, so that a user's file needs no season
//! setting: the autocorrelation (linear trend removed) at the calendar periods the sampling
//! interval implies (a day, then a week), else at its strongest peak.
//!
//! ```
//! use ai4ict_core::Interval;
//! use ai4ict_forecast::{detect_season, SeasonSource};
//!
//! // Ten days of a daily cycle sampled every 30 minutes.
//! let y: Vec<f64> = (0..480)
//!     .map(|t| 100.0 + 30.0 * (std::f64::consts::TAU * (t % 48) as f64 / 48.0).sin())
//!     .collect();
//! let s = detect_season(&y, Some(Interval::from_minutes(30))).unwrap();
//! assert_eq!(s.period, 48);
//! assert_eq!(s.source, SeasonSource::Calendar("day"));
//! assert_eq!(detect_season(&y, None).unwrap().period, 48); // from the ACF peak alone
//! ```

use std::fmt;

use ai4ict_core::Interval;
use serde::Serialize;

use crate::stats::clean;
use crate::ForecastError;

/// Least autocorrelation at a period for it to count as a season.
pub const MIN_SEASON_ACF: f64 = 0.3;
/// Least amount by which the autocorrelation at a period must exceed the one at half the
/// period: a season's peak stands out, a slow wander (a random walk) does not.
pub const MIN_SEASON_PROMINENCE: f64 = 0.2;
/// A period must fit this many times into the series to be found.
pub const MIN_CYCLES: usize = 3;
/// Longest lag the peak search looks at (bounds its cost to `O(n · MAX_SEARCH_LAG)`).
pub const MAX_SEARCH_LAG: usize = 2_000;

/// How a season was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SeasonSource {
    /// A calendar period of the sampling interval (`day` or `week`) has a clear
    /// autocorrelation peak.
    Calendar(&'static str),
    /// The strongest autocorrelation peak, when no calendar period has one (or the interval
    /// is unknown).
    Peak,
    /// No period stands out: the series is treated as having no season (period 1).
    None,
    /// Set by the user, not found from the data.
    Given,
}

/// The seasonal period of a series as [`detect_season`] found it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Season {
    /// The period in samples; 1 when the series has no season.
    pub period: usize,
    /// The autocorrelation at the period (linear trend removed); 0 when there is none, NaN
    /// when the period was given.
    pub acf: f64,
    /// How it was found.
    pub source: SeasonSource,
}

impl fmt::Display for Season {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.source {
            SeasonSource::Calendar(what) => {
                write!(f, "{} (1 {what}, ACF {:.2})", self.period, self.acf)
            }
            SeasonSource::Peak => write!(f, "{} (ACF peak {:.2})", self.period, self.acf),
            SeasonSource::None => f.write_str("none"),
            SeasonSource::Given => write!(f, "{} (given)", self.period),
        }
    }
}

/// The calendar periods, in samples, of a series sampled every `interval`: a day and a week,
/// rounded to whole samples, keeping those of at least 2 samples.
pub fn calendar_periods(interval: Interval) -> Vec<(&'static str, usize)> {
    let ms = interval.millis();
    if ms <= 0 {
        return Vec::new();
    }
    [("day", 86_400_000i64), ("week", 7 * 86_400_000)]
        .into_iter()
        .map(|(name, len)| (name, ((len as f64) / (ms as f64)).round() as usize))
        .filter(|&(_, p)| p >= 2)
        .collect()
}

/// The series with its least-squares line removed.
fn detrend(y: &[f64]) -> Vec<f64> {
    let n = y.len() as f64;
    let tm = (n - 1.0) / 2.0;
    let ym = y.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (t, v) in y.iter().enumerate() {
        let dt = t as f64 - tm;
        sxy += dt * (v - ym);
        sxx += dt * dt;
    }
    let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
    y.iter()
        .enumerate()
        .map(|(t, v)| v - ym - slope * (t as f64 - tm))
        .collect()
}

/// The autocorrelation at lag `k` of a centred series whose sum of squares is `ss` (0 for a
/// constant series or a lag past its end).
fn lag_acf(x: &[f64], ss: f64, k: usize) -> f64 {
    if ss > 0.0 && k < x.len() {
        x.iter().zip(&x[k..]).map(|(a, b)| a * b).sum::<f64>() / ss
    } else {
        0.0
    }
}

/// True when the autocorrelations at a period (`at`) and at half of it (`half`) make the
/// period a season: high enough, and above the half-period value by [`MIN_SEASON_PROMINENCE`].
fn is_seasonal(at: f64, half: f64) -> bool {
    at >= MIN_SEASON_ACF && at - half >= MIN_SEASON_PROMINENCE
}

/// Finds the seasonal period of `series` (oldest first, equally spaced; gaps, i.e. NaN or
/// infinite values, are interpolated). With the sampling `interval` known, the first of a
/// day and a week (see [`calendar_periods`]) whose autocorrelation is at least
/// [`MIN_SEASON_ACF`] and stands [`MIN_SEASON_PROMINENCE`] above the one at half the period
/// is the season: daily traffic gets a day even when its weekly peak is higher, and MSTL
/// adds the week. Otherwise the period is the shortest autocorrelation peak (a local maximum
/// after the autocorrelation first turns negative) within 90 % of the highest one that passes
/// the same test, among lags that fit [`MIN_CYCLES`] times. A series with no such period
/// gets period 1.
///
/// Errors only when the series has no finite value.
pub fn detect_season(series: &[f64], interval: Option<Interval>) -> Result<Season, ForecastError> {
    let none = Season {
        period: 1,
        acf: 0.0,
        source: SeasonSource::None,
    };
    if series.is_empty() {
        return Ok(none);
    }
    let y = clean(series, 1, true)?;
    let longest = y.len() / MIN_CYCLES;
    if longest < 2 {
        return Ok(none);
    }
    let calendar: Vec<(&'static str, usize)> = interval
        .map(calendar_periods)
        .unwrap_or_default()
        .into_iter()
        .filter(|&(_, p)| p <= longest)
        .collect();
    let x = detrend(&y);
    let ss: f64 = x.iter().map(|v| v * v).sum();
    let at = |k: usize| lag_acf(&x, ss, k);
    if let Some(&(name, period)) = calendar
        .iter()
        .find(|&&(_, p)| is_seasonal(at(p), at(p / 2)))
    {
        return Ok(Season {
            period,
            acf: at(period),
            source: SeasonSource::Calendar(name),
        });
    }
    let search = longest.min(MAX_SEARCH_LAG);
    let r: Vec<f64> = (0..=search).map(at).collect();
    let Some(first_negative) = (1..=search).find(|&k| r[k] < 0.0) else {
        return Ok(none);
    };
    let peaks: Vec<usize> = (first_negative + 1..search)
        .filter(|&k| r[k] >= r[k - 1] && r[k] >= r[k + 1] && is_seasonal(r[k], r[k / 2]))
        .collect();
    let Some(best) = peaks.iter().map(|&k| r[k]).max_by(f64::total_cmp) else {
        return Ok(none);
    };
    Ok(peaks
        .into_iter()
        .find(|&k| r[k] >= 0.9 * best)
        .map_or(none, |period| Season {
            period,
            acf: r[period],
            source: SeasonSource::Peak,
        }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::{normals, seasonal};

    #[test]
    fn finds_a_period_of_48_from_the_calendar_and_from_the_peak() {
        let y = seasonal(48 * 14, 48, 3.0, 1);
        let s = detect_season(&y, Some(Interval::from_minutes(30))).unwrap();
        assert_eq!((s.period, s.source), (48, SeasonSource::Calendar("day")));
        assert!(s.acf > 0.8, "{s}");
        let s = detect_season(&y, None).unwrap();
        assert_eq!((s.period, s.source), (48, SeasonSource::Peak));
    }

    #[test]
    fn finds_a_period_of_24_with_gaps_and_a_weekly_pattern() {
        // Hourly, daily cycle, busier weekdays: the day is the season, not the week.
        let mut y: Vec<f64> = seasonal(24 * 28, 24, 2.0, 2)
            .into_iter()
            .enumerate()
            .map(|(t, v)| v + if (t / 24) % 7 < 5 { 10.0 } else { 0.0 })
            .collect();
        y[100] = f64::NAN;
        y[101] = f64::INFINITY;
        let s = detect_season(&y, Some(Interval::from_minutes(60))).unwrap();
        assert_eq!((s.period, s.source), (24, SeasonSource::Calendar("day")));
        assert_eq!(detect_season(&y, None).unwrap().period, 24);
    }

    #[test]
    fn no_season_in_noise_a_trend_or_a_random_walk() {
        for seed in 0..5 {
            let e = normals(2000, 10 + seed);
            let trend: Vec<f64> = e
                .iter()
                .enumerate()
                .map(|(t, v)| 0.05 * t as f64 + v)
                .collect();
            let mut ar = vec![0.0; e.len()];
            let mut walk = vec![0.0; e.len()];
            for t in 1..e.len() {
                ar[t] = 0.8 * ar[t - 1] + e[t];
                walk[t] = walk[t - 1] + e[t];
            }
            for (what, y) in [
                ("noise", &e),
                ("trend", &trend),
                ("ar", &ar),
                ("walk", &walk),
            ] {
                for interval in [None, Some(Interval::from_minutes(15))] {
                    let s = detect_season(y, interval).unwrap();
                    assert_eq!(s.period, 1, "{what} seed {seed} {interval:?}: {s}");
                    assert_eq!(s.source, SeasonSource::None);
                }
            }
        }
    }

    #[test]
    fn short_constant_and_empty_series() {
        assert_eq!(detect_season(&[], None).unwrap().period, 1);
        assert_eq!(detect_season(&[1.0, 2.0, 3.0], None).unwrap().period, 1);
        assert_eq!(detect_season(&[5.0; 500], None).unwrap().period, 1);
        assert!(detect_season(&[f64::NAN; 10], None).is_err());
        assert_eq!(
            calendar_periods(Interval::from_minutes(30)),
            vec![("day", 48), ("week", 336)]
        );
        assert_eq!(
            calendar_periods(Interval::from_millis(86_400_000)),
            vec![("week", 7)]
        );
    }
}
