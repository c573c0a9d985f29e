#![doc = include_str!("../README.md")]

pub mod checkpoint;
pub mod closed_loop;
mod cluster;
pub mod dataflow;
mod error;
pub mod nodes;
pub mod observe;
pub mod state;

pub use cluster::Cluster;
pub use dataflow::{PipelineSpec, Progress, RunOutput, SinkFactory, TracePoint};
pub use error::EngineError;
pub use state::{PipelineState, Span, StateError};
pub mod feeds;
pub mod flow_run;
pub mod forecast_run;
pub mod marketplace;
pub mod mlfo;

pub use mlfo::{Mlfo, Outcome, Plan, RunOptions};
mod report;

pub use report::{capabilities, closed_loop_lines, flow_lines, forecast_lines};
