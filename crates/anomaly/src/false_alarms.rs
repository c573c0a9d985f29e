//! Empirical false-alarm rates on quiet streams: the check of what a calibrated [`Score`]
//! promises. A score of `s` claims that normal behaviour is this surprising once in
//! `10^(s × decades)` points; streams with no anomaly at all, in the shapes operators' KPIs
//! take, say how often each detector's score reaches `s` in fact.
//!
//! [`Score`]: crate::Score

use ai4ict_core::{Interval, SplitMix64, Timestamp};

use crate::{Against, AnomalyError, DetectorConfig};

/// Score levels at which false alarms are counted.
pub const LEVELS: [f64; 3] = [0.5, 0.7, 0.9];

/// A stream with nothing anomalous in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuietShape {
    /// Gaussian noise around a constant level.
    Gaussian,
    /// Laplace noise (heavier tails than Gaussian: a 4-sigma point is 40× more frequent).
    Laplace,
    /// A daily cycle (96 points a day) with Gaussian noise, as cell traffic has.
    Daily,
    /// Autocorrelated noise, AR(1) with φ = 0.9: slow wandering, as latency has.
    Ar1,
    /// Small integer counts (Poisson, mean 3), as event counters have.
    Counts,
    /// Four fields of one entity, as a cell's KPIs: three driven by one daily load that is
    /// busier or quieter from day to day (a share of it with 2 % noise, a straight function
    /// with 3 %, a curve rising steeply towards capacity with 5 %, as latency does) and one
    /// unrelated; what the relations between fields must not take for a break.
    Related,
}

impl QuietShape {
    /// Every shape.
    pub const ALL: [QuietShape; 6] = [
        Self::Gaussian,
        Self::Laplace,
        Self::Daily,
        Self::Ar1,
        Self::Counts,
        Self::Related,
    ];

    /// Its name in tables.
    pub fn name(self) -> &'static str {
        match self {
            Self::Gaussian => "gaussian",
            Self::Laplace => "laplace",
            Self::Daily => "daily",
            Self::Ar1 => "ar1",
            Self::Counts => "counts",
            Self::Related => "related",
        }
    }

    /// Fields per row.
    pub fn width(self) -> usize {
        if self == Self::Related {
            4
        } else {
            1
        }
    }
}

/// Points scored, and how many reached each of [`LEVELS`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FalseAlarms {
    /// Points scored after the warm-up.
    pub points: u64,
    /// Points whose score reached each level.
    pub above: [u64; 3],
    /// Of the points at the highest level, how many each evidence raised, in the order of
    /// [`EVIDENCE`]: where a detector's calibration errs.
    pub by_evidence: [u64; 6],
}

/// The evidence behind a false alarm, from its score's [`Why`](crate::Why).
pub const EVIDENCE: [&str; 6] = ["profile", "drift", "spread", "level", "relation", "other"];

/// The index in [`EVIDENCE`] of what a score was held against (`other` when it says nothing).
fn evidence(why: Option<Against>) -> usize {
    match why {
        Some(Against::Profile) => 0,
        Some(Against::Drift) => 1,
        Some(Against::Spread) => 2,
        Some(Against::Level) => 3,
        Some(Against::Relation { .. }) => 4,
        None => 5,
    }
}

impl FalseAlarms {
    /// The measured rate at `LEVELS[i]`.
    pub fn rate(&self, i: usize) -> f64 {
        self.above[i] as f64 / self.points.max(1) as f64
    }

    /// The rate a calibrated score promises at `level`: `10^(-level × decades)`.
    pub fn nominal(level: f64, decades: f64) -> f64 {
        10f64.powf(-level * decades)
    }
}

/// Sampling interval of the quiet streams.
pub const STEP: Interval = Interval::from_minutes(15);

/// Scores `streams` independent quiet streams of `len` points of `shape` with `config` (one
/// entity each, of [`QuietShape::width`] fields), and counts the points after the first
/// `warmup` of each stream whose score reaches each of [`LEVELS`]. Stream `k` is seeded with
/// `seed + k`, so a measurement is reproducible.
pub fn measure(
    config: &DetectorConfig,
    shape: QuietShape,
    (streams, len, warmup): (usize, usize, usize),
    seed: u64,
) -> Result<FalseAlarms, AnomalyError> {
    let mut out = FalseAlarms::default();
    let mut row = vec![0.0; shape.width()];
    for k in 0..streams {
        let mut d = config.build(shape.width(), STEP)?;
        let mut rng = SplitMix64::new(seed.wrapping_add(k as u64));
        let mut ar = 0.0;
        let mut day_level = 1.0;
        for i in 0..len {
            let phase = (i % 96) as f64 / 96.0 * std::f64::consts::TAU;
            match shape {
                QuietShape::Gaussian => row[0] = 50.0 + 4.0 * rng.normal(),
                QuietShape::Laplace => row[0] = 50.0 + 4.0 * laplace(&mut rng),
                QuietShape::Daily => row[0] = 100.0 + 40.0 * phase.sin() + 3.0 * rng.normal(),
                QuietShape::Ar1 => {
                    ar = 0.9 * ar + rng.normal();
                    row[0] = 20.0 + ar;
                }
                QuietShape::Counts => row[0] = poisson3(&mut rng),
                QuietShape::Related => {
                    if i % 96 == 0 {
                        day_level = 1.0 + 0.05 * rng.normal();
                    }
                    let load = ((0.45 + 0.35 * phase.sin()) * day_level).clamp(0.02, 0.95);
                    row[0] = load * (1.0 + 0.02 * rng.normal());
                    row[1] = (2.0 + 30.0 * load) * (1.0 + 0.03 * rng.normal());
                    row[2] =
                        10.0 * (1.0 + 0.3 * load / (1.02 - load)) * (0.05 * rng.normal()).exp();
                    row[3] = 50.0 + 4.0 * rng.normal();
                }
            }
            let t = Timestamp(1_704_067_200_000 + i as i64 * STEP.millis());
            let score = d.update(t, &row);
            if i >= warmup {
                out.points += 1;
                for (n, level) in out.above.iter_mut().zip(LEVELS) {
                    *n += u64::from(score.value >= level);
                }
                if score.value >= LEVELS[LEVELS.len() - 1] {
                    out.by_evidence[evidence(score.why.map(|w| w.against))] += 1;
                }
            }
        }
    }
    Ok(out)
}

/// A Laplace draw with unit variance.
fn laplace(rng: &mut SplitMix64) -> f64 {
    let u = rng.unit() - 0.5;
    -u.signum() * (1.0 - 2.0 * u.abs()).max(f64::MIN_POSITIVE).ln() / std::f64::consts::SQRT_2
}

/// A Poisson draw with mean 3 (Knuth's product of uniforms).
fn poisson3(rng: &mut SplitMix64) -> f64 {
    let limit = (-3.0f64).exp();
    let (mut k, mut p) = (0.0, rng.unit());
    while p > limit {
        k += 1.0;
        p *= rng.unit();
    }
    k
}
