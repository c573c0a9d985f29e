#![doc = include_str!("../README.md")]

mod actuated;
mod controller;
mod energy_loop;
mod plot;
pub mod power;
pub mod sim;
pub mod sla;

pub use actuated::SleepNetwork;
pub use controller::{CellTrace, ClusterOutcome, SleepController};
pub use energy_loop::{evaluate, CoverageCluster, EnergyLoop, Reference};
pub use power::{BsClass, PowerModel};
pub use sim::{
    CellPlot, EnergyConfig, EnergyReport, EnergySavingPolicy, GuardConfig, PolicyResult,
};
pub use sla::{
    evaluate_sla, SlaConfig, SlaEntity, SlaKind, SlaLoop, SlaOutcome, SlaPolicy, SlaPredictor,
    SlaScores,
};

/// Everything that can go wrong in the energy crate.
#[derive(Debug, thiserror::Error)]
pub enum EnergyError {
    /// A setting is out of range.
    #[error("invalid energy config: {0}")]
    InvalidConfig(String),
    /// A loop's node was fed an interval out of order.
    #[error("{entity}: observation of interval {got}, expected interval {expected}")]
    OutOfOrder {
        /// The entity whose node was fed.
        entity: String,
        /// The interval it expected next.
        expected: usize,
        /// The interval it was fed.
        got: usize,
    },
    /// The sandbox could not build the scenario.
    #[error(transparent)]
    Sandbox(#[from] ai4ict_sandbox::SandboxError),
}
