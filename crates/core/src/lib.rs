#![doc = include_str!("../README.md")]

mod actuator;
mod alert;
mod batch;
mod domain;
mod entity;
mod incident;
pub mod limits;
mod rng;
mod source;
mod time;

pub use actuator::{Action, Actuator, CellReport};
pub use alert::{Against, Alert, Explanation, Severity};
pub use batch::Batch;
pub use domain::{Domain, UnknownDomain};
pub use entity::Entity;
pub use incident::{Incident, IncidentKind};
pub use rng::SplitMix64;
pub use source::{
    first_worker, leaves_working_dir, NoRows, ProblemAt, Source, SourceComponent, SourceError,
    SourceFactory, SourceProblem,
};
pub use time::{Interval, Timestamp, TimestampError};
