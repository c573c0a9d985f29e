#![doc = include_str!("../README.md")]

mod error;
mod locate;
mod spec;

pub use error::{IntentError, Problem};
pub use spec::{
    AlertPolicy, CollectConfig, EvaluateMode, FillMethod, ForecastPolicy, LatencyClass, MlIntent,
    ModelConfig, Origin, PolicyConfig, PreprocessStep, QuietHours, RollingStat, SeverityBands,
    SourceConfig, Targets, Timing, UseCase, MAX_FORECAST_HORIZON,
};
