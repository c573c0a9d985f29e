//! The SINK as the target of the ML output (Y.3172 §8): a policy's decisions act on the network
//! through an [`Actuator`], and the network reports back what happened.

use serde::{Deserialize, Serialize};

use crate::{Entity, Timestamp};

/// Y.3172 §8 (SINK as the target of the ML output): what a policy asks of one network unit for
/// one interval. For network energy saving (3GPP TS 38.300 §16.20): how many of the cell's
/// carriers sleep, 0 for all awake; a small cell with 1 carrier asleep is switched off.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// The cell acted on.
    pub entity: Entity,
    /// Carriers asleep.
    pub asleep: u32,
}

/// Y.3172 §8 (SINK): what the network reports about one cell over one interval, after the
/// actions for that interval took effect.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CellReport {
    /// The cell.
    pub entity: Entity,
    /// Start of the interval.
    pub time: Timestamp,
    /// Traffic offered in the cell's own coverage area, Mbit/s (before any offload).
    pub offered_mbps: f64,
    /// Power drawn by the cell's radio units, W.
    pub power_w: f64,
    /// Traffic the cell (or, for a sleeping cell, the cells taking it over) could not carry,
    /// Mbit/s.
    pub unserved_mbps: f64,
    /// True when the traffic offered to the cell (its own and what it took over) exceeded the
    /// capacity of its awake carriers (a QoS violation).
    pub over_capacity: bool,
    /// Carriers asleep during the interval.
    pub asleep: u32,
    /// Carriers woken at the start of the interval.
    pub woken: u32,
}

/// Y.3172 §8: the network (or a simulation of it) as the target of a policy's decisions.
/// [`Actuator::actuate`] sets what holds from the given interval on; [`Actuator::report`]
/// is the network's account of an interval, read by the next round of the loop.
pub trait Actuator {
    /// Why an action or a report failed.
    type Error: std::error::Error;

    /// Applies `actions` from the interval starting at `time` on; cells not named keep their
    /// state.
    fn actuate(&mut self, time: Timestamp, actions: &[Action]) -> Result<(), Self::Error>;

    /// What happened in the interval starting at `time`, one report per cell acted on.
    fn report(&mut self, time: Timestamp) -> Result<Vec<CellReport>, Self::Error>;
}
