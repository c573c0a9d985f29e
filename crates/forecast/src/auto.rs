//! Per-series choice of method by rolling-origin backtest.

use crate::config::{ForecasterConfig, Method};
use crate::stats::clean;
use crate::{Fitted, Forecast, ForecastError, Forecaster};

/// Chooses, for each series, the candidate method with the lowest mean absolute error over
/// the last `windows` rolling-origin windows of `horizon` steps (equivalent to the lowest
/// MASE, since the scale is the series' own), then refits it on the whole series. A
/// candidate that cannot fit a window is skipped; if none can, the error of the last one
/// tried is returned.
#[derive(Clone, Debug, Default)]
pub struct Auto {
    /// Settings of the candidates and of the choice.
    pub config: ForecasterConfig,
}

/// The method `auto` chose, fitted on the whole series.
#[derive(Debug)]
pub struct FittedAuto {
    inner: Box<dyn Fitted>,
}

impl Forecaster for Auto {
    fn name(&self) -> &'static str {
        "auto"
    }

    fn fit(&self, series: &[f64], season: usize) -> Result<Box<dyn Fitted>, ForecastError> {
        let y = clean(series, 3, self.config.fill_gaps)?;
        let a = &self.config.auto;
        let horizon = if a.horizon > 0 {
            a.horizon
        } else if season > 1 {
            season
        } else {
            24
        };
        let candidates: Vec<Method> = a
            .candidates
            .iter()
            .copied()
            .filter(|&m| m != Method::Auto)
            .collect();
        if candidates.is_empty() {
            return Err(ForecastError::InvalidConfig(
                "auto.candidates names no method".into(),
            ));
        }
        let windows = a.windows.max(1);
        let mut scores = Vec::with_capacity(candidates.len());
        for &method in &candidates {
            let mut err = 0.0;
            let mut count = 0usize;
            for w in (1..=windows).rev() {
                let Some(origin) = y.len().checked_sub(w * horizon) else {
                    continue;
                };
                let h = horizon.min(y.len() - origin);
                let f: Result<Forecast, ForecastError> = self
                    .config
                    .fit_method(method, &y[..origin], season)
                    .and_then(|m| m.predict(h, 0.8));
                match f {
                    Ok(f) => {
                        err += f
                            .mean
                            .iter()
                            .zip(&y[origin..origin + h])
                            .map(|(p, v)| (p - v).abs())
                            .sum::<f64>();
                        count += h;
                    }
                    Err(_) => {
                        count = 0;
                        break;
                    }
                }
            }
            let score = if count > 0 && err.is_finite() {
                err / count as f64
            } else {
                f64::INFINITY
            };
            scores.push((method, score));
        }
        let mut order = scores;
        order.sort_by(|a, b| a.1.total_cmp(&b.1));
        let mut last_err = ForecastError::FitFailed("auto: no candidate could be fitted".into());
        for (method, _) in order {
            match self.config.fit_method(method, &y, season) {
                Ok(inner) => return Ok(Box::new(FittedAuto { inner })),
                Err(e) => last_err = e,
            }
        }
        Err(last_err)
    }
}

impl Fitted for FittedAuto {
    fn predict(&self, horizon: usize, level: f64) -> Result<Forecast, ForecastError> {
        self.inner.predict(horizon, level)
    }

    fn describe(&self) -> String {
        format!("auto→{}", self.inner.describe())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::seasonal;

    #[test]
    fn picks_a_seasonal_method_for_a_seasonal_series() {
        let y = seasonal(24 * 21, 24, 0.5, 5);
        let f = Auto::default().fit(&y, 24).unwrap();
        assert!(
            !f.describe().contains("seasonal_naive(m=1)"),
            "{}",
            f.describe()
        );
        assert_eq!(f.predict(24, 0.9).unwrap().len(), 24);
    }

    #[test]
    fn never_panics_on_odd_input() {
        let auto = Auto::default();
        for s in [
            vec![],
            vec![f64::NAN; 10],
            vec![1.0],
            vec![2.0; 5],
            vec![0.0, f64::INFINITY, 1.0, 2.0],
        ] {
            if let Ok(f) = auto.fit(&s, 24) {
                assert!(f.predict(3, 0.9).is_ok());
            }
        }
    }
}
