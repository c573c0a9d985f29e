#![doc = include_str!("../README.md")]

pub mod backtest;
pub mod classification;
mod error;
pub mod level;
pub mod metrics;
pub mod nab;
pub mod report;
pub mod svg;
mod util;

pub use error::EvalError;
pub use level::{Capabilities, Capability, Dimension, IntelligenceLevel, LevelAssessment};

pub use metrics::{
    event_metrics, point_adjusted_f1, point_metrics, EventMetrics, KindMetrics, PointMetrics,
};
pub use report::Report;
