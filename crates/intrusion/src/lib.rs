#![doc = include_str!("../README.md")]

mod behaviour;
mod distinct;
mod error;
mod evaluate;
mod flow;
mod read;
mod tails;
mod window;

pub use behaviour::{Behaviour, BehaviourConfig, BehaviourModel, HostAlert, HostWatch};
pub use distinct::Distinct;
pub use error::IntrusionError;
pub use evaluate::{evaluate, is_normal, sandbox_flows, ClassDetection, Evaluation};
pub use flow::FlowObs;
pub use read::{read_flows, read_flows_from, FlowFile, RowProblem, MAX_PROBLEMS};
pub use tails::PopulationTails;
pub use window::{HostWindow, HostWindows, WindowConfig, WindowStats, FEATURES};

#[cfg(test)]
mod tests;
