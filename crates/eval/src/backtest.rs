//! Rolling-origin backtesting of forecasters and the forecast-accuracy metrics of the M4
//! competition (Makridakis et al., "The M4 Competition", IJF 2020): MASE, sMAPE, RMSE,
//! interval coverage and MSIS.
//!
//! The backtest takes the forecaster as a closure from a training prefix to a
//! [`WindowForecast`], so any method (ours, or a peer's results read from a file) can be scored
//! the same way.
//!
//! ```
//! use ai4ict_eval::backtest::{rolling_origin, RollingOrigin, WindowForecast};
//! let y: Vec<f64> = (0..200).map(|t| (t % 10) as f64).collect();
//! let spec = RollingOrigin { horizon: 10, windows: 3, step: 0, season: 10, level: 0.8 };
//! // Seasonal naive: repeat the last season.
//! let r = rolling_origin(&y, &spec, |train: &[f64]| {
//!     let last = train[train.len() - 10..].to_vec();
//!     Ok::<_, String>(WindowForecast { lower: last.clone(), upper: last.clone(), mean: last })
//! }).unwrap();
//! assert_eq!(r.windows, 3);
//! assert_eq!(r.mase, 0.0);
//! ```

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::EvalError;

/// How to cut a series into training prefixes and test windows: the last window ends at the
/// end of the series, each earlier one `step` samples before.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RollingOrigin {
    /// Steps ahead forecast and scored in each window.
    pub horizon: usize,
    /// Number of windows (forecast origins).
    pub windows: usize,
    /// Samples between successive origins; 0 means `horizon` (windows that do not overlap).
    pub step: usize,
    /// Seasonal period used to scale MASE and MSIS (1: the naive one-step scale).
    pub season: usize,
    /// Nominal level of the prediction intervals, in (0, 1).
    pub level: f64,
}

/// One window's forecast: `horizon` means and interval bounds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WindowForecast {
    /// Point forecasts.
    pub mean: Vec<f64>,
    /// Lower interval bounds.
    pub lower: Vec<f64>,
    /// Upper interval bounds.
    pub upper: Vec<f64>,
}

/// Accuracy over all windows of a backtest: each metric is the mean of its per-window values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BacktestScores {
    /// Windows scored.
    pub windows: usize,
    /// Windows whose forecast failed (the error's text); they are not scored.
    pub failures: Vec<String>,
    /// Mean absolute scaled error (scale: in-sample seasonal naive MAE of the training part).
    pub mase: f64,
    /// Symmetric mean absolute percentage error, in percent (0–200).
    pub smape: f64,
    /// Root mean squared error.
    pub rmse: f64,
    /// Share of actual values inside the interval, in [0, 1].
    pub coverage: f64,
    /// Mean scaled interval score at the spec's level (lower is better).
    pub msis: f64,
    /// Total wall-clock seconds spent in the forecaster (fit and predict) over all windows.
    pub fit_seconds: f64,
}

/// Mean absolute error of the seasonal naive method in-sample (`mean |y_t − y_{t−m}|`), the
/// scale of MASE and MSIS. `None` when the series has no more than `m` points.
pub fn seasonal_scale(train: &[f64], season: usize) -> Option<f64> {
    let m = season.max(1);
    (train.len() > m).then(|| {
        (m..train.len())
            .map(|t| (train[t] - train[t - m]).abs())
            .sum::<f64>()
            / (train.len() - m) as f64
    })
}

fn same_len(what: &str, a: &[f64], b: &[f64]) -> Result<(), EvalError> {
    if a.len() == b.len() {
        Ok(())
    } else {
        Err(EvalError::LengthMismatch {
            what: what.into(),
            left: a.len(),
            right: b.len(),
        })
    }
}

/// Mean absolute scaled error of `forecast` against `actual`, scaled by `scale`
/// (see [`seasonal_scale`]). A zero scale gives +inf for any error (0 for none).
pub fn mase(actual: &[f64], forecast: &[f64], scale: f64) -> Result<f64, EvalError> {
    same_len("mase: actual vs forecast", actual, forecast)?;
    let mae = actual
        .iter()
        .zip(forecast)
        .map(|(a, f)| (a - f).abs())
        .sum::<f64>()
        / actual.len().max(1) as f64;
    Ok(if mae == 0.0 { 0.0 } else { mae / scale })
}

/// Symmetric MAPE in percent: `200/h · Σ |a − f| / (|a| + |f|)`, a term with `a = f = 0`
/// counting as 0.
pub fn smape(actual: &[f64], forecast: &[f64]) -> Result<f64, EvalError> {
    same_len("smape: actual vs forecast", actual, forecast)?;
    let s: f64 = actual
        .iter()
        .zip(forecast)
        .map(|(a, f)| {
            let d = a.abs() + f.abs();
            if d == 0.0 {
                0.0
            } else {
                (a - f).abs() / d
            }
        })
        .sum();
    Ok(200.0 * s / actual.len().max(1) as f64)
}

/// Root mean squared error.
pub fn rmse(actual: &[f64], forecast: &[f64]) -> Result<f64, EvalError> {
    same_len("rmse: actual vs forecast", actual, forecast)?;
    Ok((actual
        .iter()
        .zip(forecast)
        .map(|(a, f)| (a - f).powi(2))
        .sum::<f64>()
        / actual.len().max(1) as f64)
        .sqrt())
}

/// Share of `actual` values with `lower ≤ a ≤ upper`.
pub fn coverage(actual: &[f64], lower: &[f64], upper: &[f64]) -> Result<f64, EvalError> {
    same_len("coverage: actual vs lower", actual, lower)?;
    same_len("coverage: actual vs upper", actual, upper)?;
    let hits = actual
        .iter()
        .zip(lower.iter().zip(upper))
        .filter(|(a, (l, u))| *l <= *a && *a <= *u)
        .count();
    Ok(hits as f64 / actual.len().max(1) as f64)
}

/// Mean scaled interval score (Gneiting & Raftery 2007; M4): `1/h · Σ [(u − l) + 2/α·(l − a)·1{a<l}
/// + 2/α·(a − u)·1{a>u}] / scale`, with `α = 1 − level`.
pub fn msis(
    actual: &[f64],
    lower: &[f64],
    upper: &[f64],
    level: f64,
    scale: f64,
) -> Result<f64, EvalError> {
    same_len("msis: actual vs lower", actual, lower)?;
    same_len("msis: actual vs upper", actual, upper)?;
    if !(level > 0.0 && level < 1.0) {
        return Err(EvalError::Invalid(format!(
            "msis: level {level} must lie strictly between 0 and 1"
        )));
    }
    let alpha = 1.0 - level;
    let s: f64 = actual
        .iter()
        .zip(lower.iter().zip(upper))
        .map(|(&a, (&l, &u))| (u - l) + 2.0 / alpha * ((l - a).max(0.0) + (a - u).max(0.0)))
        .sum();
    Ok(s / actual.len().max(1) as f64 / scale)
}

/// Runs `forecast` on each training prefix of a rolling-origin split of `series` and scores
/// the windows. A window whose forecast fails, or returns the wrong number of values, is
/// recorded in `failures` and left out of the means. The spec must fit the series: at least
/// `2·season` training points before the first origin.
pub fn rolling_origin<F, E>(
    series: &[f64],
    spec: &RollingOrigin,
    mut forecast: F,
) -> Result<BacktestScores, EvalError>
where
    F: FnMut(&[f64]) -> Result<WindowForecast, E>,
    E: std::fmt::Display,
{
    if spec.horizon == 0 || spec.windows == 0 {
        return Err(EvalError::Invalid(
            "backtest: horizon and windows must be at least 1".into(),
        ));
    }
    if !(spec.level > 0.0 && spec.level < 1.0) {
        return Err(EvalError::Invalid(format!(
            "backtest: level {} must lie strictly between 0 and 1",
            spec.level
        )));
    }
    let step = if spec.step == 0 {
        spec.horizon
    } else {
        spec.step
    };
    let span = spec.horizon + step * (spec.windows - 1);
    let min_train = 2 * spec.season.max(1);
    if series.len() < span + min_train {
        return Err(EvalError::Invalid(format!(
            "backtest: series of {} points is too short for {} windows of {} steps after {} training points",
            series.len(),
            spec.windows,
            spec.horizon,
            min_train
        )));
    }
    let mut sums = [0.0f64; 5];
    let mut scored = 0usize;
    let mut failures = Vec::new();
    let mut seconds = 0.0;
    for w in 0..spec.windows {
        let origin = series.len() - span + w * step;
        let (train, test) = (&series[..origin], &series[origin..origin + spec.horizon]);
        let started = Instant::now();
        let result = forecast(train);
        seconds += started.elapsed().as_secs_f64();
        let f = match result {
            Ok(f) => f,
            Err(e) => {
                failures.push(format!("origin {origin}: {e}"));
                continue;
            }
        };
        let scale = seasonal_scale(train, spec.season).unwrap_or(f64::NAN);
        let metrics = (|| -> Result<[f64; 5], EvalError> {
            Ok([
                mase(test, &f.mean, scale)?,
                smape(test, &f.mean)?,
                rmse(test, &f.mean)?,
                coverage(test, &f.lower, &f.upper)?,
                msis(test, &f.lower, &f.upper, spec.level, scale)?,
            ])
        })();
        match metrics {
            Ok(m) => {
                for (s, v) in sums.iter_mut().zip(m) {
                    *s += v;
                }
                scored += 1;
            }
            Err(e) => failures.push(format!("origin {origin}: {e}")),
        }
    }
    let mean = |i: usize| {
        if scored == 0 {
            f64::NAN
        } else {
            sums[i] / scored as f64
        }
    };
    Ok(BacktestScores {
        windows: scored,
        failures,
        mase: mean(0),
        smape: mean(1),
        rmse: mean(2),
        coverage: mean(3),
        msis: mean(4),
        fit_seconds: seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_values_by_hand() {
        let a = [1.0, 2.0, 3.0, 4.0];
        let f = [1.0, 3.0, 3.0, 2.0];
        assert!((mase(&a, &f, 0.5).unwrap() - 1.5).abs() < 1e-12);
        assert!((rmse(&a, &f).unwrap() - (5.0f64 / 4.0).sqrt()).abs() < 1e-12);
        let s = 200.0 / 4.0 * (1.0 / 5.0 + 2.0 / 6.0);
        assert!((smape(&a, &f).unwrap() - s).abs() < 1e-12);
        assert_eq!(smape(&[0.0], &[0.0]).unwrap(), 0.0);
        let (l, u) = ([0.0, 2.5, 2.0, 3.0], [2.0, 3.0, 4.0, 5.0]);
        assert_eq!(coverage(&a, &l, &u).unwrap(), 0.75);
        // widths 2 + 0.5 + 2 + 2 = 6.5, one miss by 0.5 at α = 0.2: 2/0.2·0.5 = 5.
        assert!((msis(&a, &l, &u, 0.8, 1.0).unwrap() - (6.5 + 5.0) / 4.0).abs() < 1e-12);
        assert!(mase(&a, &f[..2], 1.0).is_err());
        assert!(msis(&a, &l, &u, 1.0, 1.0).is_err());
        assert_eq!(seasonal_scale(&[1.0, 2.0, 4.0], 1), Some(1.5));
        assert_eq!(seasonal_scale(&[1.0], 1), None);
    }

    #[test]
    fn rolling_origin_windows_and_failures() {
        let y: Vec<f64> = (0..100).map(|t| t as f64).collect();
        let spec = RollingOrigin {
            horizon: 5,
            windows: 4,
            step: 10,
            season: 1,
            level: 0.9,
        };
        let mut origins = Vec::new();
        let r = rolling_origin(&y, &spec, |train: &[f64]| {
            origins.push(train.len());
            if train.len() == 75 {
                return Err("boom");
            }
            let last = train[train.len() - 1];
            let mean: Vec<f64> = (1..=5).map(|h| last + h as f64).collect();
            Ok(WindowForecast {
                lower: mean.clone(),
                upper: mean.clone(),
                mean,
            })
        })
        .unwrap();
        assert_eq!(origins, vec![65, 75, 85, 95]);
        assert_eq!(r.windows, 3);
        assert_eq!(r.failures.len(), 1);
        assert_eq!(r.mase, 0.0);
        assert_eq!(r.coverage, 1.0);
        assert!(
            rolling_origin(&y[..10], &spec, |_: &[f64]| Err::<WindowForecast, _>("x")).is_err()
        );
    }
}
