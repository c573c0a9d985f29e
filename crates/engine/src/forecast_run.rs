//! Forecasting the series of a file: the M → P → SINK end of a forecast pipeline
//! (Y.3172 §8.1) run as one batch job, with the rolling-origin backtest against seasonal naive
//! that the MLFO's Evaluate stage reports (Y.3181 §8.2.1.2). `ai4ict forecast` and intents
//! with a file source, `model: {forecast: …}` and `policy: {forecast: …}` both run here.
//!
//! Rows are grouped per entity, ordered by time and aligned to the interval (rows in the same
//! interval are averaged, empty intervals are gaps), one series per entity and field. Each
//! series gets its season from the data unless one is given, a backtest of the model and of
//! seasonal naive over the last `backtest_windows` horizons, and a forecast of `horizon` steps
//! with intervals from the model fitted on the whole series.
//!
//! ```
//! use ai4ict_core::{Batch, Entity, Interval, Timestamp};
//! use ai4ict_engine::forecast_run::{forecast_all, series_from_batches};
//! use ai4ict_forecast::ForecasterConfig;
//! use ai4ict_intent::ForecastPolicy;
//!
//! let mut batch = Batch::new(1);
//! for t in 0..24 * 14 {
//!     let v = 50.0 + 20.0 * (std::f64::consts::TAU * (t % 24) as f64 / 24.0).sin();
//!     batch.push(Entity::new("cell-1"), Timestamp(t * 3_600_000), &[v + (t % 5) as f64]);
//! }
//! let (series, interval) = series_from_batches(&[batch], &["load".to_string()], None)?;
//! assert_eq!(interval, Interval::from_minutes(60));
//! let policy = ForecastPolicy::default();
//! let out = forecast_all(&series, &ForecasterConfig::default(), &policy);
//! let f = out[0].as_ref().unwrap();
//! assert_eq!(f.season.period, 24);
//! assert_eq!(f.forecast.len(), 24); // one season ahead
//! assert!(f.backtest.as_ref().unwrap().model.mase < 1.0);
//! # Ok::<(), ai4ict_engine::EngineError>(())
//! ```

use std::collections::HashMap;
use std::io::Write;
use std::time::Instant;

use ai4ict_connectors::{
    FileSinkConfig, FileSource, ForecastRow, ForecastWriter, ReadReport, SinkConfig,
};
use ai4ict_core::{Batch, Entity, Interval, Timestamp};
use ai4ict_eval::backtest::{rolling_origin, BacktestScores, RollingOrigin, WindowForecast};
use ai4ict_forecast::stats::clean;
use ai4ict_forecast::{
    detect_season, Forecast, ForecastError, Forecaster, ForecasterConfig, Method, Season,
    SeasonSource,
};
use ai4ict_intent::{ForecastPolicy, MlIntent, ModelConfig, PolicyConfig, SourceConfig};
use rayon::prelude::*;
use serde::Serialize;

use crate::mlfo::{Outcome, Stage, StageRecord, Status, TargetCheck};
use crate::EngineError;

/// Most intervals one series may span (a year of 15-second data): more means the times or
/// the interval are not what they seem.
pub const MAX_SERIES_POINTS: usize = 2_000_000;

/// Rows read per batch from a file.
const BATCH_ROWS: usize = 8192;

/// One field of one entity on a regular time grid (oldest first; a gap is NaN).
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    /// The entity.
    pub entity: Entity,
    /// The field.
    pub field: String,
    /// Time of the first value.
    pub start: Timestamp,
    /// Spacing of the values.
    pub interval: Interval,
    /// Values, one per interval from `start`; NaN where nothing was observed.
    pub values: Vec<f64>,
}

impl Series {
    /// The time of value `i` (or of the `i`-th step past the end).
    pub fn time(&self, i: usize) -> Timestamp {
        Timestamp(self.start.0 + i as i64 * self.interval.millis())
    }

    /// `entity/field`, as named in messages.
    pub fn name(&self) -> String {
        format!("{}/{}", self.entity.name(), self.field)
    }

    /// Intervals with no observation.
    pub fn missing(&self) -> usize {
        self.values.iter().filter(|v| !v.is_finite()).count()
    }
}

/// The median gap between consecutive distinct times of the same entity.
fn median_gap(rows: &HashMap<&Entity, Vec<(Timestamp, &[f64])>>) -> Option<Interval> {
    let mut gaps: Vec<i64> = rows
        .values()
        .flat_map(|r| r.windows(2).map(|w| w[1].0 .0 - w[0].0 .0))
        .filter(|&g| g > 0)
        .collect();
    if gaps.is_empty() {
        return None;
    }
    let mid = gaps.len() / 2;
    let (_, m, _) = gaps.select_nth_unstable(mid);
    Some(Interval::from_millis(*m))
}

/// Groups the rows of `batches` (columns `fields`) into one [`Series`] per entity and field,
/// in order of the entities' first rows. Rows are sorted by time; rows falling in the same
/// interval are averaged (missing values left out). The interval is `interval`, else the
/// median gap between an entity's consecutive times. Errors when no entity has two distinct
/// times (without `interval`) or when a series would span more than [`MAX_SERIES_POINTS`].
pub fn series_from_batches(
    batches: &[Batch],
    fields: &[String],
    interval: Option<Interval>,
) -> Result<(Vec<Series>, Interval), EngineError> {
    let mut order: Vec<&Entity> = Vec::new();
    let mut rows: HashMap<&Entity, Vec<(Timestamp, &[f64])>> = HashMap::new();
    for b in batches {
        for (e, t, v) in b.rows() {
            rows.entry(e)
                .or_insert_with(|| {
                    order.push(e);
                    Vec::new()
                })
                .push((t, v));
        }
    }
    for r in rows.values_mut() {
        r.sort_by_key(|(t, _)| *t);
    }
    let interval = match interval.or_else(|| median_gap(&rows)) {
        Some(i) if i.millis() > 0 => i,
        _ => {
            return Err(EngineError::Plan(
                "no entity has two distinct times, so the interval is unknown; give it".into(),
            ))
        }
    };
    let step = interval.millis();
    let mut out = Vec::with_capacity(order.len() * fields.len());
    for e in order {
        let r = &rows[e];
        let (Some(first), Some(last)) = (r.first(), r.last()) else {
            continue;
        };
        let slot = |t: Timestamp| ((t.0 - first.0 .0) as f64 / step as f64).round() as usize;
        let n = slot(last.0) + 1;
        if n > MAX_SERIES_POINTS {
            return Err(EngineError::Plan(format!(
                "{}: the times span {} to {}, {n} intervals of {interval}, more than {MAX_SERIES_POINTS}; check the time column or give a longer interval",
                e.name(),
                first.0,
                last.0
            )));
        }
        for (f, field) in fields.iter().enumerate() {
            let mut sum = vec![0.0; n];
            let mut count = vec![0u32; n];
            for (t, v) in r {
                match v.get(f) {
                    Some(x) if x.is_finite() => {
                        let i = slot(*t);
                        sum[i] += x;
                        count[i] += 1;
                    }
                    _ => {}
                }
            }
            let values = sum
                .iter()
                .zip(&count)
                .map(|(s, &c)| if c > 0 { s / f64::from(c) } else { f64::NAN })
                .collect();
            out.push(Series {
                entity: e.clone(),
                field: field.clone(),
                start: first.0,
                interval,
                values,
            });
        }
    }
    Ok((out, interval))
}

/// Reads every row of an opened file source (bad rows are handled as the source's `on_error`
/// says) and groups them with [`series_from_batches`]. Returns the series, the interval and
/// what the source read.
pub fn read_series(
    source: &mut FileSource,
    interval: Option<Interval>,
) -> Result<(Vec<Series>, Interval, ReadReport), EngineError> {
    let mut batches = Vec::new();
    while let Some(b) = source
        .next_batch(BATCH_ROWS)
        .map_err(|e| EngineError::Source(e.to_string()))?
    {
        batches.push(b);
    }
    let fields = source.fields().to_vec();
    let (series, interval) = series_from_batches(&batches, &fields, interval)?;
    Ok((series, interval, source.report().clone()))
}

/// Rolling-origin accuracy of the model and of seasonal naive on the same windows.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Backtest {
    /// Steps ahead scored in each window.
    pub horizon: usize,
    /// Windows (forecast origins), one horizon apart, the last ending at the series' end.
    pub windows: usize,
    /// The model's scores (MASE scaled by in-sample seasonal naive).
    pub model: BacktestScores,
    /// Seasonal naive's scores on the same windows.
    pub naive: BacktestScores,
}

impl Backtest {
    /// The model's MASE over seasonal naive's (below 1: the model is better).
    pub fn mase_ratio(&self) -> f64 {
        self.model.mase / self.naive.mase
    }
}

/// The forecast of one series, with how it was made and checked.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SeriesForecast {
    /// The entity.
    pub entity: String,
    /// The field.
    pub field: String,
    /// Values in the series, gaps included.
    pub points: usize,
    /// Gaps (interpolated before fitting).
    pub missing: usize,
    /// The season used (given, or found from the data).
    pub season: Season,
    /// The model fitted on the whole series, e.g. `auto→mstl(periods=[48, 336], trend=ets)`.
    pub model: String,
    /// The backtest, when the series is long enough for one window.
    pub backtest: Option<Backtest>,
    /// Why there is no backtest, or which windows failed.
    pub note: Option<String>,
    /// Times of the forecast steps.
    pub times: Vec<Timestamp>,
    /// The forecast: `horizon` means with interval bounds.
    pub forecast: Forecast,
}

impl SeriesForecast {
    /// The forecast as sink rows, step 1 first.
    pub fn rows(&self) -> impl Iterator<Item = ForecastRow> + '_ {
        (0..self.forecast.len()).map(move |i| ForecastRow {
            entity: self.entity.clone(),
            field: self.field.clone(),
            time: self.times[i],
            step: i + 1,
            forecast: self.forecast.mean[i],
            lower: self.forecast.lower[i],
            upper: self.forecast.upper[i],
            level: self.forecast.level,
        })
    }
}

/// Backtest of `forecaster` on `y` over `spec`.
fn backtest_one(
    y: &[f64],
    spec: &RollingOrigin,
    forecaster: &ForecasterConfig,
) -> Result<BacktestScores, String> {
    rolling_origin(y, spec, |train: &[f64]| {
        let f = forecaster
            .fit(train, spec.season)?
            .predict(spec.horizon, spec.level)?;
        Ok::<_, ForecastError>(WindowForecast {
            mean: f.mean,
            lower: f.lower,
            upper: f.upper,
        })
    })
    .map_err(|e| e.to_string())
}

/// Forecasts one series as `policy` says with `forecaster`: season (given or found), backtest
/// against seasonal naive on as many of `policy.backtest_windows` as the series holds after
/// two seasons of training, then the fit on the whole series and its forecast.
pub fn forecast_series(
    series: &Series,
    forecaster: &ForecasterConfig,
    policy: &ForecastPolicy,
) -> Result<SeriesForecast, EngineError> {
    let fail = |source: ForecastError| EngineError::Forecast {
        series: series.name(),
        source,
    };
    let y = clean(&series.values, 1, forecaster.fill_gaps).map_err(fail)?;
    let season = match policy.season {
        Some(period) => Season {
            period: period.max(1),
            acf: f64::NAN,
            source: if period > 1 {
                SeasonSource::Given
            } else {
                SeasonSource::None
            },
        },
        None => detect_season(&y, Some(series.interval)).map_err(fail)?,
    };
    let m = season.period;
    let horizon = match policy.horizon {
        0 if m > 1 => m,
        0 => 24,
        h => h,
    };
    let min_train = 2 * m.max(1) + 1;
    let fits = y.len().saturating_sub(min_train) / horizon;
    let windows = policy.backtest_windows.min(fits);
    let (backtest, note) = if windows == 0 {
        (
            None,
            Some(format!(
                "no backtest: {} points hold no window of {horizon} after {min_train} points of training",
                y.len()
            )),
        )
    } else {
        let spec = RollingOrigin {
            horizon,
            windows,
            step: 0,
            season: m,
            level: policy.level,
        };
        let naive = ForecasterConfig {
            method: Method::SeasonalNaive,
            ..forecaster.clone()
        };
        match (
            backtest_one(&y, &spec, forecaster),
            backtest_one(&y, &spec, &naive),
        ) {
            (Ok(model), Ok(naive)) if model.windows > 0 && naive.windows > 0 => {
                let failed: Vec<String> = model
                    .failures
                    .iter()
                    .chain(&naive.failures)
                    .cloned()
                    .collect();
                let note = (!failed.is_empty())
                    .then(|| format!("backtest windows failed: {}", failed.join("; ")));
                (
                    Some(Backtest {
                        horizon,
                        windows,
                        model,
                        naive,
                    }),
                    note,
                )
            }
            (Ok(model), Ok(naive)) => (
                None,
                Some(format!(
                    "no backtest window could be forecast: {}",
                    model
                        .failures
                        .iter()
                        .chain(&naive.failures)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("; ")
                )),
            ),
            (Err(e), _) | (_, Err(e)) => (None, Some(format!("no backtest: {e}"))),
        }
    };
    let fitted = forecaster.fit(&y, m).map_err(fail)?;
    let forecast = fitted.predict(horizon, policy.level).map_err(fail)?;
    Ok(SeriesForecast {
        entity: series.entity.name().to_string(),
        field: series.field.clone(),
        points: series.values.len(),
        missing: series.missing(),
        season,
        model: fitted.describe(),
        backtest,
        note,
        times: (1..=horizon)
            .map(|k| series.time(series.values.len() - 1 + k))
            .collect(),
        forecast,
    })
}

/// [`forecast_series`] for every series, in parallel (rayon), in the order given.
pub fn forecast_all(
    series: &[Series],
    forecaster: &ForecasterConfig,
    policy: &ForecastPolicy,
) -> Vec<Result<SeriesForecast, EngineError>> {
    series
        .par_iter()
        .map(|s| forecast_series(s, forecaster, policy))
        .collect()
}

/// Mean backtest figures over the series that have a backtest.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct BacktestSummary {
    /// Series with a backtest.
    pub series: usize,
    /// Mean MASE of the model.
    pub mase: f64,
    /// Mean MASE of seasonal naive on the same windows.
    pub naive_mase: f64,
    /// Mean sMAPE of the model, percent.
    pub smape: f64,
    /// Mean interval coverage of the model.
    pub coverage: f64,
    /// Mean interval coverage of seasonal naive.
    pub naive_coverage: f64,
}

impl BacktestSummary {
    /// The means over `forecasts`' backtests (all NaN when none has one).
    pub fn of(forecasts: &[SeriesForecast]) -> Self {
        let b: Vec<&Backtest> = forecasts
            .iter()
            .filter_map(|f| f.backtest.as_ref())
            .collect();
        let mean = |f: &dyn Fn(&Backtest) -> f64| {
            if b.is_empty() {
                f64::NAN
            } else {
                b.iter().map(|x| f(x)).sum::<f64>() / b.len() as f64
            }
        };
        Self {
            series: b.len(),
            mase: mean(&|x| x.model.mase),
            naive_mase: mean(&|x| x.naive.mase),
            smape: mean(&|x| x.model.smape),
            coverage: mean(&|x| x.model.coverage),
            naive_coverage: mean(&|x| x.naive.coverage),
        }
    }
}

/// Writes every forecast's rows to the file a forecast sink names (replacing it). Returns the
/// rows written.
pub fn write_forecasts(
    sink: &FileSinkConfig,
    forecasts: &[SeriesForecast],
) -> Result<usize, EngineError> {
    let out = |e: ai4ict_connectors::ConnectorError| EngineError::Output(e.to_string());
    let mut w = ForecastWriter::create(sink).map_err(out)?;
    let mut n = 0;
    for f in forecasts {
        for row in f.rows() {
            w.write(&row).map_err(out)?;
            n += 1;
        }
    }
    w.into_inner()
        .map_err(out)?
        .flush()
        .map_err(|e| EngineError::Output(format!("{}: {e}", sink.path.display())))?;
    Ok(n)
}

/// The forecast part of an MLFO outcome: every series' forecast and backtest, their means, and
/// the checks against the intent's targets.
#[derive(Clone, Debug, Serialize)]
pub struct ForecastEvaluation {
    /// The interval the series were aligned to.
    #[serde(serialize_with = "as_string")]
    pub interval: Interval,
    /// Rows read from the file, and bad rows.
    pub read: ReadReport,
    /// One entry per series forecast.
    pub series: Vec<SeriesForecast>,
    /// Series that could not be forecast, with why.
    pub failed: Vec<String>,
    /// Backtest means over the series.
    pub summary: BacktestSummary,
    /// Checks against the intent's targets (`max_mase`).
    pub targets: Vec<TargetCheck>,
}

fn as_string<S: serde::Serializer>(i: &Interval, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&i.to_string())
}

impl ForecastEvaluation {
    /// True when every target is met.
    pub fn passed(&self) -> bool {
        self.targets.iter().all(|t| t.passed)
    }

    /// The backtest in one line, for the report's Evaluate stage.
    pub fn line(&self) -> String {
        let s = &self.summary;
        if s.series == 0 {
            return "no series was long enough for a backtest".into();
        }
        let level = self.series.first().map_or(f64::NAN, |f| f.forecast.level);
        format!(
            "rolling-origin backtest of {} series: MASE {:.3} vs seasonal naive {:.3} (ratio {:.3}), sMAPE {:.2} %, {:.0} % interval coverage {:.3} (naive {:.3})",
            s.series,
            s.mase,
            s.naive_mase,
            s.mase / s.naive_mase,
            s.smape,
            level * 100.0,
            s.coverage,
            s.naive_coverage
        )
    }
}

/// The lifecycle of an intent with a file source, `model: {forecast: …}` and
/// `policy: {forecast: …}`: Train fits a forecaster per series (season from the data unless
/// given), Evaluate reports the rolling-origin backtest against seasonal naive and checks
/// `targets.max_mase`, Deploy writes the forecasts to the intent's sinks when the targets
/// are met (or `force`).
pub(crate) fn run_intent(
    intent: &MlIntent,
    force: bool,
    outcome: &mut Outcome,
) -> Result<(), EngineError> {
    let (
        SourceConfig::File(file),
        ModelConfig::Forecast(forecaster),
        PolicyConfig::Forecast(policy),
    ) = (&intent.source, &intent.model, &intent.policy)
    else {
        return Err(EngineError::Plan(
            "a forecast run needs a file source, a forecast model and a forecast policy".into(),
        ));
    };
    let t = Instant::now();
    let mut source = FileSource::open(file, &outcome.plan.fields)
        .map_err(|e| EngineError::Source(e.to_string()))?;
    let (series, interval, read) = read_series(&mut source, Some(intent.collect.interval))?;
    let mut forecasts = Vec::new();
    let mut failed = Vec::new();
    for r in forecast_all(&series, forecaster, policy) {
        match r {
            Ok(f) => forecasts.push(f),
            Err(e) => failed.push(e.to_string()),
        }
    }
    let mut periods: Vec<usize> = forecasts.iter().map(|f| f.season.period).collect();
    periods.sort_unstable();
    let mut seasons: Vec<String> = Vec::new();
    for chunk in periods.chunk_by(|a, b| a == b) {
        seasons.push(format!("{} ×{}", chunk[0], chunk.len()));
    }
    let bad = read.rows_skipped + read.rows_quarantined;
    outcome.stages.push(StageRecord::new(
        Stage::Train,
        if forecasts.is_empty() {
            Status::Failed
        } else {
            Status::Passed
        },
        format!(
            "{} of {} series of {} fitted ({} rows, {bad} bad rows passed over, interval {interval}); season {}{}",
            forecasts.len(),
            series.len(),
            file.path.display(),
            read.rows_ok,
            if seasons.is_empty() { "-".to_string() } else { seasons.join(", ") },
            if failed.is_empty() {
                String::new()
            } else {
                format!("; failed: {}", failed.join("; "))
            }
        ),
        t.elapsed().as_secs_f64(),
    ));
    let summary = BacktestSummary::of(&forecasts);
    let targets: Vec<TargetCheck> =
        TargetCheck::new("max_mase", intent.targets.max_mase, summary.mase, false)
            .into_iter()
            .collect();
    let eval = ForecastEvaluation {
        interval,
        read,
        series: forecasts,
        failed,
        summary,
        targets,
    };
    let passed = eval.passed() && !eval.series.is_empty();
    outcome.stages.push(StageRecord::new(
        Stage::Evaluate,
        if passed {
            Status::Passed
        } else {
            Status::Failed
        },
        eval.targets
            .iter()
            .map(|c| {
                format!(
                    "{} {:.3} {} {}",
                    c.name,
                    c.measured,
                    if c.passed { "meets" } else { "misses" },
                    c.target
                )
            })
            .chain(std::iter::once(eval.line()))
            .collect::<Vec<_>>()
            .join("; "),
        0.0,
    ));
    let t = Instant::now();
    if eval.series.is_empty() || !(passed || force) {
        let why = if eval.series.is_empty() {
            "no series could be forecast; nothing deployed"
        } else {
            "the backtest missed a target; nothing deployed (use --force to deploy anyway)"
        };
        outcome.stages.push(StageRecord::new(
            Stage::Deploy,
            Status::Skipped,
            why.into(),
            0.0,
        ));
    } else {
        let rows: usize = eval.series.iter().map(|f| f.forecast.len()).sum();
        let mut errors = Vec::new();
        for d in &intent.distribute {
            let written = match d {
                SinkConfig::Forecast(cfg) => write_forecasts(&cfg.0, &eval.series),
                SinkConfig::Stdout(cfg) => print_forecasts(cfg.limit, &eval.series),
                other => Err(EngineError::Output(format!(
                    "a `{}` sink takes alerts; forecasts go to a `forecast` sink",
                    other.name()
                ))),
            };
            if let Err(e) = written {
                errors.push(e.to_string());
            }
        }
        outcome.stages.push(StageRecord::new(
            Stage::Deploy,
            if errors.is_empty() {
                Status::Passed
            } else {
                Status::Failed
            },
            format!(
                "{rows} forecast rows ({} series × {} steps, {:.0} % intervals) delivered to {} sink(s){}",
                eval.series.len(),
                eval.series.first().map_or(0, |f| f.forecast.len()),
                eval.series.first().map_or(0.0, |f| f.forecast.level * 100.0),
                intent.distribute.len(),
                if errors.is_empty() {
                    String::new()
                } else {
                    format!("; errors: {}", errors.join("; "))
                }
            ),
            t.elapsed().as_secs_f64(),
        ));
    }
    outcome.forecast = Some(eval);
    Ok(())
}

/// Prints forecast rows as an aligned table on standard output, at most `limit` (0: all).
/// Returns the rows printed.
fn print_forecasts(limit: usize, forecasts: &[SeriesForecast]) -> Result<usize, EngineError> {
    let total: usize = forecasts.iter().map(|f| f.forecast.len()).sum();
    let shown = if limit == 0 { total } else { limit.min(total) };
    let mut out = std::io::stdout().lock();
    let io = |e: std::io::Error| EngineError::Output(format!("stdout: {e}"));
    writeln!(
        out,
        "{:<20} {:<16} {:<20} {:>12} {:>12} {:>12}",
        "time", "entity", "field", "forecast", "lower", "upper"
    )
    .map_err(io)?;
    for r in forecasts.iter().flat_map(SeriesForecast::rows).take(shown) {
        writeln!(
            out,
            "{:<20} {:<16} {:<20} {:>12.3} {:>12.3} {:>12.3}",
            r.time.to_string(),
            r.entity,
            r.field,
            r.forecast,
            r.lower,
            r.upper
        )
        .map_err(io)?;
    }
    if shown < total {
        writeln!(out, "… {} more rows", total - shown).map_err(io)?;
    }
    Ok(shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(entity: &str, times: &[i64], v: &[f64]) -> Batch {
        let mut b = Batch::new(1);
        for (t, x) in times.iter().zip(v) {
            b.push(Entity::new(entity), Timestamp(*t), &[*x]);
        }
        b
    }

    #[test]
    fn aligns_sorts_averages_and_leaves_gaps() {
        let m = 60_000;
        // Out of order, a duplicate minute, a missing minute, a NaN.
        let b = rows(
            "a",
            &[2 * m, 0, m, m, 4 * m, 5 * m],
            &[3.0, 1.0, 2.0, 4.0, f64::NAN, 6.0],
        );
        let (s, interval) = series_from_batches(&[b], &["x".into()], None).unwrap();
        assert_eq!(interval, Interval::from_minutes(1));
        assert_eq!(s.len(), 1);
        let v = &s[0].values;
        assert_eq!(&v[..3], &[1.0, 3.0, 3.0]);
        assert!(v[3].is_nan() && v[4].is_nan());
        assert_eq!(v[5], 6.0);
        assert_eq!(s[0].missing(), 2);
        assert_eq!(s[0].time(6), Timestamp(6 * m));
    }

    #[test]
    fn refuses_a_grid_too_large_or_an_unknown_interval() {
        let b = rows(
            "a",
            &[0, 1, 2, 3, 10_000_000_000],
            &[1.0, 2.0, 3.0, 4.0, 5.0],
        );
        let e = series_from_batches(&[b], &["x".into()], None).unwrap_err();
        assert!(e.to_string().contains("more than"), "{e}");
        let b = rows("a", &[5], &[1.0]);
        assert!(series_from_batches(&[b], &["x".into()], None).is_err());
    }

    #[test]
    fn short_series_forecast_without_a_backtest() {
        let s = Series {
            entity: Entity::new("a"),
            field: "x".into(),
            start: Timestamp(0),
            interval: Interval::from_minutes(60),
            values: (0..20).map(f64::from).collect(),
        };
        let f =
            forecast_series(&s, &ForecasterConfig::default(), &ForecastPolicy::default()).unwrap();
        assert!(f.backtest.is_none());
        assert!(
            f.note.as_deref().unwrap_or("").contains("no backtest"),
            "{:?}",
            f.note
        );
        assert_eq!(f.forecast.len(), 24);
        assert_eq!(f.times[0], Timestamp(20 * 3_600_000));
        assert!(f
            .rows()
            .all(|r| r.lower <= r.forecast && r.forecast <= r.upper));
        let empty = Series {
            values: vec![f64::NAN; 5],
            ..s
        };
        let e = forecast_series(
            &empty,
            &ForecasterConfig::default(),
            &ForecastPolicy::default(),
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("a/x: "), "{e}");
    }
}
