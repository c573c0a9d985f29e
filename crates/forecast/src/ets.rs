//! Exponential smoothing with additive errors (Holt-Winters), with a none, linear or damped
//! trend and an additive season: ETS(A,N,N), (A,A,N), (A,Ad,N), (A,N,A), (A,A,A), (A,Ad,A)
//! in the taxonomy of Hyndman et al., *Forecasting with Exponential Smoothing* (2008).
//! augurs' ETS has no seasonal models, so this one is ours.

use crate::config::{EtsConfig, TrendKind};
use crate::stats::{clean, nelder_mead, z_for_level};
use crate::{check_level, Fitted, Forecast, ForecastError, Forecaster};

/// ETS (Holt-Winters) forecaster. Smoothing parameters (α, β, γ, φ) minimise the one-step
/// squared error (the Gaussian likelihood with fixed initial states) by Nelder–Mead within
/// the usual admissible region 0 < β < α < 1, 0 < γ < 1 − α, 0.8 ≤ φ ≤ 0.98. Initial states
/// come from the first two seasons. Intervals use the analytic variance of the additive
/// class-1 models: `σ²·(1 + Σ_{j<h} c_j²)`, `c_j = α + β·φ_j + γ·[j mod m = 0]`
/// (Hyndman et al. 2008, Table 6.1).
#[derive(Clone, Debug, Default)]
pub struct Ets {
    /// Model settings.
    pub config: EtsConfig,
    /// Interpolate missing values before fitting instead of refusing them.
    pub fill_gaps: bool,
}

/// A fitted ETS model: parameters and the final states.
#[derive(Clone, Debug)]
pub struct FittedEts {
    alpha: f64,
    beta: f64,
    gamma: f64,
    phi: f64,
    trend: bool,
    damped: bool,
    level: f64,
    slope: f64,
    /// Seasonal states by phase (`t mod m`); empty without a season.
    season: Vec<f64>,
    /// Length of the training series (fixes the phase of the first forecast step).
    n: usize,
    sigma: f64,
    aicc: f64,
}

#[derive(Clone, Copy, Debug)]
struct Spec {
    trend: bool,
    damped: bool,
    m: usize,
}

struct Init {
    level: f64,
    slope: f64,
    season: Vec<f64>,
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn logit(p: f64) -> f64 {
    (p / (1.0 - p)).ln()
}

/// (α, β, γ, φ) from the unconstrained search point.
fn params(spec: Spec, x: &[f64]) -> (f64, f64, f64, f64) {
    let alpha = 1e-4 + (1.0 - 2e-4) * sigmoid(x[0]);
    let mut i = 1;
    let beta = if spec.trend {
        i += 1;
        alpha * sigmoid(x[i - 1])
    } else {
        0.0
    };
    let gamma = if spec.m > 1 {
        i += 1;
        (1.0 - alpha) * sigmoid(x[i - 1])
    } else {
        0.0
    };
    let phi = if spec.damped {
        0.8 + 0.18 * sigmoid(x[i])
    } else {
        1.0
    };
    (alpha, beta, gamma, phi)
}

fn initial_states(y: &[f64], spec: Spec) -> Init {
    let m = spec.m;
    if m > 1 {
        let mean = |a: usize| y[a..a + m].iter().sum::<f64>() / m as f64;
        let (m0, m1) = (mean(0), mean(m));
        let slope = if spec.trend {
            (m1 - m0) / m as f64
        } else {
            0.0
        };
        let seasons = (y.len() / m).min(4);
        let mut season = vec![0.0; m];
        for k in 0..seasons {
            let mk = mean(k * m);
            for (j, s) in season.iter_mut().enumerate() {
                *s += (y[k * m + j] - mk) / seasons as f64;
            }
        }
        // The level starts at the first season's mean, centred half a season back.
        let level = m0 - slope * (m as f64 - 1.0) / 2.0;
        Init {
            level,
            slope,
            season,
        }
    } else {
        let k = y.len().min(10);
        let slope = if spec.trend && k > 1 {
            (y[k - 1] - y[0]) / (k - 1) as f64
        } else {
            0.0
        };
        Init {
            level: y[0],
            slope,
            season: Vec::new(),
        }
    }
}

/// Runs the filter; returns the sum of squared one-step errors and the final states.
fn run(y: &[f64], spec: Spec, p: (f64, f64, f64, f64), init: &Init) -> (f64, f64, f64, Vec<f64>) {
    let (alpha, beta, gamma, phi) = p;
    let (mut l, mut b) = (init.level, init.slope);
    let mut s = init.season.clone();
    let mut sse = 0.0;
    let mut phase = 0;
    for &v in y {
        let seas = if spec.m > 1 { s[phase] } else { 0.0 };
        let pred = l + phi * b + seas;
        let e = v - pred;
        sse += e * e;
        l = l + phi * b + alpha * e;
        b = phi * b + beta * e;
        if spec.m > 1 {
            s[phase] = seas + gamma * e;
            phase += 1;
            if phase == spec.m {
                phase = 0;
            }
        }
        if !sse.is_finite() {
            return (f64::INFINITY, l, b, s);
        }
    }
    (sse, l, b, s)
}

fn fit_spec(y: &[f64], spec: Spec, max_evals: usize) -> FittedEts {
    let init = initial_states(y, spec);
    let mut x0 = vec![logit(0.2)];
    if spec.trend {
        x0.push(logit(0.1));
    }
    if spec.m > 1 {
        x0.push(logit(0.1));
    }
    if spec.damped {
        x0.push(logit(0.55));
    }
    let mut objective = |x: &[f64]| run(y, spec, params(spec, x), &init).0;
    let (x, _) = nelder_mead(&mut objective, &x0, 1.0, max_evals);
    let p = params(spec, &x);
    let (sse, level, slope, season) = run(y, spec, p, &init);
    let n = y.len() as f64;
    let np = x0.len();
    let k = (np + 1 + usize::from(spec.trend) + spec.m.saturating_sub(1)) as f64;
    let ll = n * (sse.max(1e-300) / n).ln();
    let aic = ll + 2.0 * k;
    let aicc = if n - k - 1.0 > 0.0 {
        aic + 2.0 * k * (k + 1.0) / (n - k - 1.0)
    } else {
        aic
    };
    let dof = (y.len().saturating_sub(np)).max(1) as f64;
    FittedEts {
        alpha: p.0,
        beta: p.1,
        gamma: p.2,
        phi: p.3,
        trend: spec.trend,
        damped: spec.damped,
        level,
        slope,
        season,
        n: y.len(),
        sigma: (sse / dof).sqrt(),
        aicc,
    }
}

/// Fits an ETS model to a clean (gap-free, finite) series: the crate-internal entry used by
/// [`Ets`] and by the MSTL trend model.
pub(crate) fn fit_clean(
    y: &[f64],
    season: usize,
    config: &EtsConfig,
) -> Result<FittedEts, ForecastError> {
    let m = if config.seasonal && season > 1 && y.len() >= 2 * season {
        season
    } else {
        1
    };
    let need = if m > 1 { 2 * m } else { 3 };
    if y.len() < need {
        return Err(ForecastError::TooShort { got: y.len(), need });
    }
    if config.max_evals == 0 {
        return Err(ForecastError::InvalidConfig(
            "ets.max_evals must be at least 1".into(),
        ));
    }
    let specs: &[(bool, bool)] = match config.trend {
        TrendKind::Auto => &[(false, false), (true, true)],
        TrendKind::None => &[(false, false)],
        TrendKind::Additive => &[(true, false)],
        TrendKind::Damped => &[(true, true)],
    };
    specs
        .iter()
        .map(|&(trend, damped)| fit_spec(y, Spec { trend, damped, m }, config.max_evals))
        .filter(|f| f.aicc.is_finite() && f.sigma.is_finite())
        .min_by(|a, b| a.aicc.total_cmp(&b.aicc))
        .ok_or_else(|| ForecastError::FitFailed("ets: no admissible parameters".into()))
}

impl FittedEts {
    /// Point forecasts and interval half-widths (as multiples of z) for `horizon` steps.
    pub(crate) fn mean_and_sd(&self, horizon: usize) -> (Vec<f64>, Vec<f64>) {
        let m = self.season.len().max(1);
        let mut mean = Vec::with_capacity(horizon);
        let mut sd = Vec::with_capacity(horizon);
        let (mut phi_h, mut phi_pow) = (0.0, 1.0);
        let mut var_sum: f64 = 1.0;
        for h in 1..=horizon {
            phi_pow *= self.phi;
            phi_h += phi_pow;
            let seas = if self.season.is_empty() {
                0.0
            } else {
                self.season[(self.n + h - 1) % m]
            };
            mean.push(self.level + phi_h * self.slope + seas);
            sd.push(self.sigma * var_sum.sqrt());
            // c_h for the next step's variance: α + β·φ_h + γ·[h mod m = 0].
            let seasonal_hit = if !self.season.is_empty() && h % m == 0 {
                self.gamma
            } else {
                0.0
            };
            let c = self.alpha + self.beta * phi_h + seasonal_hit;
            var_sum += c * c;
        }
        (mean, sd)
    }
}

impl Forecaster for Ets {
    fn name(&self) -> &'static str {
        "ets"
    }

    fn fit(&self, series: &[f64], season: usize) -> Result<Box<dyn Fitted>, ForecastError> {
        let y = clean(series, 3, self.fill_gaps)?;
        Ok(Box::new(fit_clean(&y, season, &self.config)?))
    }
}

impl Fitted for FittedEts {
    fn predict(&self, horizon: usize, level: f64) -> Result<Forecast, ForecastError> {
        check_level(level)?;
        let z = z_for_level(level);
        let (mean, sd) = self.mean_and_sd(horizon);
        let half: Vec<f64> = sd.iter().map(|s| z * s).collect();
        Ok(Forecast::from_mean_and_halfwidth(mean, &half, level))
    }

    fn describe(&self) -> String {
        let trend = match (self.trend, self.damped) {
            (false, _) => "N",
            (true, false) => "A",
            (true, true) => "Ad",
        };
        let season = if self.season.is_empty() { "N" } else { "A" };
        format!(
            "ets(A,{trend},{season}) α={:.3} β={:.3} γ={:.3} φ={:.3}",
            self.alpha, self.beta, self.gamma, self.phi
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testdata::{normals, seasonal};

    #[test]
    fn recovers_a_seasonal_pattern() {
        let m = 24;
        let y = seasonal(24 * 20, m, 1.0, 1);
        let truth = seasonal(24 * 22, m, 0.0, 0);
        let f = Ets::default().fit(&y, m).unwrap().predict(48, 0.9).unwrap();
        let mae: f64 = f
            .mean
            .iter()
            .zip(&truth[y.len()..])
            .map(|(a, b)| (a - b).abs())
            .sum::<f64>()
            / 48.0;
        assert!(mae < 1.5, "mae {mae}");
    }

    #[test]
    fn intervals_cover_near_the_nominal_rate() {
        // Random walk plus noise is ETS(A,N,N): the one-step 80% interval should hold ~80%.
        let mut hits = 0;
        let trials = 300;
        for seed in 0..trials {
            let e = normals(201, seed);
            let mut l = 0.0;
            let y: Vec<f64> = e
                .iter()
                .map(|v| {
                    l += 0.5 * v;
                    l + v
                })
                .collect();
            let cfg = EtsConfig {
                trend: TrendKind::None,
                ..EtsConfig::default()
            };
            let f = Ets {
                config: cfg,
                fill_gaps: false,
            }
            .fit(&y[..200], 1)
            .unwrap()
            .predict(1, 0.8)
            .unwrap();
            if f.lower[0] <= y[200] && y[200] <= f.upper[0] {
                hits += 1;
            }
        }
        let rate = hits as f64 / trials as f64;
        assert!((0.72..=0.88).contains(&rate), "coverage {rate}");
    }

    #[test]
    fn constant_and_short_series() {
        let f = Ets::default()
            .fit(&[5.0; 50], 7)
            .unwrap()
            .predict(10, 0.9)
            .unwrap();
        assert!(f.mean.iter().all(|v| (v - 5.0).abs() < 1e-6), "{f:?}");
        assert!(matches!(
            Ets::default().fit(&[1.0, 2.0], 7),
            Err(ForecastError::TooShort { .. })
        ));
        let _ = Ets::default().fit(&[1e308, -1e308, 1e308, -1e308, 1e308], 1); // an error or a model, never a panic
    }
}
