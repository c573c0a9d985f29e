#![doc = include_str!("../README.md")]

mod behaviour;
mod distinct;
mod error;
mod evaluate;
mod features;
mod flow;
mod read;
mod source;
mod tails;
mod window;

pub use behaviour::{
    watch_settings, Behaviour, BehaviourConfig, BehaviourModel, HostAlert, HostWatch,
};
pub use distinct::Distinct;
pub use error::IntrusionError;
pub use evaluate::{evaluate, is_normal, sandbox_flows, ClassDetection, Evaluation};
pub use features::{feature_names, flow_features, Directions};
pub use flow::{flags, FlowObs};
pub use read::{read_flows, read_flows_from, FlowFile, RowProblem, MAX_PROBLEMS};
pub use source::{
    FlowBatch, FlowFileSource, FlowReader, FlowSourceConfig, NetflowSource, SandboxFlows,
};
pub use tails::PopulationTails;
pub use window::{HostWindow, HostWindows, WindowConfig, WindowStats, FEATURES};

#[cfg(test)]
mod tests;
