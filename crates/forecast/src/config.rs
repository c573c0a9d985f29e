//! The forecaster's settings, as written in an intent's `model: { forecast: … }` block.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Auto, Ets, Fitted, ForecastError, Forecaster, Linear, Mstl, SeasonalNaive};

/// Which forecasting method to use.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// Choose per series by rolling-origin backtest among `auto.candidates`.
    #[default]
    Auto,
    /// Repeat the last season (the last value when there is no season).
    SeasonalNaive,
    /// Exponential smoothing (Holt-Winters): additive error, none/linear/damped trend,
    /// additive seasonality; parameters fitted by least squares.
    Ets,
    /// MSTL decomposition (daily and weekly seasons, via augurs) with an ETS model on the
    /// seasonally adjusted series.
    Mstl,
    /// Ridge regression on lags and calendar (Fourier) features, forecast recursively.
    Linear,
}

impl Method {
    /// The snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::SeasonalNaive => "seasonal_naive",
            Self::Ets => "ets",
            Self::Mstl => "mstl",
            Self::Linear => "linear",
        }
    }
}

/// Trend component of an ETS model.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrendKind {
    /// Fit `none` and `damped` and keep the one with the lower AICc.
    #[default]
    Auto,
    /// No trend (level and season only).
    None,
    /// Linear (Holt) trend.
    Additive,
    /// Damped trend: the slope fades by a factor φ ∈ [0.8, 0.98] per step.
    Damped,
}

/// Settings of the ETS (Holt-Winters) forecaster.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct EtsConfig {
    /// Trend component.
    pub trend: TrendKind,
    /// Use a seasonal component when the series has at least two full seasons.
    pub seasonal: bool,
    /// Most objective evaluations of the parameter search (Nelder–Mead) per model.
    pub max_evals: usize,
}

impl Default for EtsConfig {
    fn default() -> Self {
        Self {
            trend: TrendKind::Auto,
            seasonal: true,
            max_evals: 400,
        }
    }
}

/// Settings of the MSTL forecaster.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct MstlConfig {
    /// Seasonal periods in samples. Empty: the series' season and, when the series holds at
    /// least two of them, seven seasons (a week of a daily season).
    pub periods: Vec<usize>,
    /// Trend model for the seasonally adjusted series.
    pub trend: TrendKind,
}

/// Settings of the linear (ridge regression) forecaster.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct LinearConfig {
    /// Short lags used as features (1 = previous sample).
    pub lags: Vec<usize>,
    /// Also use the value one season and one week (seven seasons) ago, when available.
    pub seasonal_lags: bool,
    /// Fourier pairs (sine, cosine) of the season used as calendar features.
    pub fourier: usize,
    /// Ridge penalty on the coefficients (the intercept is not penalised).
    pub ridge: f64,
}

impl Default for LinearConfig {
    fn default() -> Self {
        Self {
            lags: vec![1, 2],
            seasonal_lags: true,
            fourier: 4,
            ridge: 1e-3,
        }
    }
}

/// Settings of the automatic choice of method.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct AutoConfig {
    /// Methods to choose from (`auto` itself is ignored here).
    pub candidates: Vec<Method>,
    /// Number of rolling-origin windows at the end of the series used to score candidates.
    pub windows: usize,
    /// Steps ahead scored in each window; 0 means one season (or 24 without a season).
    pub horizon: usize,
}

impl Default for AutoConfig {
    fn default() -> Self {
        Self {
            candidates: vec![Method::SeasonalNaive, Method::Mstl, Method::Linear],
            windows: 3,
            horizon: 0,
        }
    }
}

/// A forecaster and its settings. This struct is the component: its fields are what an
/// intent's `model: { forecast: … }` block may say, and its doc comments are the docs.
///
/// ```
/// use ai4ict_forecast::{ForecasterConfig, Forecaster, Method};
/// let cfg: ForecasterConfig = serde_json::from_str(r#"{"method": "ets"}"#).unwrap();
/// assert_eq!(cfg.method, Method::Ets);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ForecasterConfig {
    /// Forecasting method.
    pub method: Method,
    /// Interpolate missing (NaN or infinite) values linearly before fitting; when false
    /// such a value is an error.
    pub fill_gaps: bool,
    /// ETS settings (also used by `auto`).
    pub ets: EtsConfig,
    /// MSTL settings (also used by `auto`).
    pub mstl: MstlConfig,
    /// Linear-model settings (also used by `auto`).
    pub linear: LinearConfig,
    /// Settings of the automatic choice.
    pub auto: AutoConfig,
}

impl Default for ForecasterConfig {
    fn default() -> Self {
        Self {
            method: Method::Auto,
            fill_gaps: true,
            ets: EtsConfig::default(),
            mstl: MstlConfig::default(),
            linear: LinearConfig::default(),
            auto: AutoConfig::default(),
        }
    }
}

impl ForecasterConfig {
    /// The default settings with another method.
    pub fn with_method(method: Method) -> Self {
        Self {
            method,
            ..Self::default()
        }
    }

    /// The forecaster for a given method, with these settings.
    pub(crate) fn fit_method(
        &self,
        method: Method,
        series: &[f64],
        season: usize,
    ) -> Result<Box<dyn Fitted>, ForecastError> {
        let fill = self.fill_gaps;
        match method {
            Method::Auto => Auto {
                config: self.clone(),
            }
            .fit(series, season),
            Method::SeasonalNaive => SeasonalNaive { fill_gaps: fill }.fit(series, season),
            Method::Ets => Ets {
                config: self.ets.clone(),
                fill_gaps: fill,
            }
            .fit(series, season),
            Method::Mstl => Mstl {
                config: self.mstl.clone(),
                ets: self.ets.clone(),
                fill_gaps: fill,
            }
            .fit(series, season),
            Method::Linear => Linear {
                config: self.linear.clone(),
                fill_gaps: fill,
            }
            .fit(series, season),
        }
    }
}

impl Forecaster for ForecasterConfig {
    fn name(&self) -> &'static str {
        self.method.as_str()
    }

    fn fit(&self, series: &[f64], season: usize) -> Result<Box<dyn Fitted>, ForecastError> {
        self.fit_method(self.method, series, season)
    }
}
