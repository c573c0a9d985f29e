//! Jumps: a value far from the one just before it, against the usual size of a step.
//!
//! On a stream without a daily rhythm, `auto` scores with `resonance`, which sees a block of
//! samples only at the block's end and a new level only once it makes a new pattern: a spike
//! on a random walk was reported 35 minutes late, past any grace, and a level shift there
//! hours late or not at all. A jump is the evidence those two leave at once: the step
//! `x - previous` in units of the field's ordinary step, whose upper tail the shared
//! [`TailCalibrator`] learns (every step teaches it, as for the point evidence of the other
//! detectors). The ordinary step is the mean absolute step, winsorised at [`WINSOR`] times
//! itself once warm, turned into a normal-consistent spread (`× sqrt(pi / 2)`).
//!
//! A step into or out of a reading of exactly 0 is neither scored nor learned: a counter
//! reset is one row of zeros and wants no alert, but the step back from it was a jump (on the
//! sandbox's test seeds 8 of 225 resets alerted; with the exception 4, as without jumps).
//! Zeros that last are the telemetry check's zero evidence.
//!
//! `auto` passes a jump's score on only when it is decisive ([`crate::auto`]); this module
//! only measures it.
//!
//! Memory per field: 28 bytes (the previous value, the step size, a count and the
//! calibrator). Time: O(1) per field per point, a division (two in a field's first 500
//! steps) and no logarithm but for the rare step beyond the calibrator's threshold.

use serde::{Deserialize, Serialize};

use crate::calibrate::{bonferroni, fmax, fmin, Strongest, TailCalibrator};
use crate::{Against, Direction, Score, Tuning, Why};

/// Spread of a normal step over its mean absolute size, `sqrt(pi / 2)`.
const MEAN_ABS_TO_SD: f32 = 1.253_314_1;
/// Steps a field learns before its jumps are scored.
const WARM: u32 = 30;
/// Slowest learning rate of the step size (a memory of about 500 steps).
const SCALE_RATE: f32 = 1.0 / 500.0;
/// Steps after which the step size learns at `SCALE_RATE`.
const SCALE_SLOW_AFTER: u32 = 500;
/// Once warm (and not constant), a step teaches the step size at most this many times the
/// size: a spike or a level shift is one or two steps that must not make the next jump look
/// ordinary.
const WINSOR: f32 = 6.0;

/// One field's step statistics.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Field {
    /// The previous finite value (NaN before the first).
    previous: f32,
    /// Mean absolute step (winsorised once warm).
    step: f32,
    /// Steps seen (saturating).
    n: u32,
    tail: TailCalibrator,
}

/// Jump evidence over the fields of an entity (see the module docs).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Jumps {
    fields: Vec<Field>,
    direction: Direction,
    decades: f32,
    bonferroni: f32,
}

impl Jumps {
    pub(crate) fn new(width: usize, t: Tuning) -> Self {
        Self {
            fields: (0..width)
                .map(|_| Field {
                    previous: f32::NAN,
                    step: 0.0,
                    n: 0,
                    tail: TailCalibrator::new(),
                })
                .collect(),
            direction: t.direction,
            decades: t.decades,
            bonferroni: bonferroni(width),
        }
    }

    /// Scores the steps from the previous row to `values` and learns from them. A missing
    /// value is skipped: the next step is taken from the last value seen.
    pub(crate) fn update(&mut self, values: &[f64]) -> Score {
        let mut best = Strongest::default();
        for (i, f) in self.fields.iter_mut().enumerate() {
            let x = values.get(i).copied().unwrap_or(f64::NAN) as f32;
            if !x.is_finite() {
                continue;
            }
            let previous = f.previous;
            f.previous = x;
            // A step into or out of an exact 0 is the telemetry check's: one row of zeros is
            // a counter reset (the way back from it is no news either), zeros that last are
            // its zero evidence.
            if previous.is_nan() || previous == 0.0 || x == 0.0 {
                continue;
            }
            let d = x - previous;
            let spread = f.step * MEAN_ABS_TO_SD;
            if f.n >= WARM && spread > 0.0 {
                let z = d / spread;
                let oriented = match self.direction {
                    Direction::Both => z.abs(),
                    Direction::Up => fmax(z, 0.0),
                    Direction::Down => fmax(-z, 0.0),
                };
                let s = f.tail.surprise(oriented);
                f.tail.observe(oriented, false);
                best.offer(i, s, || Some(Why::new(Against::Level, previous, spread)));
            }
            f.n = f.n.saturating_add(1);
            let size = if f.n > WARM && f.step > 0.0 {
                fmin(d.abs(), WINSOR * f.step)
            } else {
                d.abs()
            };
            // `1 / n` until it reaches the slowest rate (no division after that).
            let rate = if f.n >= SCALE_SLOW_AFTER {
                SCALE_RATE
            } else {
                1.0 / f.n as f32
            };
            f.step += rate * (size - f.step);
        }
        best.score(self.bonferroni, self.decades)
    }

    pub(crate) fn bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.fields.capacity() * std::mem::size_of::<Field>()
    }
}

#[cfg(test)]
mod tests {
    use super::Jumps;
    use crate::tests::noise;
    use crate::{Direction, Tuning};

    fn jumps(direction: Direction) -> Jumps {
        Jumps::new(
            1,
            Tuning {
                level_rate: 0.01,
                level_shift_after: 3,
                min_points: 0,
                decades: 5.0,
                direction,
                hold: 2,
            },
        )
    }

    /// A random walk: its steps are ordinary, a spike on it is not, in either direction.
    #[test]
    fn a_spike_on_a_random_walk_is_a_jump_and_its_steps_are_not() {
        let mut j = jumps(Direction::Both);
        let mut x = 100.0;
        let mut most = 0.0f64;
        for i in 0..3000 {
            x += noise(i);
            most = most.max(j.update(&[x]).value);
        }
        assert!(most < 0.9, "an ordinary step scored {most}");
        let spike = j.update(&[x + 40.0]);
        assert!(spike.value >= 0.97, "the spike scored {}", spike.value);
        let why = spike.why.expect("a jump says what it was held against");
        assert!((why.expected - x as f32).abs() < 1e-3);
        // Back down is a jump too: the spike did not teach the step size.
        assert!(j.update(&[x]).value >= 0.97);
        // With `direction: up` the way back down is not.
        let mut up = jumps(Direction::Up);
        let mut y = 100.0;
        for i in 0..3000 {
            y += noise(i);
            up.update(&[y]);
        }
        assert!(up.update(&[y + 40.0]).value >= 0.97);
        assert_eq!(up.update(&[y]).value, 0.0);
    }

    /// A constant field has no step size: it scores 0 (the telemetry check owns flatlines),
    /// and garbage neither panics nor poisons the next score.
    #[test]
    fn constant_and_garbage_input_score_nothing() {
        let mut j = jumps(Direction::Both);
        for _ in 0..100 {
            assert_eq!(j.update(&[5.0]).value, 0.0);
        }
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(j.update(&[v]).value, 0.0);
        }
        assert_eq!(j.update(&[]).value, 0.0);
        assert!(j.update(&[1e30]).value.is_finite());
    }

    /// A counter reset (one row of 0) on a random walk: neither the step into the 0 nor the
    /// one back out of it is a jump; a jump to a value that is not 0 is.
    #[test]
    fn a_counter_reset_is_not_a_jump() {
        let mut j = jumps(Direction::Both);
        let mut x = 100.0;
        for i in 0..3000 {
            x += noise(i);
            j.update(&[x]);
        }
        assert_eq!(j.update(&[0.0]).value, 0.0);
        assert_eq!(j.update(&[x]).value, 0.0);
        assert!(j.update(&[x + 40.0]).value >= 0.97);
    }
}
