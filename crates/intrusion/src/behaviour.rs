//! Unknown attacks as host behaviour the population has not shown (issue 15 item 4).

use std::collections::HashMap;
use std::net::IpAddr;

use ai4ict_anomaly::{AnyDetector, DetectorConfig};
use ai4ict_core::{Interval, Timestamp};

use crate::tails::PopulationTails;
use crate::{FlowObs, HostWindow, HostWindows, IntrusionError, WindowConfig, FEATURES};

/// Indices of `interarrival_cv` and `peer_interarrival_cv` in [`FEATURES`]: scored as
/// regularity (low spread, high score).
const CV: usize = feature_index("interarrival_cv");
const PEER_CV: usize = feature_index("peer_interarrival_cv");
/// Index of `interarrival_mean_s`: no direction of it is suspicious in itself, left out.
const MEAN_GAP: usize = feature_index("interarrival_mean_s");

/// The index of `name` in [`FEATURES`]; a name not there fails the build.
const fn feature_index(name: &str) -> usize {
    let mut i = 0;
    while i < FEATURES.len() {
        if FEATURES[i].len() == name.len() {
            let (a, b) = (FEATURES[i].as_bytes(), name.as_bytes());
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return i;
            }
        }
        i += 1;
    }
    panic!("not a feature")
}

/// What learns the normal behaviour of hosts.
#[derive(Clone, Debug, PartialEq)]
pub enum BehaviourModel {
    /// Each feature's upper tail over the population of host windows (the default):
    /// [`PopulationTails`](crate::PopulationTails), after `warm_up` windows.
    Population {
        /// Windows learned before the first score.
        warm_up: u64,
    },
    /// A streaming detector of the anomaly crate, fed the host windows in time order as one
    /// stream. Kept for comparison: the time-series detectors model a series, not a
    /// population, and do worse here (crates/intrusion/README.md).
    Detector(DetectorConfig),
}

/// When a host's behaviour raises an alert.
#[derive(Clone, Debug, PartialEq)]
pub struct BehaviourConfig {
    /// What scores host windows. Only unusually *high* values count: more flows, peers,
    /// ports and failures, more bytes per packet or up than down, more regular check-ins.
    pub model: BehaviourModel,
    /// Decades of surprise that make a score of 1, as in the anomaly crate: a score of
    /// `s` means a tail share of `10^(-s × decades)`, corrected for the number of features.
    pub decades: f64,
    /// Alert when a window scores above this (the calibrated score of the anomaly crate:
    /// 0.9 ≈ one chance in 30,000 under normal behaviour).
    pub score_above: f64,
    /// No new alert for the same host within this many ms of its last.
    pub suppress_ms: i64,
}

impl Default for BehaviourConfig {
    fn default() -> Self {
        Self {
            model: BehaviourModel::Population { warm_up: 2_000 },
            decades: 5.0,
            score_above: 0.9,
            suppress_ms: 30 * 60_000,
        }
    }
}

/// The settings of a watch with windows of `hops` hops of `hop_ms` that alerts above
/// `score_above`, at most once per `suppress_ms` per host; the rest as default.
pub fn watch_settings(
    hop_ms: i64,
    hops: usize,
    score_above: f64,
    suppress_ms: i64,
) -> (WindowConfig, BehaviourConfig) {
    (
        WindowConfig {
            hop_ms,
            hops,
            ..WindowConfig::default()
        },
        BehaviourConfig {
            score_above,
            suppress_ms,
            ..BehaviourConfig::default()
        },
    )
}

/// An alert on a host whose window behaviour is unlike the population's.
#[derive(Clone, Debug, PartialEq)]
pub struct HostAlert {
    /// The host.
    pub host: IpAddr,
    /// End of the window that alerted.
    pub time: Timestamp,
    /// Its calibrated score.
    pub score: f64,
    /// The feature that contributed most, from [`FEATURES`].
    pub feature: &'static str,
    /// That feature's value in the window.
    pub value: f64,
    /// The value 99 % of host windows stay on the usual side of, in the feature's units: at
    /// or below it, or for the regularity features (`cv`, `peer_cv`: a low spread of gaps is
    /// the unusual side) at or above it; `None` when the scorer has no population.
    pub usual: Option<f64>,
}

/// Scores every host window against the behaviour of all host windows before it: one
/// detector of the anomaly crate learns the population's normal (so a host never seen before,
/// such as an outside attacker, is judged at once), and a window far outside it alerts,
/// whatever attack causes it. No label is used: an attack no classifier was trained on
/// alerts as readily as a known one.
pub struct Behaviour {
    config: BehaviourConfig,
    scorer: Scorer,
    last_alert: HashMap<IpAddr, i64>,
    values: Vec<f64>,
}

impl Behaviour {
    /// A detector for windows that hop every `hop`.
    pub fn new(config: BehaviourConfig, hop: Interval) -> Result<Self, IntrusionError> {
        if !(config.score_above > 0.0 && config.score_above < 1.0) {
            return Err(IntrusionError::Config {
                field: "score_above",
                problem: format!("must be in (0, 1), got {}", config.score_above),
            });
        }
        if !(config.decades.is_finite() && config.decades >= 1.0) {
            return Err(IntrusionError::Config {
                field: "decades",
                problem: format!("must be at least 1, got {}", config.decades),
            });
        }
        let scorer = match &config.model {
            BehaviourModel::Population { warm_up } => {
                Scorer::Population(PopulationTails::new(FEATURES.len(), *warm_up))
            }
            BehaviourModel::Detector(d) => Scorer::Detector(d.build(FEATURES.len(), hop)?),
        };
        Ok(Self {
            config,
            scorer,
            last_alert: HashMap::new(),
            values: Vec::with_capacity(FEATURES.len()),
        })
    }

    /// Scores `window` and learns from it; an alert when it is unusual and its host has not
    /// alerted within `suppress_ms`.
    pub fn score(&mut self, window: &HostWindow) -> Option<HostAlert> {
        self.values.clear();
        self.values
            .extend(window.features.iter().enumerate().map(|(i, &v)| match i {
                MEAN_GAP => f64::NAN,
                CV | PEER_CV => 1.0 / (v + 0.01),
                _ => v,
            }));
        let (score, field) = match &mut self.scorer {
            Scorer::Population(p) => match p.update(&self.values, self.config.decades / 2.0) {
                Some((surprise, field)) => ((surprise / self.config.decades).min(1.0), field),
                None => return None,
            },
            Scorer::Detector(d) => {
                let s = d.update(window.end, &self.values);
                (s.value, s.field.unwrap_or(0))
            }
        };
        if score <= self.config.score_above {
            return None;
        }
        let t = window.end.0;
        if let Some(&last) = self.last_alert.get(&window.host) {
            if t - last < self.config.suppress_ms {
                return None;
            }
        }
        self.last_alert.insert(window.host, t);
        if self.last_alert.len() > 100_000 {
            let keep = t - self.config.suppress_ms;
            self.last_alert.retain(|_, &mut a| a >= keep);
        }
        let field = field.min(FEATURES.len() - 1);
        let usual = match &self.scorer {
            Scorer::Population(p) => p.p99(field).map(|b| match field {
                // Scored as `1 / (v + 0.01)`: back to the feature's units.
                CV | PEER_CV => 1.0 / b.max(f64::MIN_POSITIVE) - 0.01,
                _ => b,
            }),
            Scorer::Detector(_) => None,
        };
        Some(HostAlert {
            host: window.host,
            time: window.end,
            score,
            feature: FEATURES[field],
            value: window.features[field],
            usual,
        })
    }
}

enum Scorer {
    Population(PopulationTails),
    Detector(AnyDetector),
}

/// The SRC → M → P chain of unknown-attack detection: flows into [`HostWindows`], each
/// window scored by [`Behaviour`].
pub struct HostWatch {
    windows: HostWindows,
    behaviour: Behaviour,
    closed: Vec<HostWindow>,
}

impl HostWatch {
    /// A watch of `window`s scored by `behaviour`.
    pub fn new(window: WindowConfig, behaviour: BehaviourConfig) -> Result<Self, IntrusionError> {
        let hop = Interval::from_millis(window.hop_ms);
        Ok(Self {
            windows: HostWindows::new(window)?,
            behaviour: Behaviour::new(behaviour, hop)?,
            closed: Vec::new(),
        })
    }

    /// Counts `flow`; alerts of the hops it closes go to `alerts`. True when it closed a hop.
    pub fn push(&mut self, flow: &FlowObs, alerts: &mut Vec<HostAlert>) -> bool {
        self.windows.push(flow, &mut self.closed);
        self.judge(alerts)
    }

    /// Closes the open hop (at the end of the stream).
    pub fn finish(&mut self, alerts: &mut Vec<HostAlert>) {
        self.windows.finish(&mut self.closed);
        self.judge(alerts);
    }

    /// The windows and their statistics.
    pub fn windows(&self) -> &HostWindows {
        &self.windows
    }

    fn judge(&mut self, alerts: &mut Vec<HostAlert>) -> bool {
        let closed = !self.closed.is_empty();
        alerts.extend(
            self.closed
                .drain(..)
                .filter_map(|w| self.behaviour.score(&w)),
        );
        closed
    }
}
