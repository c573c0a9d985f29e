#![doc = include_str!("../README.md")]

mod auto;
mod config;
mod ets;
mod linear;
mod mstl;
mod naive;
mod season;
pub mod stats;

use std::fmt::Debug;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

pub use auto::Auto;
pub use config::{
    AutoConfig, EtsConfig, ForecasterConfig, LinearConfig, Method, MstlConfig, TrendKind,
};
pub use ets::Ets;
pub use linear::Linear;
pub use mstl::Mstl;
pub use naive::SeasonalNaive;
pub use season::{
    calendar_periods, detect_season, Season, SeasonSource, MAX_SEARCH_LAG, MIN_CYCLES,
    MIN_SEASON_ACF, MIN_SEASON_PROMINENCE,
};

/// Why a series could not be fitted or forecast. Input never panics a forecaster: every
/// problem with the data or the settings comes back as one of these.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ForecastError {
    /// The series has fewer points than the method needs.
    #[error("series too short: {got} points, the method needs at least {need}")]
    TooShort {
        /// Points given.
        got: usize,
        /// Points needed.
        need: usize,
    },
    /// A value is NaN or infinite and gap filling is off.
    #[error("value at index {index} is not a finite number (turn `fill_gaps` on to interpolate)")]
    NonFinite {
        /// Position of the first bad value.
        index: usize,
    },
    /// No value of the series is a finite number.
    #[error("the series has no finite value")]
    NoData,
    /// The prediction-interval level is not strictly between 0 and 1.
    #[error("interval level {0} must lie strictly between 0 and 1 (e.g. 0.9)")]
    InvalidLevel(f64),
    /// A setting is out of its range.
    #[error("invalid setting: {0}")]
    InvalidConfig(String),
    /// The numerical fit failed (e.g. a singular system); the message says where.
    #[error("fit failed: {0}")]
    FitFailed(String),
}

/// A point forecast with a central prediction interval: `lower[h] ≤ mean[h] ≤ upper[h]` for
/// each step `h` ahead (step 0 is the first point after the series), and the interval is
/// meant to hold the future value with probability `level`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Forecast {
    /// Point forecast, one value per step ahead.
    pub mean: Vec<f64>,
    /// Lower interval bound, one value per step ahead.
    pub lower: Vec<f64>,
    /// Upper interval bound, one value per step ahead.
    pub upper: Vec<f64>,
    /// Nominal coverage of the interval, in (0, 1).
    pub level: f64,
}

impl Forecast {
    /// Number of steps ahead.
    pub fn len(&self) -> usize {
        self.mean.len()
    }

    /// True when the forecast has no steps.
    pub fn is_empty(&self) -> bool {
        self.mean.is_empty()
    }

    /// A forecast from a mean and an interval half-width per step (clamped to ≥ 0).
    pub(crate) fn from_mean_and_halfwidth(mean: Vec<f64>, half: &[f64], level: f64) -> Self {
        let lower = mean.iter().zip(half).map(|(m, h)| m - h.max(0.0)).collect();
        let upper = mean.iter().zip(half).map(|(m, h)| m + h.max(0.0)).collect();
        Self {
            mean,
            lower,
            upper,
            level,
        }
    }
}

/// A forecasting method with its settings: fitting it to a series returns a [`Fitted`]
/// model, the only thing that can predict (so predicting before fitting cannot compile).
pub trait Forecaster: Send + Sync + Debug {
    /// Short name of the method (`ets`, `mstl`, …).
    fn name(&self) -> &'static str;

    /// Fits the method to `series` (oldest first, equally spaced) whose seasonal period is
    /// `season` samples (0 or 1: no seasonality).
    fn fit(&self, series: &[f64], season: usize) -> Result<Box<dyn Fitted>, ForecastError>;
}

/// A model fitted to one series.
pub trait Fitted: Send + Sync + Debug {
    /// Forecasts `horizon` steps after the series with a central interval of probability
    /// `level` (strictly between 0 and 1).
    fn predict(&self, horizon: usize, level: f64) -> Result<Forecast, ForecastError>;

    /// What was fitted, e.g. `ets(A,Ad,A)` or `auto→mstl`.
    fn describe(&self) -> String;
}

pub(crate) fn check_level(level: f64) -> Result<(), ForecastError> {
    if level > 0.0 && level < 1.0 {
        Ok(())
    } else {
        Err(ForecastError::InvalidLevel(level))
    }
}

/// Fits `forecaster` to every series and forecasts `horizon` steps with intervals at
/// `level`, in parallel over the rayon thread pool (one task per series). The result is in
/// the order of `series`; a series that cannot be fitted gets its own error and does not
/// stop the others.
pub fn forecast_many<F: Forecaster + ?Sized>(
    forecaster: &F,
    series: &[Vec<f64>],
    season: usize,
    horizon: usize,
    level: f64,
) -> Vec<Result<Forecast, ForecastError>> {
    series
        .par_iter()
        .map(|s| forecaster.fit(s, season)?.predict(horizon, level))
        .collect()
}

#[cfg(test)]
pub(crate) mod testdata {
    use rand::{rngs::SmallRng, Rng, SeedableRng};

    /// Standard normal draws (Box–Muller), seeded.
    pub fn normals(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = SmallRng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let u: f64 = rng.random::<f64>().max(1e-12);
                let v: f64 = rng.random();
                (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
            })
            .collect()
    }

    /// A daily-like seasonal series: level + trend + sine season + N(0, noise²).
    pub fn seasonal(n: usize, m: usize, noise: f64, seed: u64) -> Vec<f64> {
        let e = normals(n, seed);
        (0..n)
            .map(|t| {
                let phase = std::f64::consts::TAU * (t % m) as f64 / m as f64;
                100.0
                    + 0.01 * t as f64
                    + 20.0 * phase.sin()
                    + 8.0 * (2.0 * phase).cos()
                    + noise * e[t]
            })
            .collect()
    }
}
