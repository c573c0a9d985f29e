//! Seasonal naive: tomorrow repeats today.

use crate::stats::{clean, sigma, z_for_level};
use crate::{check_level, Fitted, Forecast, ForecastError, Forecaster};

/// Seasonal naive forecaster: the forecast `h` steps ahead is the value one season earlier
/// (`y[n - m + (h mod m)]`); without a season, the last value. The interval half-width for
/// the `k`-th repeated season is `z·σ·√k`, σ being the spread of the seasonal differences.
#[derive(Clone, Debug, Default)]
pub struct SeasonalNaive {
    /// Interpolate missing values before fitting instead of refusing them.
    pub fill_gaps: bool,
}

/// A fitted seasonal naive model: the last season and the residual spread.
#[derive(Clone, Debug)]
pub struct FittedSeasonalNaive {
    last: Vec<f64>,
    sigma: f64,
}

impl Forecaster for SeasonalNaive {
    fn name(&self) -> &'static str {
        "seasonal_naive"
    }

    fn fit(&self, series: &[f64], season: usize) -> Result<Box<dyn Fitted>, ForecastError> {
        let m = season.max(1);
        let y = clean(series, m + 1, self.fill_gaps)?;
        let diffs: Vec<f64> = (m..y.len()).map(|t| y[t] - y[t - m]).collect();
        Ok(Box::new(FittedSeasonalNaive {
            last: y[y.len() - m..].to_vec(),
            sigma: sigma(&diffs, 0),
        }))
    }
}

impl Fitted for FittedSeasonalNaive {
    fn predict(&self, horizon: usize, level: f64) -> Result<Forecast, ForecastError> {
        check_level(level)?;
        let m = self.last.len();
        let z = z_for_level(level);
        let mean = (0..horizon).map(|h| self.last[h % m]).collect();
        let half: Vec<f64> = (0..horizon)
            .map(|h| z * self.sigma * ((h / m + 1) as f64).sqrt())
            .collect();
        Ok(Forecast::from_mean_and_halfwidth(mean, &half, level))
    }

    fn describe(&self) -> String {
        format!("seasonal_naive(m={})", self.last.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_the_last_season() {
        let y: Vec<f64> = (0..30).map(|t| (t % 5) as f64).collect();
        let f = SeasonalNaive::default()
            .fit(&y, 5)
            .unwrap()
            .predict(7, 0.9)
            .unwrap();
        assert_eq!(f.mean, vec![0.0, 1.0, 2.0, 3.0, 4.0, 0.0, 1.0]);
        assert!(f.lower.iter().zip(&f.upper).all(|(l, u)| l == u));
    }

    #[test]
    fn refuses_bad_input() {
        let s = SeasonalNaive::default();
        assert!(matches!(
            s.fit(&[1.0, 2.0], 5),
            Err(ForecastError::TooShort { .. })
        ));
        assert!(s.fit(&[1.0, f64::NAN, 3.0], 1).is_err());
        assert!(s.fit(&[1.0, 2.0, 3.0], 1).unwrap().predict(3, 1.5).is_err());
    }
}
