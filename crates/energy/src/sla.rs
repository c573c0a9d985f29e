//! SLA-breach prediction (services and applications, ITU-T Y.3170): forecast each cell's
//! user-plane latency (the sandbox's `latency` KPI) and each site's backhaul-link utilisation
//! (offered traffic of the site's cells over the link capacity), and warn `lead_steps`
//! intervals ahead of a breach of the limit.
//!
//! Each entity (a cell's latency, a site's backhaul link) has its own predictor
//! ([`SlaPredictor`]), fed one observation per interval and independent of every other
//! entity, so the entities can be spread over workers without changing a decision: the engine
//! runs them on timely dataflow, [`evaluate_sla`] in one thread. The forecaster is refitted
//! each midnight on `history_days` and forecasts the day ahead (and `lead_steps` intervals past
//! it, for the last decisions of the day). Each interval the day-ahead forecast is corrected
//! with the latest observations (the level of the day differs from the forecast one, and an
//! incident shifts it for hours) and turned into a probability of breach, from the errors of the corrected forecast seen so far; a
//! warning is raised when a breach in the next `lead_steps` intervals is more likely than
//! `alert_probability`. Every decision uses only the data observed before it. Scored against
//! the breaches that actually happen: event precision, recall and lead time, and how many
//! breaches the injected incidents caused (a counterfactual run of the same network without
//! incidents).

use std::collections::VecDeque;

use ai4ict_core::{Entity, Timestamp};
use ai4ict_forecast::stats::{normal_quantile, z_for_level};
use ai4ict_forecast::{forecast_many, Forecast, ForecasterConfig, Method};
use ai4ict_sandbox::{Network, ScenarioConfig, KPIS};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use ai4ict_policy::SlaPolicy;

use crate::EnergyError;

/// Settings of the SLA-breach predictor: the sandbox, the forecaster and the policy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct SlaConfig {
    /// The sandbox scenario.
    pub sandbox: ScenarioConfig,
    /// Forecaster (refitted each midnight, day-ahead forecast).
    pub forecaster: ForecasterConfig,
    /// When to predict a breach and how early to warn.
    pub policy: SlaPolicy,
}

impl Default for SlaConfig {
    fn default() -> Self {
        Self {
            sandbox: ScenarioConfig {
                days: 28,
                // Measured with 3 incident-free days; the forecasters' history is not yet
                // robust to incidents, as the anomaly detectors' is.
                quiet_days: 3,
                ..ScenarioConfig::default()
            },
            forecaster: ForecasterConfig::with_method(Method::Mstl),
            policy: SlaPolicy::default(),
        }
    }
}

/// Scores of one SLA (latency or link utilisation).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SlaScores {
    /// `latency` or `link_utilisation`.
    pub sla: String,
    /// Entities watched.
    pub entities: usize,
    /// Actual breach events (runs of breaching intervals).
    pub breaches: usize,
    /// Breaches that would not have happened without an injected incident (no breaching
    /// interval in the same run of the network without incidents).
    pub breaches_from_incidents: usize,
    /// Breaches beginning in the very interval an incident first shows in the series (it
    /// leaves its incident-free counterpart there): no causal predictor can warn of them.
    pub sudden_breaches: usize,
    /// Alerts raised (one per run of intervals with a warning).
    pub alerts: usize,
    /// Alerts followed by the onset of a breach within `lead_steps` of the warning.
    pub true_alerts: usize,
    /// Breaches with a warning at or before their onset.
    pub warned: usize,
    /// Warned breaches among those caused by incidents.
    pub warned_from_incidents: usize,
    /// `true_alerts / alerts`.
    pub precision: f64,
    /// `warned / breaches`.
    pub recall: f64,
    /// Mean minutes between the first warning and the start of the breaching interval it
    /// warned of (warned breaches; 0 when the warning came as that interval began).
    pub mean_lead_minutes: f64,
}

/// Level of the day-ahead interval from which the forecast's standard deviation is read.
const INTERVAL_LEVEL: f64 = 0.8;

/// Ridge on the correction's regression, in squared units of the series: with few or small
/// recent residuals the correction stays near zero instead of dividing by a vanishing second
/// moment.
const RIDGE: f64 = 1e-6;

/// The SLA an entity is watched for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SlaKind {
    /// A cell's user-plane latency (the sandbox's `latency` KPI), ms.
    Latency,
    /// A site's backhaul-link utilisation: its cells' offered traffic over the link capacity.
    LinkUtilisation,
}

impl SlaKind {
    /// `latency` or `link_utilisation`, as the scores name it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Latency => "latency",
            Self::LinkUtilisation => "link_utilisation",
        }
    }
}

/// An entity watched for an SLA: a cell (latency) or a site (its backhaul link).
#[derive(Clone, Debug)]
pub struct SlaEntity {
    /// The cell's name or the site's: the key that places the entity on a worker.
    pub entity: Entity,
    /// The SLA it is watched for.
    pub kind: SlaKind,
    /// Index of the cell or the site in the sandbox network.
    index: usize,
}

/// What one entity's predictor needs to know of the loop: the same for every entity of a kind.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
struct Params {
    /// First evaluated step (after the history days), also the training window's length.
    first: usize,
    /// Every step of the scenario.
    steps: usize,
    per_day: usize,
    /// `lead_steps + 1`: the intervals each decision looks at.
    width: usize,
    limit: f64,
    correction_steps: usize,
    /// A breach is more likely than `alert_probability` when (limit − μ) / σ is below this.
    z_alert: f64,
    /// Weight of the latest error in the running moments (about a day's memory).
    weight: f64,
}

impl Params {
    /// The settings of one SLA of `policy` on a scenario of `steps` steps, `per_day` a day.
    fn new(
        policy: &SlaPolicy,
        steps: usize,
        per_day: usize,
        limit: f64,
        correction_steps: usize,
    ) -> Self {
        Self {
            first: policy.history_days as usize * per_day,
            steps,
            per_day,
            width: policy.lead_steps + 1,
            limit,
            correction_steps,
            z_alert: normal_quantile(1.0 - policy.alert_probability),
            weight: 1.0 / per_day.max(1) as f64,
        }
    }

    /// When interval `next` starts an evaluated day, the steps the forecaster refitted then
    /// forecasts: the day and the look-ahead past its end.
    fn refit_at(&self, next: usize) -> Option<usize> {
        let starts_day = next >= self.first
            && next < self.steps
            && (next - self.first).is_multiple_of(self.per_day);
        starts_day.then(|| (self.per_day + self.width - 1).min(self.steps - next))
    }
}

/// SLA-breach prediction's scenario (services and applications, ITU-T Y.3170, on the Y.3181
/// sandbox): the network, its incident-free counterpart for attribution, and the watched
/// entities. The per-entity predictors run wherever a driver puts them: on timely dataflow (the
/// engine) or in one thread ([`evaluate_sla`]).
pub struct SlaLoop {
    config: SlaConfig,
    net: Network,
    quiet: Network,
    entities: Vec<SlaEntity>,
    latency: Params,
    link: Params,
    latency_kpi: usize,
    minutes: f64,
}

impl SlaLoop {
    /// Builds the sandbox network and its incident-free counterpart; refuses settings out of
    /// range.
    pub fn new(config: &SlaConfig) -> Result<Self, EnergyError> {
        let p = &config.policy;
        if !(p.alert_probability > 0.0 && p.alert_probability < 1.0) {
            return Err(EnergyError::InvalidConfig(format!(
                "alert_probability {} must lie strictly between 0 and 1",
                p.alert_probability
            )));
        }
        if !(p.latency_limit_ms > 0.0 && p.link_utilisation_limit > 0.0) {
            return Err(EnergyError::InvalidConfig(
                "the SLA limits must be positive".into(),
            ));
        }
        if p.history_days == 0 || p.history_days >= config.sandbox.days {
            return Err(EnergyError::InvalidConfig(
                "history_days must be at least 1 and less than sandbox.days".into(),
            ));
        }
        let net = Network::new(&config.sandbox)?;
        let quiet = Network::new(&ScenarioConfig {
            incident_rate: 0.0,
            ..config.sandbox.clone()
        })?;
        let interval_ms = net.interval().millis().max(1);
        let per_day = (86_400_000 / interval_ms) as usize;
        if per_day < 2 {
            return Err(EnergyError::InvalidConfig(
                "the sandbox interval must be shorter than half a day".into(),
            ));
        }
        let steps = net.steps();
        let latency = Params::new(
            p,
            steps,
            per_day,
            p.latency_limit_ms,
            p.latency_correction_steps,
        );
        let link = Params::new(
            p,
            steps,
            per_day,
            p.link_utilisation_limit,
            p.link_correction_steps,
        );
        let cells = net.cells().iter().enumerate().map(|(i, c)| SlaEntity {
            entity: c.name.clone(),
            kind: SlaKind::Latency,
            index: i,
        });
        let sites = net.sites().iter().enumerate().map(|(i, s)| SlaEntity {
            entity: Entity::new(s.name.as_str()),
            kind: SlaKind::LinkUtilisation,
            index: i,
        });
        let entities = cells.chain(sites).collect();
        Ok(Self {
            config: config.clone(),
            latency_kpi: KPIS.iter().position(|k| *k == "latency").unwrap_or(6),
            minutes: interval_ms as f64 / 60_000.0,
            net,
            quiet,
            entities,
            latency,
            link,
        })
    }

    /// The watched entities: every cell (latency), then every site (backhaul link).
    pub fn entities(&self) -> &[SlaEntity] {
        &self.entities
    }

    /// The entities worker `index` of `peers` owns (by their key).
    pub fn owned(&self, index: usize, peers: usize) -> Vec<usize> {
        (0..self.entities.len())
            .filter(|&e| self.entities[e].entity.owner(peers) == index)
            .collect()
    }

    /// Every interval the loop runs: the history days, then the evaluated days.
    pub fn steps(&self) -> usize {
        self.net.steps()
    }

    /// Start of interval `step`.
    pub fn time(&self, step: usize) -> Timestamp {
        self.net.time(step)
    }

    /// The sandbox's observation of entity `e` over interval `step` (Y.3172 §8 SRC).
    pub fn observe(&self, e: usize, step: usize) -> f64 {
        self.value(&self.net, e, step)
    }

    fn value(&self, net: &Network, e: usize, step: usize) -> f64 {
        let Some(ent) = self.entities.get(e) else {
            return f64::NAN;
        };
        match ent.kind {
            SlaKind::Latency => {
                let mut v = [0.0; 8];
                let d = net.demand(ent.index, step);
                net.kpis(ent.index, step, &d, &mut v);
                v[self.latency_kpi]
            }
            SlaKind::LinkUtilisation => {
                let Some(site) = net.sites().get(ent.index) else {
                    return f64::NAN;
                };
                let cap = net
                    .links()
                    .get(site.link)
                    .map_or(f64::INFINITY, |l| l.capacity_mbps.max(1e-9));
                site.cells
                    .iter()
                    .map(|&c| net.demand(c, step).dl_mbps)
                    .sum::<f64>()
                    / cap
            }
        }
    }

    fn params(&self, kind: SlaKind) -> &Params {
        match kind {
            SlaKind::Latency => &self.latency,
            SlaKind::LinkUtilisation => &self.link,
        }
    }

    /// A fresh model and policy for entity `e`.
    pub fn predictor(&self, e: usize) -> Result<SlaPredictor, EnergyError> {
        let ent = self.entities.get(e).ok_or_else(|| {
            EnergyError::InvalidConfig(format!(
                "no entity {e} among {} watched",
                self.entities.len()
            ))
        })?;
        Ok(SlaPredictor::new(e, *self.params(ent.kind)))
    }

    /// One interval of the loop for a batch of predictors (any entities, each with its
    /// observation of interval `step`): each reads its observation; at the end of a day every
    /// one refits its forecaster (the batch's fits run in parallel, each on its own entity's
    /// history); then each decides whether to warn in the next interval. An entity's decisions
    /// depend on its own observations only, so any split of the entities into batches gives
    /// the same decisions.
    pub fn step(
        &self,
        step: usize,
        batch: &mut [(&mut SlaPredictor, f64)],
    ) -> Result<(), EnergyError> {
        for (p, y) in batch.iter_mut() {
            p.observe(&self.entities[p.entity].entity, step, *y)?;
        }
        let next = step + 1;
        if let Some(h) = self.latency.refit_at(next) {
            let train: Vec<Vec<f64>> = batch
                .iter()
                .map(|(p, _)| p.history.iter().copied().collect())
                .collect();
            let fits = forecast_many(
                &self.config.forecaster,
                &train,
                self.latency.per_day,
                h,
                INTERVAL_LEVEL,
            );
            for ((p, _), fit) in batch.iter_mut().zip(fits) {
                p.refit(next, h, fit.ok());
            }
        }
        for (p, _) in batch.iter_mut() {
            p.decide(next);
        }
        Ok(())
    }

    /// Scores predictor `p` once it has read the whole scenario: its warnings against the
    /// breaches of its entity, attributed with the incident-free network (the D node's
    /// per-entity result).
    pub fn finish(&self, p: SlaPredictor) -> SlaOutcome {
        let q = &p.params;
        let counterfactual: Vec<f64> = (q.first..q.steps)
            .map(|t| self.value(&self.quiet, p.entity, t))
            .collect();
        let mut o = score(&p.actual, &counterfactual, &p.warned, q.limit, q.width - 1);
        o.entity = p.entity;
        o.records = p.records;
        o
    }

    /// The scores of both SLAs from the loop's `outcomes` (one per entity, any order), summed
    /// in entity order so that any split of the entities over workers gives the same numbers.
    pub fn report(&self, mut outcomes: Vec<SlaOutcome>) -> Result<Vec<SlaScores>, EnergyError> {
        outcomes.sort_by_key(|o| o.entity);
        let complete = outcomes.len() == self.entities.len()
            && outcomes.iter().enumerate().all(|(e, o)| o.entity == e);
        if !complete {
            return Err(EnergyError::InvalidConfig(format!(
                "the loop reported {} entity outcomes for {} entities",
                outcomes.len(),
                self.entities.len()
            )));
        }
        Ok([SlaKind::Latency, SlaKind::LinkUtilisation]
            .into_iter()
            .map(|kind| {
                let mut s = SlaScores {
                    sla: kind.as_str().into(),
                    ..SlaScores::default()
                };
                let mut lead = 0usize;
                for o in outcomes
                    .iter()
                    .filter(|o| self.entities[o.entity].kind == kind)
                {
                    s.entities += 1;
                    s.breaches += o.breaches;
                    s.breaches_from_incidents += o.breaches_from_incidents;
                    s.sudden_breaches += o.sudden_breaches;
                    s.alerts += o.alerts;
                    s.true_alerts += o.true_alerts;
                    s.warned += o.warned;
                    s.warned_from_incidents += o.warned_from_incidents;
                    lead += o.lead_steps;
                }
                let ratio = |a: usize, b: usize| if b > 0 { a as f64 / b as f64 } else { f64::NAN };
                s.precision = ratio(s.true_alerts, s.alerts);
                s.recall = ratio(s.warned, s.breaches);
                s.mean_lead_minutes = if s.warned > 0 {
                    lead as f64 * self.minutes / s.warned as f64
                } else {
                    f64::NAN
                };
                s
            })
            .collect())
    }
}

/// One entity's scores (the D node's per-entity result; the leader sums them in entity order).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SlaOutcome {
    /// The entity's index in [`SlaLoop::entities`].
    pub entity: usize,
    /// Breach events (runs of breaching intervals).
    pub breaches: usize,
    /// Breaches without a breaching interval in the incident-free network.
    pub breaches_from_incidents: usize,
    /// Breaches beginning in the very interval an incident first shows.
    pub sudden_breaches: usize,
    /// Alerts raised (runs of intervals with a warning).
    pub alerts: usize,
    /// Alerts followed by the onset of a breach within the lead.
    pub true_alerts: usize,
    /// Breaches with a warning at or before their onset.
    pub warned: usize,
    /// Warned breaches among those caused by incidents.
    pub warned_from_incidents: usize,
    /// Intervals between the first warning and the onset, summed over warned breaches.
    pub lead_steps: usize,
    /// Observations read.
    pub records: u64,
}

/// Y.3172 §8.1 M and P for one entity (services and applications, ITU-T Y.3170): the
/// entity's forecaster (its training window, refitted each midnight for the day ahead) and
/// the warning policy, fed one observation per interval. Each decision is a forecast of the
/// next `lead_steps + 1` intervals with a standard deviation per step ahead, learnt from the
/// errors of these forecasts as their observations arrive (exponentially weighted over about a
/// day; the day-ahead interval is the prior), so the probability of breach is calibrated to how
/// well the entity has actually been forecast lately rather than read from the nominal
/// day-ahead interval. With `correction_steps > 0` the forecast is shifted by `β_h·x`, `x` the
/// mean residual of the last `correction_steps` observations and `β_h` its running regression
/// coefficient on the error `h` steps later (ridge towards no correction): only residuals that
/// have persisted in this entity move the forecast. No warning is raised while the last
/// observation is itself a breach: that is a breach to report, not to predict. Every decision
/// uses only the observations before the interval it is made for: the look-ahead past midnight
/// reads the previous day's fit, which forecasts `lead_steps` intervals beyond its day.
/// Serialisable: it is the entity's whole state between intervals.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SlaPredictor {
    entity: usize,
    params: Params,
    /// The next step to be observed.
    next: usize,
    /// The last `first` observations (the training window).
    history: VecDeque<f64>,
    /// The latest fit's forecast mean, from evaluated step `origin` on.
    fit: Vec<f64>,
    origin: usize,
    /// Per step ahead: the running variance of the forecast errors and the running second
    /// moments of the recent residual `x` and the error `d` it corrects (`β_h = E[xd]/E[x²]`).
    var: Vec<f64>,
    sxx: Vec<f64>,
    sxy: Vec<f64>,
    /// The latest residuals of the day-ahead forecast.
    resid: VecDeque<f64>,
    /// The latest decisions' mean recent residual and forecasts of the next `width` steps.
    recent: VecDeque<f64>,
    pred: VecDeque<Vec<f64>>,
    /// The evaluated observations and the warning decided for each.
    actual: Vec<f64>,
    warned: Vec<bool>,
    records: u64,
}

impl SlaPredictor {
    fn new(entity: usize, params: Params) -> Self {
        Self {
            entity,
            params,
            next: 0,
            history: VecDeque::with_capacity(params.first + 1),
            fit: Vec::new(),
            origin: 0,
            var: vec![0.0; params.width],
            sxx: vec![0.0; params.width],
            sxy: vec![0.0; params.width],
            resid: VecDeque::new(),
            recent: VecDeque::new(),
            pred: VecDeque::new(),
            actual: Vec::new(),
            warned: Vec::new(),
            records: 0,
        }
    }

    /// The entity this predictor watches (its index in [`SlaLoop::entities`]).
    pub fn entity(&self) -> usize {
        self.entity
    }

    /// The forecast mean of evaluated step `j` from the latest fit.
    fn mean(&self, j: usize) -> f64 {
        j.checked_sub(self.origin)
            .and_then(|k| self.fit.get(k))
            .copied()
            .unwrap_or(f64::NAN)
    }

    /// Reads the observation `y` of interval `step`.
    fn observe(&mut self, entity: &Entity, step: usize, y: f64) -> Result<(), EnergyError> {
        if step != self.next || step >= self.params.steps {
            return Err(EnergyError::OutOfOrder {
                entity: entity.name().to_string(),
                expected: self.next,
                got: step,
            });
        }
        let q = self.params;
        if let Some(j) = step.checked_sub(q.first) {
            self.resid.push_back(y - self.mean(j));
            if self.resid.len() > q.correction_steps.max(1) {
                self.resid.pop_front();
            }
            self.actual.push(y);
        }
        self.history.push_back(y);
        if self.history.len() > q.first {
            self.history.pop_front();
        }
        self.next += 1;
        self.records += 1;
        Ok(())
    }

    /// Installs the forecast of the `h` steps from `next` on (none: the fit failed, the
    /// forecast is NaN and raises no warning); the first fit's interval is the prior of the
    /// forecast errors' spread.
    fn refit(&mut self, next: usize, h: usize, fit: Option<Forecast>) {
        let q = self.params;
        let i0 = next - q.first;
        let (mean, sd) = match fit {
            Some(f) => {
                let z = z_for_level(INTERVAL_LEVEL);
                let sd: Vec<f64> = f
                    .upper
                    .iter()
                    .zip(&f.mean)
                    .map(|(u, m)| (u - m) / z)
                    .collect();
                (f.mean, sd)
            }
            None => (vec![f64::NAN; h], vec![f64::NAN; h]),
        };
        if i0 == 0 {
            let n = q.steps - q.first;
            let prior: Vec<f64> = sd
                .iter()
                .take(n.min(q.per_day))
                .copied()
                .filter(|v| v.is_finite())
                .collect();
            let prior = prior.iter().sum::<f64>() / prior.len().max(1) as f64;
            self.var = vec![prior * prior; q.width];
        }
        self.fit = mean;
        self.origin = i0;
    }

    /// Decides whether to warn at the start of interval `next`, from the observations before it.
    fn decide(&mut self, next: usize) {
        let q = self.params;
        if next < q.first || next >= q.steps {
            return;
        }
        let i = next - q.first;
        let n = q.steps - q.first;
        let last = self.history.back().copied();
        if let Some(&d) = self.resid.back().filter(|_| i > 0) {
            for h in 0..q.width.min(i) {
                // The decision made h + 1 intervals ago, of the step just observed.
                let back = self.recent.len() - 1 - h;
                let x = self.recent[back];
                if x.is_finite() && d.is_finite() {
                    self.sxx[h] += q.weight * (x * x - self.sxx[h]);
                    self.sxy[h] += q.weight * (x * d - self.sxy[h]);
                }
                let e = last.unwrap_or(f64::NAN) - self.pred[back][h];
                if e.is_finite() {
                    self.var[h] += q.weight * (e * e - self.var[h]);
                }
            }
        }
        let k = q.correction_steps.min(i);
        let (sum, count) = self
            .resid
            .iter()
            .skip(self.resid.len() - k)
            .filter(|v| v.is_finite())
            .fold((0.0, 0usize), |(s, c), v| (s + v, c + 1));
        let recent = if count > 0 {
            sum / count as f64
        } else {
            f64::NAN
        };
        let mut row = vec![f64::NAN; q.width];
        let mut breach_likely = false;
        for (h, slot) in row.iter_mut().enumerate().take(q.width.min(n - i)) {
            let shift = if recent.is_finite() {
                self.sxy[h] / (self.sxx[h] + RIDGE) * recent
            } else {
                0.0
            };
            let mu = self.mean(i + h) + shift;
            *slot = mu;
            breach_likely |= q.limit - mu < q.z_alert * self.var[h].sqrt();
        }
        self.recent.push_back(recent);
        self.pred.push_back(row);
        if self.recent.len() > q.width {
            self.recent.pop_front();
            self.pred.pop_front();
        }
        self.warned
            .push(breach_likely && !last.is_some_and(|v| v > q.limit));
    }
}

/// Runs of `true` as `[start, end)` pairs.
fn runs(flags: &[bool]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut t = 0;
    while t < flags.len() {
        if flags[t] {
            let s = t;
            while t < flags.len() && flags[t] {
                t += 1;
            }
            out.push((s, t));
        } else {
            t += 1;
        }
    }
    out
}

/// Scores one entity's warnings against the breaches of `actual` (above `limit`);
/// `counterfactual` is the same series without incidents, for attribution. A run of warnings
/// `[s, e)` is a true alert when a breach begins in `[s, e − 1 + lead]`; a breach beginning at
/// `o` is warned when a warning run has `s ≤ o ≤ e − 1 + lead`, its lead is `o − s` from the
/// first such run.
fn score(y: &[f64], cf: &[f64], w: &[bool], limit: f64, lead: usize) -> SlaOutcome {
    let mut s = SlaOutcome::default();
    let events = runs(&y.iter().map(|v| *v > limit).collect::<Vec<_>>());
    let alerts = runs(w);
    let covers = |a: &(usize, usize), o: usize| a.0 <= o && o < a.1 + lead;
    s.breaches = events.len();
    s.alerts = alerts.len();
    s.true_alerts = alerts
        .iter()
        .filter(|a| events.iter().any(|e| covers(a, e.0)))
        .count();
    for e in &events {
        let from_incident = !cf
            .get(e.0..e.1)
            .is_some_and(|c| c.iter().any(|v| *v > limit));
        s.breaches_from_incidents += usize::from(from_incident);
        let differs = |t: usize| cf.get(t).is_some_and(|c| c.to_bits() != y[t].to_bits());
        s.sudden_breaches += usize::from(differs(e.0) && !e.0.checked_sub(1).is_some_and(differs));
        if let Some(a) = alerts.iter().find(|a| covers(a, e.0)) {
            s.warned += 1;
            s.warned_from_incidents += usize::from(from_incident);
            s.lead_steps += e.0 - a.0;
        }
    }
    s
}

/// Runs the SLA-breach prediction in this thread over every entity (each interval: the
/// sandbox's observations → every entity's predictor) and scores it. The engine runs the same
/// predictors on timely dataflow.
pub fn evaluate_sla(config: &SlaConfig) -> Result<Vec<SlaScores>, EnergyError> {
    let lp = SlaLoop::new(config)?;
    let mut predictors = (0..lp.entities().len())
        .map(|e| lp.predictor(e))
        .collect::<Result<Vec<_>, _>>()?;
    for step in 0..lp.steps() {
        let mut batch: Vec<(&mut SlaPredictor, f64)> = predictors
            .iter_mut()
            .enumerate()
            .map(|(e, p)| (p, lp.observe(e, step)))
            .collect();
        lp.step(step, &mut batch)?;
    }
    lp.report(predictors.into_iter().map(|p| lp.finish(p)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_found() {
        assert_eq!(
            runs(&[false, true, true, false, true]),
            vec![(1, 3), (4, 5)]
        );
        assert!(runs(&[]).is_empty());
    }

    /// One predictor over the series `y` of a scenario of `y.len()` steps, `per_day` a day,
    /// `history_days` of history, its forecaster refitted as `fit(next, h)` says; returns its
    /// warnings over the evaluated steps.
    fn drive(
        y: &[f64],
        per_day: usize,
        (policy, limit, correction): (&SlaPolicy, f64, usize),
        fit: impl Fn(usize, usize) -> Option<Forecast>,
    ) -> Vec<bool> {
        let params = Params::new(policy, y.len(), per_day, limit, correction);
        let mut p = SlaPredictor::new(0, params);
        let name = Entity::new("cell-x");
        for (t, v) in y.iter().enumerate() {
            p.observe(&name, t, *v).expect("in order");
            if let Some(h) = params.refit_at(t + 1) {
                p.refit(t + 1, h, fit(t + 1, h));
            }
            p.decide(t + 1);
        }
        assert!(matches!(
            p.observe(&name, 0, 1.0),
            Err(EnergyError::OutOfOrder { .. })
        ));
        p.warned
    }

    /// A forecast of `h` steps from evaluated step `i0`: `mean(i)` with a constant spread.
    fn flat(i0: usize, h: usize, mean: impl Fn(usize) -> f64, sd: f64) -> Option<Forecast> {
        let z = z_for_level(INTERVAL_LEVEL);
        let mean: Vec<f64> = (i0..i0 + h).map(mean).collect();
        Some(Forecast {
            lower: mean.iter().map(|m| m - z * sd).collect(),
            upper: mean.iter().map(|m| m + z * sd).collect(),
            mean,
            level: INTERVAL_LEVEL,
        })
    }

    #[test]
    fn perfect_forecast_of_a_daily_breach() {
        // A deterministic daily peak breaches every day; seasonal naive predicts it exactly,
        // so the warning comes exactly `lead_steps` before each onset.
        let per_day = 24;
        let y: Vec<f64> = (0..per_day * 6)
            .map(|t| {
                if (18..20).contains(&(t % per_day)) {
                    30.0
                } else {
                    10.0
                }
            })
            .collect();
        let policy = SlaPolicy {
            history_days: 3,
            lead_steps: 2,
            ..SlaPolicy::default()
        };
        let first = 3 * per_day;
        let naive = ForecasterConfig::with_method(Method::SeasonalNaive);
        let w = drive(&y, per_day, (&policy, 20.0, 0), |next, h| {
            forecast_many(
                &naive,
                &[y[next - first..next].to_vec()],
                per_day,
                h,
                INTERVAL_LEVEL,
            )
            .pop()
            .and_then(Result::ok)
        });
        let tail = &y[first..];
        let s = score(tail, tail, &w, 20.0, 2);
        assert_eq!(
            (s.breaches, s.alerts, s.true_alerts, s.warned, s.lead_steps),
            (3, 3, 3, 3, 6)
        );
        assert_eq!((s.breaches_from_incidents, s.sudden_breaches), (0, 0));
    }

    #[test]
    fn wide_day_ahead_interval_alone_raises_no_warning() {
        // The 80 % upper bound of the day-ahead forecast (20 + 1.28·5 = 26.4) is above the
        // 25 ms limit all day, which alerted before; the series never comes near the limit
        // and the probability of breach stays low, so nothing is raised.
        let per_day = 96;
        let y: Vec<f64> = (0..2 * per_day)
            .map(|t| 20.0 + 0.2 * (t as f64).sin())
            .collect();
        let upper = 20.0 + z_for_level(INTERVAL_LEVEL) * 5.0;
        assert!(upper > 25.0);
        let policy = SlaPolicy {
            history_days: 1,
            ..SlaPolicy::default()
        };
        let w = drive(&y, per_day, (&policy, 25.0, 0), |i0, h| {
            flat(i0 - per_day, h, |_| 20.0, 5.0)
        });
        assert_eq!(w.len(), per_day);
        assert!(w.iter().all(|w| !w));
    }

    #[test]
    fn correction_warns_of_a_surge_the_day_ahead_missed() {
        // A link at 0.3 surges by 0.25 at step 20; from step 40 the daily rise adds 0.1 and
        // the link breaches 0.6. The day-ahead forecast knows the rise, not the surge: only
        // the intraday correction warns before the onset.
        let per_day: usize = 96;
        let (surge, rise) = (20, 40);
        let y: Vec<f64> = (0..2 * per_day)
            .map(|t| {
                let t: usize = t.saturating_sub(per_day);
                0.3 + if t >= surge { 0.25 } else { 0.0 } + if t >= rise { 0.1 } else { 0.0 }
            })
            .collect();
        let policy = SlaPolicy {
            history_days: 1,
            ..SlaPolicy::default()
        };
        let warned_before_onset = |k: usize| {
            let w = drive(&y, per_day, (&policy, 0.6, k), |i0, h| {
                flat(i0 - per_day, h, |t| if t >= rise { 0.4 } else { 0.3 }, 0.01)
            });
            w[rise - policy.lead_steps..=rise].iter().any(|w| *w)
        };
        assert!(!warned_before_onset(0));
        assert!(warned_before_onset(2));
    }

    #[test]
    fn no_warning_while_in_breach() {
        let per_day = 8;
        let y = vec![30.0; 2 * per_day];
        let policy = SlaPolicy {
            history_days: 1,
            ..SlaPolicy::default()
        };
        let w = drive(&y, per_day, (&policy, 25.0, 0), |i0, h| {
            flat(i0, h, |_| 30.0, 1.0)
        });
        assert!(w.iter().all(|w| !w));
    }

    #[test]
    fn a_failed_fit_raises_no_warning() {
        let per_day = 8;
        let y = vec![30.0; 3 * per_day];
        let policy = SlaPolicy {
            history_days: 1,
            ..SlaPolicy::default()
        };
        let w = drive(&y, per_day, (&policy, 25.0, 2), |_, _| None);
        assert_eq!(w.len(), 2 * per_day);
        assert!(w.iter().all(|w| !w));
    }

    #[test]
    fn scoring_matches_warnings_to_later_onsets_only() {
        // Steps:      0    1    2    3    4    5    6    7    8    9   10   11
        let y = [1.0, 1.0, 1.0, 1.0, 1.0, 9.0, 9.0, 1.0, 1.0, 1.0, 9.0, 1.0];
        // The breach at 5 is the network's own; the one at 10 exists only with an incident
        // that begins there.
        let cf = [1.0, 1.0, 1.0, 1.0, 1.0, 9.0, 9.0, 1.0, 1.0, 1.0, 2.0, 1.0];
        let mut w = vec![false; y.len()];
        w[2] = true; // warns of the breach at 5 (within 2 + lead 4), 3 intervals ahead
        w[7] = true; // the breach at 10 begins within its lead: true, 3 intervals ahead
        w[11] = true; // after the last onset: a false alert
        let s = score(&y, &cf, &w, 5.0, 4);
        assert_eq!(
            (s.breaches, s.alerts, s.true_alerts, s.warned),
            (2, 3, 2, 2)
        );
        assert_eq!((s.breaches_from_incidents, s.sudden_breaches), (1, 1));
        assert_eq!((s.warned_from_incidents, s.lead_steps), (1, 6));
        // A warning raised after an onset does not count as warning of it.
        let mut late = vec![false; y.len()];
        late[6] = true;
        let s = score(&y, &cf, &late, 5.0, 1);
        assert_eq!((s.warned, s.true_alerts), (0, 0));
    }

    #[test]
    fn evaluates_a_small_sandbox_and_attributes_breaches() {
        let mut config = SlaConfig {
            sandbox: ScenarioConfig {
                cells: 12,
                days: 4,
                incident_rate: 0.0,
                ..ScenarioConfig::default()
            },
            forecaster: ForecasterConfig::with_method(Method::SeasonalNaive),
            policy: SlaPolicy {
                history_days: 2,
                latency_limit_ms: 10.0,
                ..SlaPolicy::default()
            },
        };
        let quiet = evaluate_sla(&config).expect("valid config");
        assert_eq!(quiet.len(), 2);
        assert_eq!(quiet[0].entities, 12);
        assert!(quiet[0].breaches > 0);
        assert!(quiet
            .iter()
            .all(|s| s.breaches_from_incidents == 0 && s.sudden_breaches == 0));
        let lp = SlaLoop::new(&config).expect("valid config");
        assert_eq!(quiet[1].entities, lp.entities().len() - 12);
        // Scores summed from outcomes in any order; an outcome missing is refused.
        let mut outcomes: Vec<SlaOutcome> = (0..lp.entities().len())
            .map(|e| SlaOutcome {
                entity: e,
                ..SlaOutcome::default()
            })
            .rev()
            .collect();
        assert!(lp.report(outcomes.clone()).is_ok());
        outcomes.pop();
        assert!(lp.report(outcomes).is_err());
        assert!(lp.predictor(lp.entities().len()).is_err());
        config.policy.alert_probability = 1.0;
        assert!(matches!(
            evaluate_sla(&config),
            Err(EnergyError::InvalidConfig(_))
        ));
    }
}
