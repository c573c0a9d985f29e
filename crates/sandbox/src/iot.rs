//! An IoT sensor field: environmental sensors (temperature, relative humidity, battery
//! voltage) spread over sites, reporting every few minutes, with injected sensor faults kept
//! as ground truth (Y.3181 simulated underlay; fault injection per Y.3181 REQ-ML-SANDBOX-005
//! and Y.3177 RP (1)). Every value is a pure function of (seed, sensor, step), as in the
//! cell sandbox.

use std::io::Write;
use std::path::Path;

use crate::export::{io_err, telemetry_csv, write_json};
use crate::rng::{Key, Stream};
use crate::SandboxError;
use ai4ict_core::{Entity, Incident, IncidentKind, Interval, Timestamp};

/// The fields every sensor reports, in order: °C, % relative humidity, volts.
pub const IOT_FIELDS: [&str; 3] = ["temperature", "humidity", "battery"];

/// Sensors per site: the sensors of a site share its climate.
const SITE_SIZE: u32 = 5;
const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;

/// A sensor field's simulation profile (Y.3181 cl. 3): how many sensors, for how long, and
/// how often they fail. The same config gives the same readings, bit for bit.
#[derive(Clone, Debug, PartialEq)]
pub struct IotConfig {
    /// Number of sensors, 1 to 100000.
    pub sensors: u32,
    /// Days simulated, 1 to 366.
    pub days: u32,
    /// Random seed.
    pub seed: u64,
    /// Reporting interval, 1 minute to 1 hour.
    pub interval: Interval,
    /// First reporting time.
    pub start: Timestamp,
    /// Days at the start without faults (the detectors' warm-up).
    pub quiet_days: u32,
    /// Share of sensors that develop one fault, 0 to 1.
    pub faulty_share: f64,
}

impl Default for IotConfig {
    fn default() -> Self {
        Self {
            sensors: 30,
            days: 4,
            seed: 7,
            interval: Interval::from_minutes(5),
            start: Timestamp::from_secs(1_704_067_200), // 2024-01-01T00:00:00Z
            quiet_days: 1,
            faulty_share: 0.3,
        }
    }
}

impl IotConfig {
    fn validate(&self) -> Result<(), SandboxError> {
        let bad = |field, message: &str| {
            Err(SandboxError::InvalidConfig {
                field,
                message: message.to_string(),
            })
        };
        if !(1..=100_000).contains(&self.sensors) {
            return bad("sensors", "sensors must be 1 to 100000");
        }
        if !(1..=366).contains(&self.days) {
            return bad("days", "days must be 1 to 366");
        }
        if !(60_000..=HOUR_MS).contains(&self.interval.millis()) {
            return bad("interval", "the interval must be 1 minute to 1 hour");
        }
        if self.quiet_days >= self.days {
            return bad("quiet_days", "quiet_days must be fewer than days");
        }
        if !(0.0..=1.0).contains(&self.faulty_share) {
            return bad("faulty_share", "faulty_share must be 0 to 1");
        }
        Ok(())
    }
}

/// One sensor's fault: what, over which steps (inclusive), and how much (drift: °C at the end
/// of the ramp).
#[derive(Clone, Copy, Debug)]
struct Fault {
    kind: IncidentKind,
    first: usize,
    last: usize,
    drift: f64,
}

/// Y.3181 simulated underlay of IoT sensors: a seeded field of sensors with stuck
/// ([`IncidentKind::Flatline`]), drifting ([`IncidentKind::SlowDrift`]) and dead
/// ([`IncidentKind::MissingData`]) faults, whose ground truth is [`SensorField::incidents`].
#[derive(Clone, Debug)]
pub struct SensorField {
    config: IotConfig,
    steps: usize,
    faults: Vec<Option<Fault>>,
    incidents: Vec<Incident>,
}

impl SensorField {
    /// Draws the field's faults; readings are computed on demand.
    pub fn new(config: &IotConfig) -> Result<Self, SandboxError> {
        config.validate()?;
        let step_ms = config.interval.millis();
        let steps = (i64::from(config.days) * DAY_MS / step_ms) as usize;
        let per_hour = (HOUR_MS / step_ms).max(1) as usize;
        let quiet = (i64::from(config.quiet_days) * DAY_MS / step_ms) as usize;
        let key = Key::new(config.seed, Stream::Iot);
        let faults: Vec<Option<Fault>> = (0..config.sensors)
            .map(|s| {
                let k = key.at(u64::from(s));
                if k.uniform(0) >= config.faulty_share {
                    return None;
                }
                let first = quiet + k.below(1, (steps - quiet) as u64 * 3 / 4) as usize;
                let hours = |lo: f64, hi: f64| (k.range(2, lo, hi) * per_hour as f64) as usize;
                let (kind, len, drift) = match k.below(3, 3) {
                    0 => (IncidentKind::Flatline, hours(2.0, 12.0), 0.0),
                    1 => {
                        let sign = if k.uniform(4) < 0.5 { -1.0 } else { 1.0 };
                        (
                            IncidentKind::SlowDrift,
                            hours(6.0, 24.0),
                            sign * k.range(5, 2.0, 5.0),
                        )
                    }
                    // one dead sensor in three never comes back
                    _ if k.uniform(4) < 1.0 / 3.0 => (IncidentKind::MissingData, steps, 0.0),
                    _ => (IncidentKind::MissingData, hours(2.0, 24.0), 0.0),
                };
                let last = (first + len.max(1) - 1).min(steps - 1);
                Some(Fault {
                    kind,
                    first,
                    last,
                    drift,
                })
            })
            .collect();
        let mut incidents: Vec<Incident> = faults
            .iter()
            .enumerate()
            .filter_map(|(s, f)| {
                let f = f.as_ref()?;
                Some(Incident {
                    entity: Entity::new(sensor_name(s)),
                    kind: f.kind,
                    start: step_time(config, f.first),
                    end: step_time(config, f.last),
                })
            })
            .collect();
        incidents.sort_by(|a, b| (a.start, &a.entity).cmp(&(b.start, &b.entity)));
        Ok(Self {
            config: config.clone(),
            steps,
            faults,
            incidents,
        })
    }

    /// The config it was built from.
    pub fn config(&self) -> &IotConfig {
        &self.config
    }

    /// Reporting intervals simulated.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Number of sensors.
    pub fn sensors(&self) -> usize {
        self.faults.len()
    }

    /// The sensor's name, `sensor-NNNN`.
    pub fn name(&self, sensor: usize) -> String {
        sensor_name(sensor)
    }

    /// The time of `step`.
    pub fn time(&self, step: usize) -> Timestamp {
        step_time(&self.config, step)
    }

    /// The injected faults, sorted by start.
    pub fn incidents(&self) -> &[Incident] {
        &self.incidents
    }

    /// Writes the sensor's reading at `step` into `v` (in [`IOT_FIELDS`] order); false when
    /// it sent none (dead).
    pub fn observe(&self, sensor: usize, step: usize, v: &mut [f64; 3]) -> bool {
        let fault = self.faults.get(sensor).copied().flatten();
        match fault {
            Some(f) if (f.first..=f.last).contains(&step) => match f.kind {
                IncidentKind::MissingData => false,
                // stuck: the reading before the fault, repeated exactly
                IncidentKind::Flatline => {
                    *v = self.healthy(sensor, f.first.saturating_sub(1));
                    true
                }
                _ => {
                    *v = self.healthy(sensor, step);
                    let ramp = (step - f.first + 1) as f64 / (f.last - f.first + 1) as f64;
                    v[0] = round(v[0] + f.drift * ramp, 100.0);
                    true
                }
            },
            _ => {
                *v = self.healthy(sensor, step);
                true
            }
        }
    }

    /// A healthy sensor's reading: the site's temperature (its offset, a daily cycle peaking
    /// mid-afternoon, the day's weather), humidity falling as it warms, a battery discharging.
    fn healthy(&self, sensor: usize, step: usize) -> [f64; 3] {
        let site = Key::new(self.config.seed, Stream::Iot)
            .at(1 << 32)
            .at(sensor as u64 / u64::from(SITE_SIZE));
        let own = Key::new(self.config.seed, Stream::Iot)
            .at(sensor as u64)
            .at(1);
        let noise = own.at(step as u64 + 1);
        let t_ms = step as i64 * self.config.interval.millis();
        let day = (t_ms / DAY_MS) as u64;
        let frac = (t_ms % DAY_MS) as f64 / DAY_MS as f64;
        let weather = |d: u64| 2.0 * site.at(2).at(d).normal(0);
        let today = weather(day) + (weather(day + 1) - weather(day)) * frac;
        let mean = site.range(0, 8.0, 24.0) + own.range(0, -1.0, 1.0);
        let swing = site.range(1, 2.0, 6.0);
        let hour = (self.time(step).millis_of_day() as f64) / HOUR_MS as f64;
        let cycle = swing * (std::f64::consts::TAU * (hour - 9.0) / 24.0).sin();
        let temp = mean + today + cycle + 0.15 * noise.normal(0);
        let humidity = (site.range(3, 45.0, 75.0) - 2.5 * (cycle + today) + 1.0 * noise.normal(1))
            .clamp(5.0, 100.0);
        let days = t_ms as f64 / DAY_MS as f64;
        let battery = (own.range(2, 3.5, 3.7) - own.range(3, 0.002, 0.01) * days
            + 0.003 * noise.normal(2))
        .max(2.9);
        [
            round(temp, 100.0),
            round(humidity, 10.0),
            round(battery, 1000.0),
        ]
    }

    /// The reading at `step` as one JSON line without its newline, e.g.
    /// `{"entity":"sensor-0003","time":"2024-01-01T00:05:00Z","temperature":14.2,…}`, or
    /// `None` when the sensor sent none.
    pub fn json_line(&self, sensor: usize, step: usize) -> Option<String> {
        let mut v = [0.0; 3];
        if !self.observe(sensor, step, &mut v) {
            return None;
        }
        // Names are `sensor-NNNN` and times RFC 3339: nothing to escape.
        let mut line = format!(
            "{{\"entity\":\"{}\",\"time\":\"{}\"",
            sensor_name(sensor),
            self.time(step)
        );
        for (name, x) in IOT_FIELDS.iter().zip(v) {
            line.push_str(&format!(",\"{name}\":{x}"));
        }
        line.push('}');
        Some(line)
    }
}

fn sensor_name(sensor: usize) -> String {
    format!("sensor-{sensor:04}")
}

fn step_time(config: &IotConfig, step: usize) -> Timestamp {
    Timestamp(
        config
            .start
            .0
            .saturating_add(step as i64 * config.interval.millis()),
    )
}

/// Rounds to the resolution of a real sensor (1/`per` of the unit).
fn round(x: f64, per: f64) -> f64 {
    (x * per).round() / per
}

/// Writes `dir/telemetry.csv` (`entity,time,temperature,humidity,battery`, time-major, a dead
/// sensor's missing readings without a row) and `dir/labels.json` (the faults), as
/// [`crate::write_csv`] and [`crate::write_labels`] do for cells. Returns the rows written.
pub fn write_iot(field: &SensorField, dir: impl AsRef<Path>) -> Result<u64, SandboxError> {
    let dir = dir.as_ref();
    let (path, mut w) = telemetry_csv(dir, &IOT_FIELDS)?;
    let csv_err = |source| SandboxError::Csv {
        path: path.clone(),
        source,
    };
    let mut rows = 0u64;
    let mut v = [0.0; 3];
    for step in 0..field.steps() {
        let time = field.time(step).to_string();
        for s in 0..field.sensors() {
            if field.observe(s, step, &mut v) {
                let name = sensor_name(s);
                let [a, b, c] = v.map(|x| x.to_string());
                w.write_record([name.as_str(), &time, &a, &b, &c])
                    .map_err(csv_err)?;
                rows += 1;
            }
        }
    }
    w.flush().map_err(io_err(&path))?;
    write_json(dir, "labels.json", &field.incidents())?;
    Ok(rows)
}

/// Writes every reading as JSON lines ([`SensorField::json_line`]) to `out`, time-major.
pub fn write_iot_jsonl(field: &SensorField, mut out: impl Write) -> std::io::Result<u64> {
    let mut rows = 0;
    for step in 0..field.steps() {
        for s in 0..field.sensors() {
            if let Some(line) = field.json_line(s, step) {
                writeln!(out, "{line}")?;
                rows += 1;
            }
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(seed: u64) -> SensorField {
        SensorField::new(&IotConfig {
            sensors: 60,
            days: 5,
            seed,
            ..IotConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn the_seed_fixes_every_reading_and_fault() {
        let (a, b, c) = (field(7), field(7), field(8));
        assert_eq!(a.incidents(), b.incidents());
        assert_ne!(a.incidents(), c.incidents());
        let mut buf = (Vec::new(), Vec::new());
        write_iot_jsonl(&a, &mut buf.0).unwrap();
        write_iot_jsonl(&b, &mut buf.1).unwrap();
        assert_eq!(buf.0, buf.1);
    }

    #[test]
    fn faults_show_in_the_readings_at_their_times() {
        let f = field(7);
        let kinds: Vec<_> = f.incidents().iter().map(|i| i.kind).collect();
        for k in [
            IncidentKind::Flatline,
            IncidentKind::SlowDrift,
            IncidentKind::MissingData,
        ] {
            assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
        }
        let quiet_end = f.time(f.steps() / 5);
        let (mut v, mut w) = ([0.0; 3], [0.0; 3]);
        for i in f.incidents() {
            assert!(i.start >= quiet_end && i.end >= i.start, "{i:?}");
            let s: usize = i.entity.name()[7..].parse().unwrap();
            let step = |t: Timestamp| ((t.0 - f.time(0).0) / f.config().interval.millis()) as usize;
            let (first, last) = (step(i.start), step(i.end));
            match i.kind {
                IncidentKind::MissingData => {
                    assert!((first..=last).all(|t| !f.observe(s, t, &mut v)));
                    assert!(f.observe(s, first - 1, &mut v));
                }
                IncidentKind::Flatline => {
                    f.observe(s, first - 1, &mut w);
                    assert!((first..=last).all(|t| f.observe(s, t, &mut v) && v == w));
                }
                _ => {
                    f.observe(s, last, &mut v);
                    let drift = v[0] - f.healthy(s, last)[0];
                    assert!((2.0..=5.01).contains(&drift.abs()), "{drift}");
                }
            }
        }
    }

    #[test]
    fn readings_are_physically_plausible() {
        let f = field(3);
        let mut v = [0.0; 3];
        let mut temps = Vec::new();
        for s in 0..f.sensors() {
            for t in 0..f.steps() {
                if f.observe(s, t, &mut v) {
                    assert!((-20.0..50.0).contains(&v[0]), "{v:?}");
                    assert!((5.0..=100.0).contains(&v[1]), "{v:?}");
                    assert!((2.9..=3.75).contains(&v[2]), "{v:?}");
                    if s == 0 {
                        temps.push(v[0]);
                    }
                }
            }
        }
        // a daily cycle: the day's range is degrees, not noise
        let day = &temps[..288];
        let (lo, hi) = day
            .iter()
            .fold((f64::MAX, f64::MIN), |(l, h), x| (l.min(*x), h.max(*x)));
        assert!(hi - lo > 2.0, "{lo} {hi}");
        // the battery discharges
        assert!(f.healthy(1, f.steps() - 1)[2] < f.healthy(1, 0)[2]);
    }

    #[test]
    fn files_agree_with_the_field() {
        let f = field(1);
        let dir = tempfile::tempdir().unwrap();
        let rows = write_iot(&f, dir.path()).unwrap();
        let mut r = csv::Reader::from_path(dir.path().join("telemetry.csv")).unwrap();
        assert_eq!(
            r.headers().unwrap().iter().collect::<Vec<_>>(),
            ["entity", "time", "temperature", "humidity", "battery"]
        );
        assert_eq!(r.records().count() as u64, rows);
        let labels: Vec<Incident> =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("labels.json")).unwrap())
                .unwrap();
        assert_eq!(labels, f.incidents());
    }

    #[test]
    fn bad_configs_name_their_field() {
        for (c, field) in [
            (
                IotConfig {
                    sensors: 0,
                    ..IotConfig::default()
                },
                "sensors",
            ),
            (
                IotConfig {
                    quiet_days: 4,
                    ..IotConfig::default()
                },
                "quiet_days",
            ),
            (
                IotConfig {
                    faulty_share: 2.0,
                    ..IotConfig::default()
                },
                "faulty_share",
            ),
            (
                IotConfig {
                    interval: Interval::from_millis(1000),
                    ..IotConfig::default()
                },
                "interval",
            ),
        ] {
            let err = SensorField::new(&c).unwrap_err();
            assert!(matches!(err, SandboxError::InvalidConfig { field: f, .. } if f == field));
        }
    }
}
