//! The registry of detectors: one line per detector, in one place.
//!
//! A detector is a type in its own file that implements [`Detector`] (scoring), serde
//! (its per-entity state, so a trained model can be snapshotted and restored) and [`Build`]
//! (how a [`DetectorConfig`] makes it). Registering it is one line in `detectors!`'s call
//! below: the line gives the name used in intents, the user documentation (the doc comment,
//! which is also the JSON schema's description) and the type. From that list come
//! [`DetectorKind`], [`DetectorKind::ALL`] (the CLI's choices, the docs' table, the contract
//! tests) and [`AnyDetector`], the state of any detector.

use ai4ict_core::{Interval, Timestamp};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::seasonal::SeasonalParams;
use crate::{AnomalyError, Detector, DetectorConfig, Prior, Score, Tuning};

/// What a detector is built from: the intent's config, resolved for one stream.
pub(crate) struct BuildContext<'a> {
    /// The model's configuration as the intent gave it.
    pub config: &'a DetectorConfig,
    /// Fields per row.
    pub width: usize,
    /// Sampling interval.
    pub interval: Interval,
    /// The shared tuning, checked.
    pub tuning: Tuning,
    /// Seasonal profile parameters, checked.
    pub seasonal: SeasonalParams,
}

/// How a registered detector is made from its [`BuildContext`].
pub(crate) trait Build: Sized {
    /// A fresh detector (no state learned yet).
    fn build(ctx: &BuildContext<'_>) -> Result<Self, AnomalyError>;
}

/// Members of an `ensemble` whose config names none.
pub(crate) const DEFAULT_MEMBERS: [DetectorKind; 2] =
    [DetectorKind::RobustSeasonal, DetectorKind::Novelty];

macro_rules! detectors {
    ($( $(#[doc = $doc:literal])+ $kind:ident = $name:literal => $det:ty, )+) => {
        /// Which detector to run (the registry's names; `auto` by default).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
        pub enum DetectorKind {
            $( $(#[doc = $doc])+ #[serde(rename = $name)] $kind, )+
        }

        impl DetectorKind {
            /// Every registered detector, in registry order.
            pub const ALL: &'static [DetectorKind] = &[$(Self::$kind),+];

            /// The name used in intents and on the command line (`robust_seasonal`).
            pub fn name(self) -> &'static str {
                match self { $(Self::$kind => $name),+ }
            }

            /// The detector's documentation (its doc comment in the registry).
            pub fn doc(self) -> &'static str {
                match self { $(Self::$kind => concat!($($doc, "\n"),+)),+ }
            }

            /// The detector registered under `name`.
            pub fn from_name(name: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|k| k.name() == name)
            }
        }

        /// The per-entity state of a detector of any registered kind. It scores like the
        /// detector it holds, and it serialises (serde) with its kind, so a trained model is
        /// its state: snapshot it, restore it, and it goes on exactly where it stopped.
        #[derive(Clone, Debug, Serialize, Deserialize)]
        pub struct AnyDetector(Kinds);

        #[derive(Clone, Debug, Serialize, Deserialize)]
        enum Kinds {
            $( $kind(Box<$det>), )+
        }

        impl AnyDetector {
            /// A fresh detector of `kind` for `ctx`.
            pub(crate) fn build(
                kind: DetectorKind,
                ctx: &BuildContext<'_>,
            ) -> Result<Self, AnomalyError> {
                Ok(Self(match kind {
                    $(DetectorKind::$kind => Kinds::$kind(Box::new(<$det as Build>::build(ctx)?)),)+
                }))
            }

            /// Which detector this is.
            pub fn kind(&self) -> DetectorKind {
                match &self.0 { $(Kinds::$kind(_) => DetectorKind::$kind),+ }
            }
        }

        impl AnyDetector {
            /// [`Detector::update`] of the detector held (callable without the trait in scope).
            #[inline]
            pub fn update(&mut self, time: Timestamp, values: &[f64]) -> Score {
                match &mut self.0 { $(Kinds::$kind(d) => d.update(time, values)),+ }
            }

            /// [`Detector::state_bytes`] of the detector held.
            pub fn state_bytes(&self) -> usize {
                match &self.0 { $(Kinds::$kind(d) => d.state_bytes()),+ }
            }

            /// [`Detector::know`] of the detector held.
            pub fn know(&mut self, prior: &Prior) {
                match &mut self.0 { $(Kinds::$kind(d) => d.know(prior)),+ }
            }
        }

        impl Detector for AnyDetector {
            #[inline]
            fn update(&mut self, time: Timestamp, values: &[f64]) -> Score {
                AnyDetector::update(self, time, values)
            }

            fn state_bytes(&self) -> usize {
                AnyDetector::state_bytes(self)
            }

            fn know(&mut self, prior: &Prior) {
                AnyDetector::know(self, prior)
            }
        }
    };
}

detectors! {
    /// Pick by the data: `robust_seasonal` for streams with a daily rhythm (the first two
    /// days' time-of-day profiles correlate by at least 0.5), otherwise `resonance`. Scores 0
    /// for the first two days, while it decides.
    Auto = "auto" => crate::auto::Auto,
    /// Time-of-day (and weekday/weekend) profile with a robust level and scale per field.
    RobustSeasonal = "robust_seasonal" => crate::seasonal::RobustSeasonal,
    /// Exponentially weighted mean and mean absolute deviation per field (no season): cheapest,
    /// for series without a daily pattern.
    Ewma = "ewma" => crate::ewma::Ewma,
    /// Additive Holt-Winters (level, damped trend and daily season) per field, scored on its
    /// one-step forecast residual.
    HoltWinters = "holt_winters" => crate::holt_winters::HoltWinters,
    /// Streaming half-space trees (Tan, Ting & Liu 2011) over the entity's normalised fields:
    /// the multivariate detector, scoring points that fall where the recent joint distribution
    /// of the fields has little mass. Windows of `min_points` samples (at least 16).
    HalfSpaceTrees = "half_space_trees" => crate::hst::HalfSpaceTrees,
    /// Long-memory pattern novelty per field: a prototype memory of (value, recent level)
    /// pairs with a vigilance radius, as in adaptive resonance theory (Carpenter & Grossberg
    /// 1987); a pattern never seen before scores, once. For series without a daily profile
    /// whose anomalies are new values or levels, and in the `ensemble`.
    Novelty = "novelty" => crate::novelty::Novelty,
    /// Several detectors on the same stream: the most surprised one speaks, or all of them
    /// together (Fisher's method) when several are surprised at once, less `log10(members)`
    /// decades: `members` (default `robust_seasonal` and `novelty`).
    Ensemble = "ensemble" => crate::ensemble::Ensemble,
    /// Streaming robust random cut forest (Guha, Mishra, Roy & Schrijvers, ICML 2016, "Robust
    /// random cut forest based anomaly detection on streams") over shingles of the last 4
    /// samples of the normalised fields: scores the collusive displacement of each new point
    /// against time-decayed samples of recent points. Multivariate, with temporal context.
    RandomCutForest = "random_cut_forest" => crate::rcf::RandomCutForest,
    /// Spectral residual (Ren et al., KDD 2019, "Time-Series Anomaly Detection Service at
    /// Microsoft") per field: the saliency of the newest point in an FFT of the last 123 values
    /// (extended by 5 estimated ones), scored against a robust level of recent saliency.
    SpectralResidual = "spectral_residual" => crate::spectral_residual::SpectralResidual,
    /// Bayesian online changepoint detection (Adams & MacKay 2007) per field: a Normal model of
    /// unknown mean and variance over the online-standardised values, constant hazard, run-length
    /// posterior over at most 64 runs; scored on the point's predictive surprise.
    BayesianChangepoint = "bayesian_changepoint" => crate::bayesian_changepoint::BayesianChangepoint,
    /// Pattern novelty by dual-vigilance fuzzy ART per field, after ARTime (Hampton 2022):
    /// windows of downsampled values are learned as categories; a window that resonates with
    /// none starts a new cluster and is reported once (later ones are masked for a while).
    /// Streaming: the range seen so far replaces ARTime's look at the whole series.
    Resonance = "resonance" => crate::resonance::Resonance,
}

impl AnyDetector {
    /// What a detector that picks by the data (`auto`) chose for this stream, in words; `None`
    /// for the others, and while `auto` still decides.
    pub fn choice(&self) -> Option<&'static str> {
        match &self.0 {
            Kinds::Auto(a) => a.choice(),
            _ => None,
        }
    }
}

// Written out: the registry macro gives every variant the same attributes, so it cannot mark
// one `#[default]`.
#[allow(clippy::derivable_impls)]
impl Default for DetectorKind {
    fn default() -> Self {
        Self::Auto
    }
}
