//! Ridge regression on lags and calendar features, forecast recursively.

use crate::config::LinearConfig;
use crate::stats::{clean, ridge, sigma, z_for_level};
use crate::{check_level, Fitted, Forecast, ForecastError, Forecaster};

/// Linear forecaster: `y_t = c + Σ a_l·y_{t−l} + Σ_k (s_k·sin 2πkt/m + c_k·cos 2πkt/m) + e_t`
/// with short lags, the lags of one season and one week (seven seasons) ago, and Fourier
/// terms of the season as calendar features; ridge-fitted on the standardised series and
/// forecast recursively (each step feeds the next). Intervals use the ψ-weights of the lag
/// polynomial: `Var e_h = σ²·Σ_{j<h} ψ_j²`.
#[derive(Clone, Debug, Default)]
pub struct Linear {
    /// Model settings.
    pub config: LinearConfig,
    /// Interpolate missing values before fitting instead of refusing them.
    pub fill_gaps: bool,
}

/// A fitted linear model.
#[derive(Clone, Debug)]
pub struct FittedLinear {
    lags: Vec<usize>,
    m: usize,
    fourier: usize,
    coef: Vec<f64>,
    /// The last `max lag` standardised values.
    tail: Vec<f64>,
    n: usize,
    mu: f64,
    scale: f64,
    sigma: f64,
}

fn features(
    row: &mut Vec<f64>,
    t: usize,
    m: usize,
    fourier: usize,
    lags: &[usize],
    past: impl Fn(usize) -> f64,
) {
    row.clear();
    row.push(1.0);
    for k in 1..=fourier {
        let a = std::f64::consts::TAU * k as f64 * (t % m) as f64 / m as f64;
        row.push(a.sin());
        row.push(a.cos());
    }
    for &l in lags {
        row.push(past(l));
    }
}

impl Forecaster for Linear {
    fn name(&self) -> &'static str {
        "linear"
    }

    fn fit(&self, series: &[f64], season: usize) -> Result<Box<dyn Fitted>, ForecastError> {
        let c = &self.config;
        if !(c.ridge >= 0.0 && c.ridge.is_finite()) {
            return Err(ForecastError::InvalidConfig(format!(
                "linear.ridge must be ≥ 0, got {}",
                c.ridge
            )));
        }
        let y = clean(series, 3, self.fill_gaps)?;
        let n = y.len();
        let m = season.max(1);
        let fourier = if m > 1 { c.fourier.min(m / 2) } else { 0 };
        let mut lags: Vec<usize> = c.lags.iter().copied().filter(|&l| l > 0).collect();
        if c.seasonal_lags && m > 1 {
            lags.push(m);
            lags.push(7 * m);
        }
        let p_base = 1 + 2 * fourier;
        // Keep lags that leave at least 2·(features) + 8 rows to fit.
        lags.sort_unstable();
        lags.dedup();
        while let Some(&max) = lags.last() {
            if n > max + 2 * (p_base + lags.len()) + 8 {
                break;
            }
            lags.pop();
        }
        let p = p_base + lags.len();
        let start = lags.last().copied().unwrap_or(0);
        if n < start + 2 * p + 8 {
            return Err(ForecastError::TooShort {
                got: n,
                need: start + 2 * p + 8,
            });
        }
        let mu = y.iter().sum::<f64>() / n as f64;
        let sd = (y.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / n as f64).sqrt();
        let scale = if sd > 1e-12 * mu.abs().max(1.0) {
            sd
        } else {
            1.0
        };
        let z: Vec<f64> = y.iter().map(|v| (v - mu) / scale).collect();
        let rows = n - start;
        let mut x = Vec::with_capacity(rows * p);
        let mut row = Vec::with_capacity(p);
        for t in start..n {
            features(&mut row, t, m, fourier, &lags, |l| z[t - l]);
            x.extend_from_slice(&row);
        }
        let coef = ridge(&x, &z[start..], p, c.ridge * rows as f64)
            .ok_or_else(|| ForecastError::FitFailed("linear: singular normal equations".into()))?;
        let resid: Vec<f64> = (0..rows)
            .map(|r| {
                z[start + r]
                    - x[r * p..(r + 1) * p]
                        .iter()
                        .zip(&coef)
                        .map(|(a, b)| a * b)
                        .sum::<f64>()
            })
            .collect();
        let tail = z[n - start.max(1)..].to_vec();
        Ok(Box::new(FittedLinear {
            lags,
            m,
            fourier,
            coef,
            tail,
            n,
            mu,
            scale,
            sigma: sigma(&resid, p),
        }))
    }
}

impl Fitted for FittedLinear {
    fn predict(&self, horizon: usize, level: f64) -> Result<Forecast, ForecastError> {
        check_level(level)?;
        let mut buf = self.tail.clone();
        let k = buf.len();
        let mut row = Vec::with_capacity(self.coef.len());
        for h in 0..horizon {
            let t = self.n + h;
            let len = buf.len();
            features(&mut row, t, self.m, self.fourier, &self.lags, |l| {
                buf[len - l]
            });
            let v: f64 = row.iter().zip(&self.coef).map(|(a, b)| a * b).sum();
            buf.push(v);
        }
        let ar = &self.coef[1 + 2 * self.fourier..];
        let mut psi = vec![0.0; horizon];
        let mut acc = 0.0;
        let z = z_for_level(level);
        let mut half = Vec::with_capacity(horizon);
        for j in 0..horizon {
            psi[j] = if j == 0 {
                1.0
            } else {
                self.lags
                    .iter()
                    .zip(ar)
                    .filter(|(&l, _)| l <= j)
                    .map(|(&l, a)| a * psi[j - l])
                    .sum()
            };
            acc += psi[j] * psi[j];
            half.push(z * self.sigma * self.scale * acc.sqrt());
        }
        let mean = buf[k..].iter().map(|v| self.mu + self.scale * v).collect();
        Ok(Forecast::from_mean_and_halfwidth(mean, &half, level))
    }

    fn describe(&self) -> String {
        format!("linear(lags={:?}, fourier={})", self.lags, self.fourier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::seasonal;

    #[test]
    fn recovers_a_seasonal_pattern() {
        let m = 24;
        let y = seasonal(m * 30, m, 1.0, 9);
        let truth = seasonal(m * 32, m, 0.0, 0);
        let f = Linear::default()
            .fit(&y, m)
            .unwrap()
            .predict(48, 0.9)
            .unwrap();
        let mae: f64 = f
            .mean
            .iter()
            .zip(&truth[y.len()..])
            .map(|(a, b)| (a - b).abs())
            .sum::<f64>()
            / 48.0;
        assert!(mae < 2.0, "mae {mae}");
        assert!(f.upper[47] - f.lower[47] >= f.upper[0] - f.lower[0]);
    }

    #[test]
    fn constant_and_short() {
        let f = Linear::default()
            .fit(&[7.0; 200], 24)
            .unwrap()
            .predict(5, 0.9)
            .unwrap();
        assert!(f.mean.iter().all(|v| (v - 7.0).abs() < 1e-6), "{f:?}");
        assert!(matches!(
            Linear::default().fit(&[1.0; 5], 24),
            Err(ForecastError::TooShort { .. })
        ));
    }
}
