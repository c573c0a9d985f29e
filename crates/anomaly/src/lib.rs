#![doc = include_str!("../README.md")]

mod auto;
mod bayesian_changepoint;
mod calibrate;
mod ensemble;
mod ewma;
pub mod false_alarms;
mod holt_winters;
mod hst;
mod jump;
mod novelty;
mod per_field;
mod rcf;
mod registry;
mod relation;
mod resonance;
mod robust;
mod seasonal;
mod slow;
mod spectral_residual;
pub mod telemetry;

use ai4ict_core::{Interval, Timestamp};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use auto::{profile_scores_from, Auto, CORROBORATION, DECIDING, PERIODIC, PERIODIC_ACF};
pub use ensemble::Ensemble;
pub use holt_winters::HoltWinters;
pub use hst::{HalfSpaceTrees, DEPTH as HST_DEPTH, TREES as HST_TREES};
pub use rcf::{
    RandomCutForest, DECAY_POINTS as RCF_DECAY_POINTS, SAMPLES as RCF_SAMPLES,
    SHINGLE as RCF_SHINGLE, TREES as RCF_TREES,
};
pub use registry::{AnyDetector, DetectorKind};
pub use seasonal::RobustSeasonal;
pub use telemetry::{TelemetryCheck, TelemetryFinding, SILENT_AFTER};

/// A calibrated anomaly score.
///
/// `value` is in [0, 1] and means the same for every detector: it is the *surprise*
/// `-log10 p` of the observation (with `p` its tail probability under the detector's learned
/// model of normal behaviour, corrected for the number of fields) divided by
/// [`DetectorConfig::decades`]. With the default of 5 decades, 0.9 means about one chance in
/// 30 000 of seeing something this unusual in normal operation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// The calibrated score, in [0, 1]; 0 while the detector warms up.
    pub value: f64,
    /// Index of the input field that contributed most (`None` if not applicable).
    pub field: Option<usize>,
    /// The baseline the field was held against, where the detector has one (the seasonal
    /// detectors, `ewma`); `None` for scores of a whole row (`hst`, `rcf`, ...). Not part of
    /// a detector's saved state.
    #[serde(skip)]
    pub why: Option<Why>,
}

impl Score {
    /// A score of `value` on `field`, with no baseline.
    pub fn new(value: f64, field: Option<usize>) -> Self {
        Self {
            value,
            field,
            why: None,
        }
    }
}

/// Why a field scored as it did: what the detector expected of it, for the report of an
/// alert (issue: "which field, how surprising, against what baseline").
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Why {
    /// What the value was held against.
    pub against: Against,
    /// The value the baseline expected: of `against`'s `field` for a relation, else of the
    /// score's field.
    pub expected: f32,
    /// The spread of ordinary values around it (about one standard deviation).
    pub spread: f32,
    /// How surprising the value is against it: `-log10` of its chance in ordinary
    /// operation, corrected for the number of fields (the score before calibration).
    pub surprise: f32,
}

impl Why {
    /// A baseline; its surprise is set when the strongest field's score is made.
    pub(crate) fn new(against: Against, expected: f32, spread: f32) -> Self {
        Self {
            against,
            expected,
            spread,
            surprise: 0.0,
        }
    }
}

/// The baselines a detector holds a value against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Against {
    /// The field's usual value at this time of day (and day of the week): its profile.
    Profile,
    /// Its usual value now against its level of the days before: a slow drift.
    Drift,
    /// How much it varies now against how much it usually varies: a variance burst.
    Spread,
    /// Its recent level (detectors without a profile).
    Level,
    /// The value `field` usually takes where `partner` is: a relation between two fields
    /// that broke (the score's field is whichever of the two is further from its own usual
    /// value).
    Relation {
        /// The field whose value is expected.
        field: u16,
        /// The field it is expected from.
        partner: u16,
    },
}

/// What is known of a stream before its first point, where an operator (a KPI that is a
/// percentage) or a benchmark's harness (NAB gives every detector each file's minimum,
/// maximum and probationary length) has it. A streaming detector knows none of it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Prior {
    /// Per field, the least and greatest value it will take (fields beyond the list: unknown).
    pub ranges: Vec<(f64, f64)>,
    /// Points to learn from before reporting anything.
    pub warm_up: Option<usize>,
}

/// Per-entity online state of a detector. Constant memory: [`Detector::state_bytes`] does not
/// grow with the length of the stream.
pub trait Detector: Send {
    /// Takes what is known of the stream ahead (call it before the first point). Detectors
    /// that normalise by the range seen so far (`resonance`, and `auto` through it) use the
    /// given ranges and warm-up; the others ignore it.
    fn know(&mut self, _prior: &Prior) {}
    /// Scores one observation and learns from it. `values` holds one value per field; NaN (or
    /// an infinity, or a missing trailing field) means missing. Never panics.
    fn update(&mut self, time: Timestamp, values: &[f64]) -> Score;
    /// Bytes of state this detector holds (heap included).
    fn state_bytes(&self) -> usize;
}

/// Which deviations from normal count as anomalous.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Values unusually high or unusually low.
    #[default]
    Both,
    /// Only values unusually high (e.g. drop rate, latency).
    Up,
    /// Only values unusually low (e.g. throughput, success rate).
    Down,
}

/// The anomaly model of an intent: `model: { anomaly: { detector: auto, ... } }`.
///
/// Every detector scores each observation in [0, 1] with the same meaning (see `decades`);
/// a policy such as `alert: { score_above: 0.9, for: 2 }` then works with any of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DetectorConfig {
    /// Which detector to run (default `auto`).
    #[serde(default)]
    pub detector: DetectorKind,
    /// Which deviations count: `both` (default), `up` or `down`.
    #[serde(default)]
    pub direction: Direction,
    /// Decades of surprise that make a score of 1: a score `s` means the observation is about
    /// as rare as `10^(-s * decades)` under normal behaviour. Default 5.
    #[serde(default = "default_decades")]
    pub decades: f64,
    /// Separate weekday and weekend profiles for seasonal detectors. Default: on when the
    /// sampling interval is one hour or shorter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekly: Option<bool>,
    /// Most time-of-day slots of a seasonal profile (values in between are interpolated).
    /// Default 48 (half-hour slots); fewer than 4 samples a day disables the daily profile.
    #[serde(default = "default_max_slots")]
    pub max_slots: usize,
    /// How fast the level follows the data, per sample, in (0, 1]. Default 0.02.
    #[serde(default = "default_level_rate")]
    pub level_rate: f64,
    /// Slowest rate, per day, at which a seasonal profile forgets, in (0, 1]. Default 0.1.
    #[serde(default = "default_season_rate")]
    pub season_rate: f64,
    /// Consecutive out-of-band samples, all on one side, after which a change is taken as a
    /// new normal level and followed quickly (should the data return to the old level within four
    /// times as many samples, the old level is restored). Default 3.
    #[serde(default = "default_level_shift_after")]
    pub level_shift_after: u16,
    /// Samples to learn from before scoring when there is no daily profile. Default 48.
    #[serde(default = "default_min_points")]
    pub min_points: u32,
    /// Samples for which an anomalous episode keeps its full score; the score is then 0 until
    /// the data come back to normal (a persisting anomaly is not news twice). 0 keeps scoring it for as long as it lasts. Default 2, the least that
    /// still lets a policy ask for two consecutive high scores.
    #[serde(default = "default_hold")]
    pub hold: u16,
    /// Members of an `ensemble` (each with the rest of this config); default
    /// `[robust_seasonal, novelty]`. Ignored by the other detectors.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub members: Vec<DetectorKind>,
}

fn default_decades() -> f64 {
    5.0
}
fn default_max_slots() -> usize {
    48
}
fn default_level_rate() -> f64 {
    0.02
}
fn default_season_rate() -> f64 {
    0.1
}
fn default_level_shift_after() -> u16 {
    3
}
fn default_min_points() -> u32 {
    48
}
fn default_hold() -> u16 {
    2
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            detector: DetectorKind::Auto,
            direction: Direction::Both,
            decades: default_decades(),
            weekly: None,
            max_slots: default_max_slots(),
            level_rate: default_level_rate(),
            season_rate: default_season_rate(),
            level_shift_after: default_level_shift_after(),
            min_points: default_min_points(),
            hold: default_hold(),
            members: Vec::new(),
        }
    }
}

/// The tuning the streaming detectors share, resolved from a [`DetectorConfig`].
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub(crate) struct Tuning {
    /// Learning rate of a level per point.
    pub level_rate: f32,
    /// Points out of band with one sign before a level is let go.
    pub level_shift_after: u16,
    /// Points before scoring (for `half_space_trees`, the window).
    pub min_points: u32,
    /// Decades of surprise that map to a score of 1.
    pub decades: f32,
    /// Which deviations count.
    pub direction: Direction,
    /// Points an episode keeps its score before it goes quiet (0 = never).
    pub hold: u16,
}

/// Why a detector could not be built.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnomalyError {
    /// A tuning field is out of its range.
    #[error("anomaly detector: `{field}` {problem}")]
    InvalidConfig {
        /// The config field at fault.
        field: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// The stream has no fields to score.
    #[error("anomaly detector: the stream has no fields to score")]
    NoFields,
}

fn check_rate(field: &'static str, v: f64) -> Result<f32, AnomalyError> {
    if v.is_finite() && v > 0.0 && v <= 1.0 {
        Ok(v as f32)
    } else {
        Err(AnomalyError::InvalidConfig {
            field,
            problem: format!("must be in (0, 1], got {v}"),
        })
    }
}

impl DetectorConfig {
    /// Builds the per-entity detector for a stream of `width` fields sampled every `interval`.
    pub fn build(&self, width: usize, interval: Interval) -> Result<AnyDetector, AnomalyError> {
        if width == 0 {
            return Err(AnomalyError::NoFields);
        }
        if !(self.decades.is_finite() && self.decades >= 1.0) {
            return Err(AnomalyError::InvalidConfig {
                field: "decades",
                problem: format!("must be at least 1, got {}", self.decades),
            });
        }
        if self.max_slots == 0 || self.max_slots > 1440 {
            return Err(AnomalyError::InvalidConfig {
                field: "max_slots",
                problem: format!("must be in 1..=1440, got {}", self.max_slots),
            });
        }
        if self.level_shift_after == 0 {
            return Err(AnomalyError::InvalidConfig {
                field: "level_shift_after",
                problem: "must be at least 1".into(),
            });
        }
        let level_rate = check_rate("level_rate", self.level_rate)?;
        let season_rate = check_rate("season_rate", self.season_rate)?;
        let tuning = Tuning {
            level_rate,
            level_shift_after: self.level_shift_after,
            min_points: self.min_points,
            decades: self.decades as f32,
            direction: self.direction,
            hold: self.hold,
        };
        let slots = seasonal::SeasonalParams::slots_for(interval, self.max_slots);
        let seasonal = seasonal::SeasonalParams {
            slots,
            weekly: self.weekly.unwrap_or(interval.millis() <= 3_600_000) && slots > 1,
            season_rate,
            per_day: u32::try_from(86_400_000 / interval.millis().max(1)).unwrap_or(u32::MAX),
            tuning,
        };
        let ctx = registry::BuildContext {
            config: self,
            width,
            interval,
            tuning,
            seasonal,
        };
        AnyDetector::build(self.detector, &ctx)
    }
}

#[cfg(test)]
mod tests;
