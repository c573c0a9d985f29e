//! The detectors that model each field on its own (`ewma`, `novelty`, `spectral_residual`,
//! `bayesian_changepoint`) share one shape: a model per field turns each finite value into a
//! signed z-like raw score, the field's [`Evidence`] turns that into surprise, and the most
//! surprising field, less the Bonferroni correction for the number of fields, is the row's
//! score. [`PerField`] is that shape; each detector only provides its [`FieldModel`].

use ai4ict_core::Timestamp;
use serde::{Deserialize, Serialize};

use crate::calibrate::{bonferroni, Evidence, Strongest};
use crate::registry::{Build, BuildContext};
use crate::{AnomalyError, Detector, Score, Tuning, Why};

/// One field's model in a [`PerField`] detector.
pub(crate) trait FieldModel: Clone + Send {
    /// A model that has seen nothing.
    fn fresh() -> Self;
    /// Learns the finite value `x`; returns its signed z-like raw score once the model is warm
    /// enough to score (`None` before).
    fn raw(&mut self, x: f32, t: &Tuning) -> Option<f32>;
    /// The field's calibrator.
    fn evidence(&mut self) -> &mut Evidence;
    /// The baseline the field's last value was held against, where the model has one.
    fn why(&self) -> Option<Why> {
        None
    }
}

/// A detector that scores every field with its own `F` and reports the most surprising.
///
/// Memory: `size_of::<F>()` per field plus about 50 bytes. Time: the models' time; NaN and
/// infinite values are skipped.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct PerField<F> {
    t: Tuning,
    /// `log10` of the number of fields (the Bonferroni correction of the score).
    bonferroni: f32,
    fields: Vec<F>,
}

impl<F: FieldModel> PerField<F> {
    pub(crate) fn new(width: usize, t: Tuning) -> Self {
        Self {
            t,
            bonferroni: bonferroni(width),
            fields: vec![F::fresh(); width],
        }
    }
}

impl<F: FieldModel> Build for PerField<F> {
    fn build(ctx: &BuildContext<'_>) -> Result<Self, AnomalyError> {
        Ok(Self::new(ctx.width, ctx.tuning))
    }
}

impl<F: FieldModel> Detector for PerField<F> {
    fn update(&mut self, _time: Timestamp, values: &[f64]) -> Score {
        let mut best = Strongest::default();
        let t = self.t;
        for (i, f) in self.fields.iter_mut().enumerate() {
            let x = values.get(i).copied().unwrap_or(f64::NAN) as f32;
            if !x.is_finite() {
                continue;
            }
            if let Some(z) = f.raw(x, &t) {
                let s = f.evidence().surprise(z, t.direction, t.hold);
                best.offer(i, s, || f.why());
            }
        }
        best.score(self.bonferroni, t.decades)
    }

    fn state_bytes(&self) -> usize {
        std::mem::size_of::<Self>() + self.fields.capacity() * std::mem::size_of::<F>()
    }
}
