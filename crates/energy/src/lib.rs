#![doc = include_str!("../README.md")]

mod plot;
pub mod power;
pub mod sim;
pub mod sla;

pub use power::{BsClass, PowerModel};
pub use sim::{
    evaluate, CellPlot, EnergyConfig, EnergyReport, EnergySavingPolicy, GuardConfig, PolicyResult,
};
pub use sla::{evaluate_sla, SlaConfig, SlaPolicy, SlaScores};

/// Everything that can go wrong in the energy crate.
#[derive(Debug, thiserror::Error)]
pub enum EnergyError {
    /// A setting is out of range.
    #[error("invalid energy config: {0}")]
    InvalidConfig(String),
    /// The sandbox could not build the scenario.
    #[error(transparent)]
    Sandbox(#[from] ai4ict_sandbox::SandboxError),
}
