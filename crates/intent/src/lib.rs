#![doc = include_str!("../README.md")]

mod error;
mod flows;
mod locate;
mod sources;
mod spec;

pub use error::{IntentError, Problem};
pub use flows::{
    BehaviourWatch, ClassWeighting, ClassifyAlgorithm, ClassifyModel, FlowAlertPolicy,
};
pub use sources::SourceConfig;
pub use spec::{
    AlertPolicy, CheckpointConfig, CollectConfig, EvaluateMode, FillMethod, ForecastPolicy,
    LatencyClass, MlIntent, ModelConfig, Origin, PolicyConfig, PreprocessStep, QuietHours,
    RollingStat, SeverityBands, Targets, Timing, UseCase, MAX_FORECAST_HORIZON,
};
