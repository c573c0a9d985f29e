#![doc = include_str!("../README.md")]

mod behaviour;
mod distinct;
mod error;
mod evaluate;
mod flow;
mod tails;
mod window;

pub use behaviour::{Behaviour, BehaviourConfig, BehaviourModel, HostAlert};
pub use distinct::Distinct;
pub use error::IntrusionError;
pub use evaluate::{evaluate, ClassDetection, Evaluation};
pub use flow::FlowObs;
pub use tails::PopulationTails;
pub use window::{HostWindow, HostWindows, WindowConfig, WindowStats, FEATURES};

#[cfg(test)]
mod tests;
