//! MSTL: several seasonal components removed by STL (augurs-mstl, after Bandara et al.,
//! "MSTL: A Seasonal-Trend Decomposition Algorithm for Time Series with Multiple Seasonal
//! Patterns", 2021), our ETS on what is left, the last cycle of each season added back.

use std::borrow::Cow;
use std::fmt;

use augurs_core::{Fit, ForecastIntervals, Predict};
use augurs_mstl::{FittedTrendModel, MSTLModel, TrendModel};

use crate::config::{EtsConfig, MstlConfig};
use crate::ets::{fit_clean, FittedEts};
use crate::stats::{clean, z_for_level};
use crate::{check_level, Fitted, Forecast, ForecastError, Forecaster};

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// MSTL forecaster: daily and weekly (or configured) seasons by MSTL from the augurs-mstl
/// crate, and a non-seasonal ETS (none or damped trend, chosen by AICc) on the seasonally
/// adjusted series, as in statsforecast's MSTL with AutoETS as trend forecaster. Intervals
/// are the trend model's, shifted by the seasonal terms.
#[derive(Clone, Debug, Default)]
pub struct Mstl {
    /// Decomposition settings.
    pub config: MstlConfig,
    /// Settings of the ETS model on the seasonally adjusted series.
    pub ets: EtsConfig,
    /// Interpolate missing values before fitting instead of refusing them.
    pub fill_gaps: bool,
}

/// ETS as the trend model of augurs' MSTL.
#[derive(Clone, Debug)]
struct EtsTrend {
    config: EtsConfig,
}

#[derive(Debug)]
struct FittedEtsTrend {
    model: FittedEts,
    n: usize,
}

impl TrendModel for EtsTrend {
    fn name(&self) -> Cow<'_, str> {
        Cow::Borrowed("ets")
    }

    fn fit(&self, y: &[f64]) -> Result<Box<dyn FittedTrendModel + Sync + Send>, BoxError> {
        let model = fit_clean(
            y,
            1,
            &EtsConfig {
                seasonal: false,
                ..self.config.clone()
            },
        )?;
        Ok(Box::new(FittedEtsTrend { model, n: y.len() }))
    }
}

impl FittedTrendModel for FittedEtsTrend {
    fn predict_inplace(
        &self,
        horizon: usize,
        level: Option<f64>,
        forecast: &mut augurs_core::Forecast,
    ) -> Result<(), BoxError> {
        let (mean, sd) = self.model.mean_and_sd(horizon);
        if let Some(level) = level {
            let z = z_for_level(level);
            forecast.intervals = Some(ForecastIntervals {
                level,
                lower: mean.iter().zip(&sd).map(|(m, s)| m - z * s).collect(),
                upper: mean.iter().zip(&sd).map(|(m, s)| m + z * s).collect(),
            });
        }
        forecast.point = mean;
        Ok(())
    }

    fn predict_in_sample_inplace(
        &self,
        _level: Option<f64>,
        _forecast: &mut augurs_core::Forecast,
    ) -> Result<(), BoxError> {
        Err(Box::new(ForecastError::InvalidConfig(
            "in-sample predictions are not kept by the MSTL trend model".into(),
        )))
    }

    fn training_data_size(&self) -> Option<usize> {
        Some(self.n)
    }
}

/// A fitted MSTL model.
pub struct FittedMstl {
    model: augurs_mstl::FittedMSTLModel,
    periods: Vec<usize>,
    trend: String,
}

impl fmt::Debug for FittedMstl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FittedMstl")
            .field("periods", &self.periods)
            .field("trend", &self.trend)
            .finish()
    }
}

/// The periods to decompose: configured or (season, 7·season), keeping those the series
/// holds at least twice.
fn periods(config: &MstlConfig, season: usize, n: usize) -> Vec<usize> {
    let wanted = if config.periods.is_empty() {
        vec![season, season * 7]
    } else {
        config.periods.clone()
    };
    let mut p: Vec<usize> = wanted
        .into_iter()
        .filter(|&p| p > 1 && 2 * p <= n)
        .collect();
    p.sort_unstable();
    p.dedup();
    p
}

impl Forecaster for Mstl {
    fn name(&self) -> &'static str {
        "mstl"
    }

    fn fit(&self, series: &[f64], season: usize) -> Result<Box<dyn Fitted>, ForecastError> {
        let y = clean(series, 4, self.fill_gaps)?;
        let periods = periods(&self.config, season, y.len());
        if periods.is_empty() {
            return Err(ForecastError::TooShort {
                got: y.len(),
                need: 2 * season.max(2),
            });
        }
        let trend = EtsTrend {
            config: EtsConfig {
                trend: self.config.trend,
                ..self.ets.clone()
            },
        };
        let model = MSTLModel::new(periods.clone(), trend)
            .fit(&y)
            .map_err(|e| ForecastError::FitFailed(format!("mstl: {e}")))?;
        Ok(Box::new(FittedMstl {
            model,
            periods,
            trend: "ets".into(),
        }))
    }
}

impl Fitted for FittedMstl {
    fn predict(&self, horizon: usize, level: f64) -> Result<Forecast, ForecastError> {
        check_level(level)?;
        if horizon == 0 {
            return Ok(Forecast {
                mean: vec![],
                lower: vec![],
                upper: vec![],
                level,
            });
        }
        let f = self
            .model
            .predict(horizon, level)
            .map_err(|e| ForecastError::FitFailed(format!("mstl: {e}")))?;
        let (lower, upper) = match f.intervals {
            Some(i) => (i.lower, i.upper),
            None => (f.point.clone(), f.point.clone()),
        };
        Ok(Forecast {
            mean: f.point,
            lower,
            upper,
            level,
        })
    }

    fn describe(&self) -> String {
        format!("mstl(periods={:?}, trend={})", self.periods, self.trend)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::seasonal;

    #[test]
    fn recovers_two_seasons() {
        let m = 24;
        let week = |t: usize| if (t / m) % 7 >= 5 { -15.0 } else { 0.0 };
        let n = m * 7 * 4;
        let y: Vec<f64> = seasonal(n + 48, m, 1.0, 3)
            .iter()
            .enumerate()
            .map(|(t, v)| v + week(t))
            .collect();
        let f = Mstl::default()
            .fit(&y[..n], m)
            .unwrap()
            .predict(48, 0.9)
            .unwrap();
        let mae: f64 = f
            .mean
            .iter()
            .zip(&y[n..])
            .map(|(a, b)| (a - b).abs())
            .sum::<f64>()
            / 48.0;
        assert!(mae < 3.0, "mae {mae}");
        assert!(f.lower.iter().zip(&f.upper).all(|(l, u)| l < u));
    }

    #[test]
    fn short_series_is_an_error() {
        assert!(matches!(
            Mstl::default().fit(&[1.0; 30], 24),
            Err(ForecastError::TooShort { .. })
        ));
        assert!(Mstl::default()
            .fit(&[3.0; 100], 24)
            .unwrap()
            .predict(5, 0.9)
            .is_ok());
    }
}
