//! The simulated radio access network: offered demand, KPIs derived from it, and the
//! incidents injected into it (Y.3181 simulated underlay with simulated fault injection;
//! Y.3172 §8 simulated ML underlay).

use ai4ict_core::{Batch, Entity, Incident, IncidentKind, Interval, Timestamp};
use serde::Serialize;

use crate::config::ScenarioConfig;
use crate::rng::{Key, Stream};
use crate::topology::{self, round, Cell, CellModel, Link, Profile, Site};
use crate::SandboxError;

/// The KPIs every cell reports, in this order (the `fields` indices of [`Network::batch`]):
///
/// | index | name | unit |
/// |---|---|---|
/// | 0 | `prb_util` | downlink PRB utilisation, fraction 0..1 |
/// | 1 | `active_users` | mean number of active users in the interval |
/// | 2 | `dl_throughput` | cell downlink throughput (carried traffic), Mbit/s |
/// | 3 | `ul_throughput` | cell uplink throughput (carried traffic), Mbit/s |
/// | 4 | `rrc_success` | RRC connection setup success ratio, fraction 0..1 |
/// | 5 | `drop_rate` | share of connections dropped abnormally, fraction 0..1 |
/// | 6 | `latency` | mean user-plane latency, ms |
/// | 7 | `power` | radio unit power draw, W |
///
/// A KPI with no meaning in an interval (latency while nobody is served) is `NaN`.
pub const KPIS: [&str; 8] = [
    "prb_util",
    "active_users",
    "dl_throughput",
    "ul_throughput",
    "rrc_success",
    "drop_rate",
    "latency",
    "power",
];

/// The unit of each of [`KPIS`], as an axis title shows it.
const KPI_UNITS: [&str; 8] = [
    "fraction 0..1",
    "users",
    "Mbit/s",
    "Mbit/s",
    "fraction 0..1",
    "fraction 0..1",
    "ms",
    "W",
];

/// The unit of the sandbox KPI `name` (see [`KPIS`]), `None` for another name.
pub fn kpi_unit(name: &str) -> Option<&'static str> {
    KPIS.iter().position(|k| *k == name).map(|i| KPI_UNITS[i])
}

const PRB: usize = 0;
const USERS: usize = 1;
const DL: usize = 2;
const UL: usize = 3;
const RRC: usize = 4;
const DROP: usize = 5;
const LATENCY: usize = 6;
const POWER: usize = 7;

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: f64 = 3_600_000.0;

/// The traffic a cell is asked to carry in one interval, before capacity limits and faults.
///
/// Kept apart from the KPIs so that a use case can move demand between overlapping cells
/// (energy saving switches a capacity cell off and its neighbours take its users) and then
/// derive the KPIs with [`Network::kpis`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Demand {
    /// Active users wanting service.
    pub users: f64,
    /// Offered downlink traffic, Mbit/s.
    pub dl_mbps: f64,
    /// Offered uplink traffic, Mbit/s.
    pub ul_mbps: f64,
}

/// A planned local event (a concert, a match, a fair): demand rises modestly in a few cells
/// for a few hours. Normal network life, not an incident, so it is not in the ground truth.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PlannedEvent {
    /// First affected interval.
    pub start: Timestamp,
    /// Last affected interval.
    pub end: Timestamp,
    /// Demand multiplier in the affected cells.
    pub factor: f64,
    /// Indices of the affected cells.
    pub cells: Vec<usize>,
}

/// An injected fault with its precomputed severity draws.
#[derive(Clone, Debug)]
struct Fault {
    kind: IncidentKind,
    start: usize,
    end: usize,
    p: [f64; 3],
}

/// The simulated underlay of the Y.3181 ML sandbox: a seeded radio access network whose cells
/// report [`KPIS`] every interval, with seasonal demand, noise, slow trends, holidays, planned
/// events, missing readings and injected incidents whose ground truth is [`Network::incidents`].
///
/// Every reading is a pure function of (seed, cell, interval): [`Network::observe`] can be called
/// for any cell and interval, in any order, from any thread or process, and gives the same value.
pub struct Network {
    config: ScenarioConfig,
    cells: Vec<Cell>,
    models: Vec<CellModel>,
    sites: Vec<Site>,
    links: Vec<Link>,
    faults: Vec<Vec<Fault>>,
    /// Telemetry faults per cell (what the cell reports, not what it carries), sorted by
    /// start, never overlapping each other or the cell's faults.
    telemetry: Vec<Vec<Fault>>,
    incidents: Vec<Incident>,
    events: Vec<PlannedEvent>,
    event_steps: Vec<(usize, usize)>,
    cell_events: Vec<Vec<usize>>,
    steps: usize,
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network")
            .field("config", &self.config)
            .field("cells", &self.cells.len())
            .field("sites", &self.sites.len())
            .field("incidents", &self.incidents.len())
            .finish()
    }
}

impl Network {
    /// Builds the network of `config`: topology, per-cell traffic parameters, planned events
    /// and the injected incidents (all drawn from the seed). Fails when the config is invalid.
    pub fn new(config: &ScenarioConfig) -> Result<Self, SandboxError> {
        config.validate()?;
        let topo = topology::build(config);
        let mut net = Self {
            config: config.clone(),
            steps: config.steps(),
            cells: topo.cells,
            models: topo.models,
            sites: topo.sites,
            links: topo.links,
            faults: Vec::new(),
            telemetry: Vec::new(),
            incidents: Vec::new(),
            events: Vec::new(),
            event_steps: Vec::new(),
            cell_events: Vec::new(),
        };
        net.plan_events();
        net.inject_incidents();
        net.inject_telemetry_faults();
        net.collect_incidents();
        Ok(net)
    }

    /// The scenario this network was built from.
    pub fn config(&self) -> &ScenarioConfig {
        &self.config
    }

    /// All cells; a cell's index is its position here.
    pub fn cells(&self) -> &[Cell] {
        &self.cells
    }

    /// All sites.
    pub fn sites(&self) -> &[Site] {
        &self.sites
    }

    /// All backhaul links, one per site.
    pub fn links(&self) -> &[Link] {
        &self.links
    }

    /// Planned events (normal demand peaks, not incidents), by start time.
    pub fn events(&self) -> &[PlannedEvent] {
        &self.events
    }

    /// Time of the first interval.
    pub fn start(&self) -> Timestamp {
        self.config.start
    }

    /// Reporting interval.
    pub fn interval(&self) -> Interval {
        self.config.interval
    }

    /// Number of intervals in the scenario (`days` × intervals per day).
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Time of interval `step`.
    pub fn time(&self, step: usize) -> Timestamp {
        Timestamp(self.config.start.0 + step as i64 * self.config.interval.millis())
    }

    /// Ground truth: every injected incident, sorted by start, then by cell.
    pub fn incidents(&self) -> &[Incident] {
        &self.incidents
    }

    /// Index of the cell with this name, if there is one.
    pub fn cell_index(&self, name: &str) -> Option<usize> {
        let digits = name.strip_prefix("cell-")?;
        let i: usize = digits.parse().ok()?;
        (self.cells.get(i)?.name.name() == name).then_some(i)
    }

    /// Whether the reading of `cell` at `step` is missing (the collector got nothing).
    pub fn is_missing(&self, cell: usize, step: usize) -> bool {
        if Self::active(&self.telemetry, cell, step).map(|f| f.kind)
            == Some(IncidentKind::MissingData)
        {
            return true;
        }
        let rate = self.config.gap_rate;
        if rate <= 0.0 {
            return false;
        }
        let key = Key::new(self.config.seed, Stream::Gap).at(cell as u64);
        // Three quarters of the gaps are single readings, a quarter come in runs of four.
        key.at(0).uniform(step as u64) < 0.75 * rate
            || key.at(1).uniform((step / 4) as u64) < 0.25 * rate
    }

    /// Writes the [`KPIS`] of `cell` at interval `step` into `out` (its first 8 entries, or as
    /// many as it has), as the cell reports them: [`Network::kpis`] of its demand, changed by
    /// any telemetry fault of the cell at that step. Returns false, and writes `NaN`s, when the
    /// reading is missing or the cell does not exist. Pure: the same arguments always give the
    /// same values.
    pub fn observe(&self, cell: usize, step: usize, out: &mut [f64]) -> bool {
        let mut v = [f64::NAN; 8];
        let present = cell < self.cells.len() && !self.is_missing(cell, step);
        if present {
            let telemetry = Self::active(&self.telemetry, cell, step);
            // A flatlined source repeats the reading before it, exactly.
            let read_at = match telemetry {
                Some(f) if f.kind == IncidentKind::Flatline => f.start.saturating_sub(1),
                _ => step,
            };
            let demand = self.demand(cell, read_at);
            self.kpis(cell, read_at, &demand, &mut v);
            if let Some(f) = telemetry.filter(|f| f.kind != IncidentKind::Flatline) {
                let k = Key::new(self.config.seed, Stream::Telemetry)
                    .at(cell as u64)
                    .at(step as u64);
                misreport(f, &self.cells[cell], step, &mut v, k);
            }
        }
        for (o, x) in out.iter_mut().zip(v) {
            *o = x;
        }
        present
    }

    /// One interval's readings for `cells` as a batch with the chosen KPI columns (`fields`
    /// are indices into [`KPIS`]; an index past the end gives `NaN`). Missing readings and
    /// unknown cells are left out.
    pub fn batch(
        &self,
        step: usize,
        cells: impl IntoIterator<Item = usize>,
        fields: &[usize],
    ) -> Batch {
        let cells = cells.into_iter();
        let mut batch = Batch::with_capacity(fields.len(), cells.size_hint().0);
        let time = self.time(step);
        let mut all = [0.0; 8];
        let mut row = vec![0.0; fields.len()];
        for cell in cells {
            if !self.observe(cell, step, &mut all) {
                continue;
            }
            for (r, &f) in row.iter_mut().zip(fields) {
                *r = all.get(f).copied().unwrap_or(f64::NAN);
            }
            batch.push(self.cells[cell].name.clone(), time, &row);
        }
        batch
    }

    /// The entity name of cell `cell`, if it exists.
    pub fn entity(&self, cell: usize) -> Option<&Entity> {
        self.cells.get(cell).map(|c| &c.name)
    }

    /// The traffic offered to `cell` at `step`: its profile's daily and weekly shape, holidays,
    /// planned events, day-to-day variation, slow growth, noise and traffic surges. Zero for an
    /// unknown cell.
    pub fn demand(&self, cell: usize, step: usize) -> Demand {
        let (Some(c), Some(m)) = (self.cells.get(cell), self.models.get(cell)) else {
            return Demand::default();
        };
        let t = self.time(step);
        let seed = self.config.seed;
        let shape = self.seasonal(c.profile, t, m.phase_h);
        let day = t.0.div_euclid(DAY_MS);
        let day_factor = (0.05
            * Key::new(seed, Stream::Day)
                .at(cell as u64)
                .normal(day as u64))
        .exp();
        let years = (t.0 - self.config.start.0) as f64 / (365.0 * DAY_MS as f64);
        let trend = 1.0 + m.growth * years;
        let event: f64 = self.cell_events[cell]
            .iter()
            .take_while(|&&e| self.event_steps[e].0 <= step)
            .filter(|&&e| step <= self.event_steps[e].1)
            .map(|&e| self.events[e].factor)
            .product();
        let level = shape * day_factor * trend * event;
        let dk = Key::new(seed, Stream::Demand)
            .at(cell as u64)
            .at(step as u64);
        let uk = Key::new(seed, Stream::Users)
            .at(cell as u64)
            .at(step as u64);
        let dl = c.capacity_dl_mbps * m.busy_load * level * (0.07 * dk.normal(0)).exp();
        let ul = dl * m.ul_ratio * (0.08 * dk.normal(1)).exp();
        let mean_users = c.busy_hour_users * level;
        let users = (mean_users * (0.04 * uk.normal(0)).exp()
            + 0.3 * mean_users.sqrt() * uk.normal(1))
        .max(0.0);
        let mut d = Demand {
            users,
            dl_mbps: dl,
            ul_mbps: ul,
        };
        if let Some(f) = self.fault(cell, step) {
            if f.kind == IncidentKind::TrafficSurge {
                d.dl_mbps = d.dl_mbps.max(c.capacity_dl_mbps * f.p[0]);
                d.ul_mbps = d.ul_mbps.max(c.capacity_ul_mbps * 0.6 * f.p[0]);
                d.users = d.users.max(c.busy_hour_users * f.p[1]);
            }
        }
        d
    }

    /// Derives the [`KPIS`] of `cell` at `step` from the offered `demand` (PRB utilisation and
    /// carried throughput from load and capacity, latency rising with utilisation, setup
    /// failures and drops under congestion, load-dependent power), then applies any fault of
    /// that cell at that step. Writes the first `out.len()` KPIs (at most 8). Does not decide
    /// missing readings (see [`Network::is_missing`]).
    pub fn kpis(&self, cell: usize, step: usize, demand: &Demand, out: &mut [f64]) {
        let mut v = [f64::NAN; 8];
        if let (Some(c), Some(m)) = (self.cells.get(cell), self.models.get(cell)) {
            let k = Key::new(self.config.seed, Stream::Kpi)
                .at(cell as u64)
                .at(step as u64);
            let load = soft_cap(demand.dl_mbps / c.capacity_dl_mbps);
            let ul_load = soft_cap(demand.ul_mbps / c.capacity_ul_mbps);
            let congestion = ((load - 0.9) / 0.1).max(0.0);
            v[PRB] = (0.02 + 0.96 * load + 0.004 * k.normal(0)).clamp(0.0, 1.0);
            v[USERS] = demand.users;
            v[DL] = c.capacity_dl_mbps * load;
            v[UL] = c.capacity_ul_mbps * ul_load;
            v[RRC] = (m.rrc_base - 0.002 * k.normal(1).abs() - 0.02 * congestion).clamp(0.0, 1.0);
            v[DROP] =
                (m.drop_base * (0.15 * k.normal(2)).exp() + 0.01 * congestion).clamp(0.0, 1.0);
            let queueing = 0.3 * load / (1.02 - load);
            v[LATENCY] = m.base_latency * (1.0 + queueing) * (0.05 * k.normal(3)).exp();
            v[POWER] = (m.power_idle + m.power_load * load) * (1.0 + 0.01 * k.normal(4));
            if let Some(f) = self.fault(cell, step) {
                apply_fault(f, m, &mut v, k);
            }
            round_kpis(&mut v);
        }
        for (o, x) in out.iter_mut().zip(v) {
            *o = x;
        }
    }

    /// The daily/weekly shape (about 1 at the profile's busy hour) at time `t`.
    fn seasonal(&self, profile: Profile, t: Timestamp, phase_h: f64) -> f64 {
        let hour = (t.millis_of_day() as f64 / HOUR_MS + phase_h).rem_euclid(24.0);
        let at = |table: &[f64; 24]| {
            let h0 = hour.floor() as usize % 24;
            let frac = hour - hour.floor();
            table[h0] * (1.0 - frac) + table[(h0 + 1) % 24] * frac
        };
        let weekend = t.weekday() >= 5;
        let holiday = !weekend && self.is_holiday(t.0.div_euclid(DAY_MS));
        // A holiday is half way between a weekday and a weekend day: offices half empty,
        // people at home in the daytime, fewer commuters.
        let day = |weekday: &[f64; 24], weekend_table: &[f64; 24]| match (weekend, holiday) {
            (true, _) => at(weekend_table),
            (false, true) => 0.5 * (at(weekday) + at(weekend_table)),
            (false, false) => at(weekday),
        };
        match profile {
            Profile::Business => day(&BUSINESS_WEEKDAY, &BUSINESS_WEEKEND),
            Profile::Residential => day(&RESIDENTIAL_WEEKDAY, &RESIDENTIAL_WEEKEND),
            Profile::TransportHub => day(&HUB_WEEKDAY, &HUB_WEEKEND),
            Profile::Mixed => {
                0.5 * (day(&BUSINESS_WEEKDAY, &BUSINESS_WEEKEND)
                    + day(&RESIDENTIAL_WEEKDAY, &RESIDENTIAL_WEEKEND))
            }
        }
    }

    /// Public holidays: 1 May, 25 and 26 December, and two more days a year between March and
    /// November drawn from the seed (national days differ by country). New Year's Day is left
    /// out on purpose: the default scenario starts on it, and its quiet days are the models'
    /// training history, which should show ordinary weeks.
    fn is_holiday(&self, epoch_day: i64) -> bool {
        let (year, month, day) = civil_from_days(epoch_day);
        if matches!((month, day), (5, 1) | (12, 25) | (12, 26)) {
            return true;
        }
        let k = Key::new(self.config.seed, Stream::Holiday).at(year as u64);
        let jan1 = days_from_civil(year, 1, 1);
        (0..2).any(|i| jan1 + 60 + k.below(i, 270) as i64 == epoch_day)
    }

    /// The fault of `cell` active at `step`, if any.
    fn fault(&self, cell: usize, step: usize) -> Option<&Fault> {
        Self::active(&self.faults, cell, step)
    }

    /// The fault of `cell` in `faults` (per cell, sorted by start, never overlapping) active
    /// at `step`, if any.
    fn active(faults: &[Vec<Fault>], cell: usize, step: usize) -> Option<&Fault> {
        let faults = faults.get(cell)?;
        let after = faults.partition_point(|f| f.start <= step);
        faults[..after].last().filter(|f| step <= f.end)
    }

    fn steps_for_hours(&self, hours: f64) -> usize {
        ((hours * HOUR_MS / self.config.interval.millis() as f64).round() as usize).max(1)
    }

    fn plan_events(&mut self) {
        let key = Key::new(self.config.seed, Stream::Event);
        let n_cells = self.cells.len();
        // About one event per 100 cells per fortnight.
        let expected = n_cells as f64 * f64::from(self.config.days) / 1400.0;
        let count = key.poisson(0, expected) as usize;
        let mut events = Vec::with_capacity(count);
        const GRID_KM: f64 = 2.0;
        let bucket = |x: f64, y: f64| ((x / GRID_KM).floor() as i64, (y / GRID_KM).floor() as i64);
        let mut grid: std::collections::HashMap<(i64, i64), Vec<usize>> = Default::default();
        for s in &self.sites {
            grid.entry(bucket(s.x_km, s.y_km))
                .or_default()
                .push(s.index);
        }
        for e in 0..count {
            let k = key.at(e as u64 + 1);
            let centre = &self.sites[k.below(0, self.sites.len() as u64) as usize];
            let radius = match centre.area {
                topology::Area::Urban => 0.4,
                topology::Area::Suburban => 1.0,
                topology::Area::Rural => 3.0,
            };
            let reach = (radius / GRID_KM).ceil() as i64;
            let (bx, by) = bucket(centre.x_km, centre.y_km);
            let mut cells: Vec<usize> = (bx - reach..=bx + reach)
                .flat_map(|gx| (by - reach..=by + reach).map(move |gy| (gx, gy)))
                .filter_map(|b| grid.get(&b))
                .flatten()
                .map(|&s| &self.sites[s])
                .filter(|s| (s.x_km - centre.x_km).hypot(s.y_km - centre.y_km) <= radius)
                .flat_map(|s| s.cells.iter().copied())
                .collect();
            cells.sort_unstable();
            let day = k.below(1, u64::from(self.config.days)) as usize;
            let start_h = k.range(2, 10.0, 20.0);
            let start = day * (DAY_MS as usize / self.config.interval.millis() as usize)
                + self.steps_for_hours(start_h);
            let end = start + self.steps_for_hours(k.range(3, 2.0, 4.0)) - 1;
            let factor = round(k.range(4, 1.1, 1.3), 3);
            events.push((
                start,
                end,
                PlannedEvent {
                    start: self.time(start),
                    end: self.time(end),
                    factor,
                    cells,
                },
            ));
        }
        events.sort_by_key(|e| e.0);
        self.cell_events = vec![Vec::new(); n_cells];
        for (i, (start, end, ev)) in events.into_iter().enumerate() {
            for &c in &ev.cells {
                self.cell_events[c].push(i);
            }
            self.event_steps.push((start, end));
            self.events.push(ev);
        }
    }

    fn inject_incidents(&mut self) {
        const KINDS: [IncidentKind; 6] = [
            IncidentKind::Outage,
            IncidentKind::SleepingCell,
            IncidentKind::ThroughputDegradation,
            IncidentKind::Interference,
            IncidentKind::TrafficSurge,
            IncidentKind::CounterReset,
        ];
        const WEIGHTS: [f64; 6] = [0.15, 0.12, 0.20, 0.18, 0.15, 0.20];
        let per_day = (DAY_MS / self.config.interval.millis()) as usize;
        let first = (self.config.quiet_days as usize * per_day).min(self.steps);
        let span = self.steps - first;
        let margin = self.steps_for_hours(8.0);
        let weeks = span as f64 / (7 * per_day) as f64;
        let key = Key::new(self.config.seed, Stream::Incident);
        let mut faults = Vec::with_capacity(self.cells.len());
        for cell in 0..self.cells.len() {
            let ck = key.at(cell as u64);
            let wanted = ck.poisson(0, self.config.incident_rate * weeks) as usize;
            let mut mine: Vec<Fault> = Vec::with_capacity(wanted);
            let mut attempt = 0u64;
            while mine.len() < wanted && attempt < 4 * wanted as u64 + 8 {
                attempt += 1;
                let k = ck.at(attempt);
                let kind = KINDS[k.pick(0, &WEIGHTS)];
                let hours = match kind {
                    IncidentKind::Outage => k.range(1, 1.0, 6.0),
                    IncidentKind::TrafficSurge => k.range(1, 2.0, 12.0),
                    _ => k.range(1, 1.0, 8.0),
                };
                let len = if kind == IncidentKind::CounterReset {
                    1
                } else {
                    self.steps_for_hours(hours).max(2)
                };
                if len > span {
                    continue;
                }
                let start = first + k.below(2, (span - len + 1) as u64) as usize;
                if kind == IncidentKind::TrafficSurge {
                    // Crowds gather in the daytime.
                    let hour = self.time(start).millis_of_day() as f64 / HOUR_MS;
                    if !(7.0..20.0).contains(&hour) {
                        continue;
                    }
                }
                let end = start + len - 1;
                if mine
                    .iter()
                    .any(|f| start <= f.end + margin && f.start <= end + margin)
                {
                    continue;
                }
                let p = match kind {
                    IncidentKind::Outage => [k.range(3, 0.05, 0.15), 0.0, 0.0],
                    IncidentKind::SleepingCell => {
                        [k.range(3, 0.005, 0.015), k.range(4, 0.0, 0.2), 0.0]
                    }
                    IncidentKind::ThroughputDegradation => [
                        k.range(3, 0.3, 0.6),
                        k.range(4, 1.5, 2.5),
                        k.range(5, 1.0, 1.15),
                    ],
                    IncidentKind::Interference => [
                        k.range(3, 0.07, 0.2),
                        k.range(4, 4.0, 10.0),
                        k.range(5, 0.4, 0.7),
                    ],
                    IncidentKind::TrafficSurge => [k.range(3, 1.3, 2.0), k.range(4, 1.8, 3.0), 0.0],
                    _ => [0.0; 3],
                };
                mine.push(Fault {
                    kind,
                    start,
                    end,
                    p,
                });
            }
            mine.sort_by_key(|f| f.start);
            faults.push(mine);
        }
        self.faults = faults;
    }

    /// Draws the telemetry faults (see [`ScenarioConfig::telemetry_fault_rate`]) from their own
    /// random stream, each at least 8 hours from the cell's other faults, so that the rest of
    /// the scenario is the same whatever the rate (Y.3181 REQ-ML-SANDBOX-005, data quality).
    fn inject_telemetry_faults(&mut self) {
        const KINDS: [IncidentKind; 6] = [
            IncidentKind::Flatline,
            IncidentKind::DropToZero,
            IncidentKind::LevelShift,
            IncidentKind::VarianceBurst,
            IncidentKind::SlowDrift,
            IncidentKind::MissingData,
        ];
        let per_day = (DAY_MS / self.config.interval.millis()) as usize;
        let first = (self.config.quiet_days as usize * per_day).min(self.steps);
        let span = self.steps - first;
        let margin = self.steps_for_hours(8.0);
        let weeks = span as f64 / (7 * per_day) as f64;
        let key = Key::new(self.config.seed, Stream::Telemetry);
        let mut telemetry = Vec::with_capacity(self.cells.len());
        for cell in 0..self.cells.len() {
            let ck = key.at(cell as u64);
            let wanted = ck.poisson(0, self.config.telemetry_fault_rate * weeks) as usize;
            let mut mine: Vec<Fault> = Vec::with_capacity(wanted);
            let mut attempt = 0u64;
            while mine.len() < wanted && attempt < 4 * wanted as u64 + 8 {
                attempt += 1;
                let k = ck.at(attempt);
                let kind = KINDS[k.below(0, KINDS.len() as u64) as usize];
                let hours = match kind {
                    IncidentKind::LevelShift => k.range(1, 12.0, 48.0),
                    IncidentKind::SlowDrift => k.range(1, 24.0, 72.0),
                    IncidentKind::VarianceBurst => k.range(1, 2.0, 8.0),
                    IncidentKind::MissingData => k.range(1, 2.0, 12.0),
                    _ => k.range(1, 1.0, 8.0),
                };
                let len = self.steps_for_hours(hours).max(4);
                if len > span {
                    continue;
                }
                let start = first + k.below(2, (span - len + 1) as u64) as usize;
                let end = start + len - 1;
                if self.faults[cell]
                    .iter()
                    .chain(&mine)
                    .any(|f| start <= f.end + margin && f.start <= end + margin)
                {
                    continue;
                }
                let p = match kind {
                    // Which KPIs, and by how much.
                    IncidentKind::LevelShift => {
                        let group = k.below(3, 3);
                        let factor = match group {
                            0 => k.range(4, 1.8, 3.0),
                            1 => k.range(4, 4.0, 8.0),
                            _ => k.range(4, 1.2, 1.4),
                        };
                        [group as f64, factor, 0.0]
                    }
                    IncidentKind::VarianceBurst => [k.range(3, 0.3, 0.5), 0.0, 0.0],
                    IncidentKind::SlowDrift => {
                        let group = k.below(3, 2);
                        let reach = if group == 0 {
                            k.range(4, 1.0, 2.0)
                        } else {
                            k.range(4, 0.5, 0.7)
                        };
                        [group as f64, reach, 0.0]
                    }
                    _ => [0.0; 3],
                };
                mine.push(Fault {
                    kind,
                    start,
                    end,
                    p,
                });
            }
            mine.sort_by_key(|f| f.start);
            telemetry.push(mine);
        }
        self.telemetry = telemetry;
    }

    /// The ground truth: every fault and telemetry fault as an incident.
    fn collect_incidents(&mut self) {
        let mut incidents: Vec<(usize, usize, Incident)> = self
            .faults
            .iter()
            .zip(&self.telemetry)
            .enumerate()
            .flat_map(|(cell, (fs, ts))| fs.iter().chain(ts).map(move |f| (f.start, cell, f)))
            .map(|(start, cell, f)| {
                let incident = Incident {
                    entity: self.cells[cell].name.clone(),
                    kind: f.kind,
                    start: self.time(f.start),
                    end: self.time(f.end),
                };
                (start, cell, incident)
            })
            .collect();
        // One incident per cell at a time: (start, cell) is a total order.
        incidents.sort_by_key(|a| (a.0, a.1));
        self.incidents = incidents.into_iter().map(|(_, _, i)| i).collect();
    }
}

/// Utilisation reached by an offered load `x` (in units of capacity): about `x` when light,
/// bending smoothly towards 1 when offered more than the cell can carry.
fn soft_cap(x: f64) -> f64 {
    let x = x.max(0.0);
    x / (1.0 + x.powi(6)).powf(1.0 / 6.0)
}

fn apply_fault(f: &Fault, m: &CellModel, v: &mut [f64; 8], k: Key) {
    match f.kind {
        IncidentKind::Outage => {
            *v = [
                0.0,
                0.0,
                0.0,
                0.0,
                f64::NAN,
                f64::NAN,
                f64::NAN,
                m.power_idle * f.p[0],
            ];
        }
        IncidentKind::SleepingCell => {
            v[PRB] = f.p[0] + 0.002 * k.uniform(10);
            v[USERS] = 0.0;
            v[DL] = 0.0;
            v[UL] = 0.0;
            v[RRC] = f.p[1];
            v[DROP] = 0.0;
            v[LATENCY] = f64::NAN;
            v[POWER] = m.power_idle * (1.0 + 0.01 * k.normal(11));
        }
        IncidentKind::ThroughputDegradation => {
            v[DL] *= f.p[0];
            v[UL] *= f.p[0] * k.range(12, 0.9, 1.1);
            v[LATENCY] *= f.p[1];
            v[PRB] = (v[PRB] * f.p[2]).min(1.0);
        }
        IncidentKind::Interference => {
            v[RRC] = (v[RRC] - f.p[0]).max(0.0);
            v[DROP] = (v[DROP] * f.p[1]).min(1.0);
            v[UL] *= f.p[2];
            v[DL] *= 0.85;
            v[LATENCY] *= 1.3;
        }
        IncidentKind::CounterReset => *v = [0.0; 8],
        // Surges act on demand; the KPIs follow from the congestion.
        _ => {}
    }
}

/// Decimals each of [`KPIS`] is reported with.
const DECIMALS: [i32; 8] = [4, 2, 3, 3, 5, 5, 2, 1];

fn round_kpis(v: &mut [f64; 8]) {
    for (x, d) in v.iter_mut().zip(DECIMALS) {
        *x = round(*x, d);
    }
}

/// What a telemetry fault `f` (other than a flatline, which repeats a reading) makes `cell`
/// report at `step` instead of its readings `v`; `k` draws the noise of a variance burst.
fn misreport(f: &Fault, cell: &Cell, step: usize, v: &mut [f64; 8], k: Key) {
    match f.kind {
        IncidentKind::DropToZero => {
            for i in [PRB, USERS, DL, UL] {
                v[i] = 0.0;
            }
        }
        IncidentKind::LevelShift => match f.p[0] as u8 {
            0 => v[LATENCY] *= f.p[1],
            1 => v[DROP] = (v[DROP] * f.p[1]).min(1.0),
            _ => v[POWER] *= f.p[1],
        },
        IncidentKind::VarianceBurst => {
            let noise = |i: u64| (f.p[0] * k.normal(i)).exp();
            v[PRB] = (v[PRB] * noise(0)).clamp(0.0, 1.0);
            v[USERS] *= noise(1);
            v[DL] = (v[DL] * noise(2)).min(cell.capacity_dl_mbps);
            v[UL] = (v[UL] * noise(3)).min(cell.capacity_ul_mbps);
            v[LATENCY] *= noise(4);
        }
        IncidentKind::SlowDrift => {
            let done = (step - f.start + 1) as f64 / (f.end - f.start + 1) as f64;
            if f.p[0] == 0.0 {
                v[LATENCY] *= 1.0 + f.p[1] * done;
            } else {
                v[DL] *= 1.0 - f.p[1] * done;
                v[UL] *= 1.0 - f.p[1] * done;
            }
        }
        _ => {}
    }
    round_kpis(v);
}

/// (year, month, day) of a day number counted from 1970-01-01 (proleptic Gregorian).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Day number counted from 1970-01-01 of a (year, month, day).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

const BUSINESS_WEEKDAY: [f64; 24] = [
    0.08, 0.06, 0.05, 0.05, 0.06, 0.10, 0.20, 0.45, 0.80, 0.95, 1.00, 1.00, 0.90, 0.95, 1.00, 0.95,
    0.85, 0.65, 0.45, 0.35, 0.28, 0.22, 0.15, 0.10,
];
const BUSINESS_WEEKEND: [f64; 24] = [
    0.08, 0.06, 0.05, 0.05, 0.05, 0.06, 0.08, 0.10, 0.15, 0.20, 0.25, 0.28, 0.28, 0.28, 0.27, 0.25,
    0.22, 0.20, 0.18, 0.16, 0.14, 0.12, 0.10, 0.09,
];
const RESIDENTIAL_WEEKDAY: [f64; 24] = [
    0.25, 0.15, 0.10, 0.08, 0.08, 0.10, 0.20, 0.40, 0.45, 0.40, 0.38, 0.40, 0.45, 0.42, 0.40, 0.42,
    0.50, 0.62, 0.75, 0.88, 0.97, 1.00, 0.85, 0.50,
];
const RESIDENTIAL_WEEKEND: [f64; 24] = [
    0.30, 0.20, 0.12, 0.08, 0.07, 0.08, 0.12, 0.22, 0.38, 0.55, 0.65, 0.70, 0.72, 0.70, 0.68, 0.70,
    0.72, 0.78, 0.85, 0.93, 1.00, 1.00, 0.85, 0.55,
];
const HUB_WEEKDAY: [f64; 24] = [
    0.06, 0.04, 0.03, 0.03, 0.05, 0.20, 0.60, 1.00, 0.95, 0.60, 0.45, 0.45, 0.50, 0.45, 0.45, 0.55,
    0.80, 1.00, 0.90, 0.60, 0.40, 0.30, 0.20, 0.10,
];
const HUB_WEEKEND: [f64; 24] = [
    0.08, 0.05, 0.03, 0.03, 0.03, 0.06, 0.12, 0.20, 0.30, 0.40, 0.48, 0.50, 0.50, 0.50, 0.50, 0.50,
    0.50, 0.50, 0.45, 0.40, 0.35, 0.28, 0.20, 0.12,
];

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> ScenarioConfig {
        ScenarioConfig {
            cells: 40,
            days: 10,
            incident_rate: 2.0,
            gap_rate: 0.01,
            quiet_days: 3,
            ..ScenarioConfig::default()
        }
    }

    #[test]
    fn default_history_has_incidents_from_the_first_day() {
        // An operator's history is not clean: by default nothing is quiet, and the models
        // train on the first 7 days, incidents and all.
        let config = ScenarioConfig {
            quiet_days: 0,
            ..small()
        };
        assert_eq!(ScenarioConfig::default().quiet_days, 0);
        assert_eq!(ScenarioConfig::default().history(), 7);
        let net = Network::new(&config).unwrap();
        let first_day = Timestamp(net.start().0 + DAY_MS);
        assert!(net.incidents().iter().any(|i| i.start < first_day));
    }

    #[test]
    fn history_days_are_checked_and_default_to_the_quiet_days() {
        let c = |quiet_days, history_days| ScenarioConfig {
            days: 10,
            quiet_days,
            history_days,
            ..ScenarioConfig::default()
        };
        assert_eq!(c(3, None).history(), 3);
        assert_eq!(c(0, None).history(), 7);
        assert_eq!(c(0, Some(2)).history(), 2);
        assert_eq!(c(12, None).history(), 9);
        for bad in [0, 10, 11] {
            let e = c(0, Some(bad)).validate().unwrap_err().to_string();
            assert!(e.contains("history_days"), "{e}");
        }
    }

    #[test]
    fn same_seed_same_values_in_any_order() {
        let a = Network::new(&small()).unwrap();
        let b = Network::new(&small()).unwrap();
        assert_eq!(a.incidents(), b.incidents());
        let mut forward = Vec::new();
        let mut va = [0.0; 8];
        for step in 0..a.steps() {
            for cell in 0..40 {
                let present = a.observe(cell, step, &mut va);
                forward.push((present, va.map(f64::to_bits)));
            }
        }
        // Backwards, from another instance: the same bits.
        let mut vb = [0.0; 8];
        for step in (0..b.steps()).rev() {
            for cell in (0..40).rev() {
                let present = b.observe(cell, step, &mut vb);
                assert_eq!(
                    forward[step * 40 + cell],
                    (present, vb.map(f64::to_bits)),
                    "cell {cell} step {step}"
                );
            }
        }
        let c = Network::new(&ScenarioConfig { seed: 8, ..small() }).unwrap();
        let mut vc = [0.0; 8];
        let differ = (0..40)
            .filter(|&i| c.observe(i, 50, &mut vc) && a.observe(i, 50, &mut va) && va != vc)
            .count();
        assert!(differ > 30);
    }

    #[test]
    fn batch_matches_observe() {
        let net = Network::new(&small()).unwrap();
        let b = net.batch(60, [3, 1, 999, 7], &[6, 0, 42]);
        assert_eq!(b.width(), 3);
        assert!(b.len() <= 3);
        let mut v = [0.0; 8];
        for (entity, time, row) in b.rows() {
            let cell = net.cell_index(entity.name()).unwrap();
            assert_eq!(time, net.time(60));
            assert!(net.observe(cell, 60, &mut v));
            assert_eq!(row[0].to_bits(), v[6].to_bits());
            assert_eq!(row[1].to_bits(), v[0].to_bits());
            assert!(row[2].is_nan());
        }
        assert_eq!(net.cell_index("cell-0007"), Some(7));
        assert_eq!(net.cell_index("cell-7"), None);
        assert_eq!(net.cell_index("tower"), None);
        assert!(!net.observe(999, 0, &mut v) && v.iter().all(|x| x.is_nan()));
    }

    #[test]
    fn incidents_are_sorted_after_quiet_days_and_apart() {
        let net = Network::new(&small()).unwrap();
        let quiet_end = Timestamp(net.start().0 + 3 * DAY_MS);
        let last = net.time(net.steps() - 1);
        assert!(net.incidents().len() > 20, "{}", net.incidents().len());
        for pair in net.incidents().windows(2) {
            assert!(pair[0].start <= pair[1].start);
        }
        for i in net.incidents() {
            assert!(
                i.start >= quiet_end && i.end <= last && i.start <= i.end,
                "{i:?}"
            );
            if i.kind == IncidentKind::CounterReset {
                assert_eq!(i.start, i.end);
            }
        }
        let kinds: std::collections::HashSet<_> = net.incidents().iter().map(|i| i.kind).collect();
        assert!(kinds.len() >= 5, "{kinds:?}");
        let none = Network::new(&ScenarioConfig {
            quiet_days: 20,
            ..small()
        })
        .unwrap();
        assert!(none.incidents().is_empty());
    }

    #[test]
    fn kpis_stay_in_range() {
        let net = Network::new(&ScenarioConfig {
            scenario: crate::Scenario::Mixed,
            ..small()
        })
        .unwrap();
        let mut v = [0.0; 8];
        let (mut present, mut missing) = (0, 0);
        for cell in 0..40 {
            for step in 0..net.steps() {
                if !net.observe(cell, step, &mut v) {
                    missing += 1;
                    continue;
                }
                present += 1;
                let c = &net.cells()[cell];
                let ok = |i: usize, lo: f64, hi: f64| v[i].is_nan() || (lo..=hi).contains(&v[i]);
                assert!(
                    ok(PRB, 0.0, 1.0) && ok(RRC, 0.0, 1.0) && ok(DROP, 0.0, 1.0),
                    "{v:?}"
                );
                assert!(ok(USERS, 0.0, 10.0 * c.busy_hour_users), "{v:?}");
                assert!(
                    ok(DL, 0.0, c.capacity_dl_mbps) && ok(UL, 0.0, c.capacity_ul_mbps),
                    "{v:?}"
                );
                assert!(ok(LATENCY, 0.0, 1000.0) && ok(POWER, 0.0, 1000.0), "{v:?}");
                assert!(!v[PRB].is_nan() && !v[POWER].is_nan());
            }
        }
        let rate = missing as f64 / (present + missing) as f64;
        assert!((0.004..0.02).contains(&rate), "{rate}");
    }

    #[test]
    fn demand_follows_profiles() {
        let net = Network::new(&ScenarioConfig {
            cells: 300,
            days: 7,
            incident_rate: 0.0,
            start: Timestamp::parse("2024-04-29T00:00:00Z").unwrap(),
            ..ScenarioConfig::default()
        })
        .unwrap();
        let per_day = 96;
        // Mean demand of a profile at (day, hour), over its cells (day 2, 1 May, is a holiday).
        let mean = |p: Profile, day: usize, hour: usize| {
            let cells: Vec<usize> = net
                .cells()
                .iter()
                .filter(|c| c.profile == p)
                .map(|c| c.index)
                .collect();
            let step = day * per_day + hour * 4;
            cells
                .iter()
                .map(|&c| net.demand(c, step).dl_mbps / net.cells()[c].capacity_dl_mbps)
                .sum::<f64>()
                / cells.len() as f64
        };
        assert!(mean(Profile::Business, 1, 11) > 3.0 * mean(Profile::Business, 1, 3));
        assert!(
            mean(Profile::Business, 1, 11) > 2.5 * mean(Profile::Business, 6, 11),
            "weekend"
        );
        assert!(
            mean(Profile::Business, 1, 11) > 1.2 * mean(Profile::Business, 2, 11),
            "holiday"
        );
        assert!(mean(Profile::Residential, 1, 21) > 1.8 * mean(Profile::Residential, 1, 10));
        assert!(mean(Profile::TransportHub, 1, 8) > 1.5 * mean(Profile::TransportHub, 1, 11));
    }

    #[test]
    fn calendar_round_trips() {
        for day in [-1000, 0, 19_723, 20_000, 47_482] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
    }
}
