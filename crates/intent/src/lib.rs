#![doc = include_str!("../README.md")]

mod error;
mod locate;
mod spec;

pub use error::{IntentError, Problem};
pub use spec::{
    Origin,
    AlertPolicy, CollectConfig, FillMethod, LatencyClass, MlIntent, ModelConfig, PolicyConfig,
    PreprocessStep, QuietHours, RollingStat, SeverityBands, SourceConfig, Targets, Timing, UseCase,
};
