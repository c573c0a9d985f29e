//! `ai4ict bench forecast`: our forecasters' accuracy and fit time on NAB's nyc_taxi and on
//! sandbox cell traffic, by rolling-origin backtest, side by side with statsforecast's AutoETS
//! and MSTL measured in the same run when their Python environment is present.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ai4ict_core::{Interval, Timestamp};
use ai4ict_eval::backtest::{rolling_origin, RollingOrigin, WindowForecast};
use ai4ict_forecast::{detect_season, Forecaster, ForecasterConfig, Method};
use ai4ict_sandbox::{Network, ScenarioConfig};
use serde::{Deserialize, Serialize};

/// Why the forecast benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A setting is out of range.
    #[error("invalid bench settings: {0}")]
    InvalidConfig(String),
    /// The sandbox could not build the scenario.
    #[error(transparent)]
    Sandbox(#[from] ai4ict_sandbox::SandboxError),
    /// A benchmark data file cannot be used; the message names the line or column at fault.
    #[error("{path}: {message}")]
    Data {
        /// The file.
        path: String,
        /// What is wrong, and where.
        message: String,
    },
}

/// What to benchmark.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchConfig {
    /// NAB's nyc_taxi.csv (30-minute taxi demand), or another `time,value…` CSV; skipped when
    /// absent. Its season is found from the data.
    pub nyc_taxi: PathBuf,
    /// The column of that file to forecast; by default `value`, else its only numeric column.
    pub field: Option<String>,
    /// Sandbox cells whose offered load is benchmarked (0 skips the sandbox).
    pub sandbox_cells: u32,
    /// Days of sandbox traffic.
    pub sandbox_days: u32,
    /// Rolling-origin windows per series (each one season ahead).
    pub windows: usize,
    /// Interval level, in (0, 1).
    pub level: f64,
    /// Our methods to run.
    pub methods: Vec<Method>,
    /// Python interpreter of the peer environment (made by `scripts/peer-venv-forecast.sh`);
    /// peers are skipped when it does not exist.
    pub peer_python: PathBuf,
    /// The peer script (`scripts/peer_forecast.py`).
    pub peer_script: PathBuf,
}

impl Default for BenchConfig {
    fn default() -> Self {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default();
        let venv = std::env::var_os("AI4ICT_PEERS_FORECAST")
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".cache/ai4ict/peers-forecast"));
        Self {
            nyc_taxi: PathBuf::from("../shared/data/nab/data/realKnownCause/nyc_taxi.csv"),
            field: None,
            sandbox_cells: 4,
            sandbox_days: 21,
            windows: 2,
            level: 0.8,
            methods: vec![
                Method::SeasonalNaive,
                Method::Ets,
                Method::Mstl,
                Method::Linear,
                Method::Auto,
            ],
            peer_python: venv.join("bin/python"),
            peer_script: PathBuf::from("scripts/peer_forecast.py"),
        }
    }
}

/// One method on one data set: metrics averaged over its series (each series' metrics
/// averaged over its windows), fit time summed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchRow {
    /// The file's name (`nyc_taxi`) or `sandbox`.
    pub dataset: String,
    /// Seasonal period in samples (found from the data for a file; one day for the sandbox).
    pub season: usize,
    /// Method name (ours, or `statsforecast.AutoETS` / `statsforecast.MSTL`).
    pub method: String,
    /// Series scored.
    pub series: usize,
    /// Windows scored in all.
    pub windows: usize,
    /// Mean MASE.
    pub mase: f64,
    /// Mean sMAPE, percent.
    pub smape: f64,
    /// Mean RMSE.
    pub rmse: f64,
    /// Mean interval coverage.
    pub coverage: f64,
    /// Mean MSIS.
    pub msis: f64,
    /// Seconds of fit + predict over all windows and series.
    pub fit_seconds: f64,
}

/// The benchmark's outcome.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    /// One row per (data set, method).
    pub rows: Vec<BenchRow>,
    /// The peer library and version, or why peers were not run.
    pub peer: String,
    /// Interval level used.
    pub level: f64,
}

impl BenchReport {
    /// The row of a method on a data set.
    pub fn row(&self, dataset: &str, method: &str) -> Option<&BenchRow> {
        self.rows
            .iter()
            .find(|r| r.dataset == dataset && r.method == method)
    }
}

impl fmt::Display for BenchReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "forecast benchmark (rolling origin, one season ahead, {:.0}% intervals); peers: {}",
            self.level * 100.0,
            self.peer
        )?;
        writeln!(
            f,
            "{:<9} {:>4} {:<22} {:>6} {:>7} {:>7} {:>10} {:>6} {:>7} {:>9} {:>8}",
            "dataset",
            "m",
            "method",
            "series",
            "MASE",
            "sMAPE",
            "RMSE",
            "cover",
            "MSIS",
            "fit s",
            "×AutoETS"
        )?;
        for r in &self.rows {
            let peer = self
                .row(&r.dataset, "statsforecast.AutoETS")
                .map(|p| p.fit_seconds);
            let speed = match peer {
                Some(p) if r.fit_seconds > 0.0 => format!("{:.1}", p / r.fit_seconds),
                _ => "-".into(),
            };
            writeln!(
                f,
                "{:<9} {:>4} {:<22} {:>6} {:>7.3} {:>7.2} {:>10.2} {:>6.3} {:>7.2} {:>9.3} {:>8}",
                r.dataset,
                r.season,
                r.method,
                r.series,
                r.mase,
                r.smape,
                r.rmse,
                r.coverage,
                r.msis,
                r.fit_seconds,
                speed
            )?;
        }
        Ok(())
    }
}

struct Dataset {
    name: String,
    season: usize,
    series: Vec<(String, Vec<f64>)>,
}

/// A file's values and the median gap between their times (unknown without a time column).
type FileSeries = (Vec<f64>, Option<Interval>);

/// Reads column `field` (by default `value`, else the only column besides the time) of a
/// `time,value…` CSV with a header, and the median gap between its times. `Ok(None)` when the
/// file does not exist; a line that cannot be read is an error naming it.
fn read_file_series(path: &Path, field: Option<&str>) -> Result<Option<FileSeries>, BenchError> {
    let bad = |message: String| BenchError::Data {
        path: path.display().to_string(),
        message,
    };
    let text = match std::fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(bad(e.to_string())),
    };
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return Err(bad("the file is empty".into()));
    };
    let columns: Vec<&str> = header
        .trim_start_matches('\u{feff}')
        .split(',')
        .map(str::trim)
        .collect();
    let time = columns.iter().position(|c| {
        ["timestamp", "time", "ts", "date"].contains(&c.to_ascii_lowercase().as_str())
    });
    let others: Vec<usize> = (0..columns.len()).filter(|&i| Some(i) != time).collect();
    let col = match field {
        Some(f) => columns.iter().position(|c| *c == f),
        None => columns
            .iter()
            .position(|c| *c == "value")
            .or_else(|| (others.len() == 1).then(|| others[0])),
    }
    .ok_or_else(|| {
        bad(format!(
            "{}; its columns are [{}]",
            match field {
                Some(f) => format!("no column `{f}`"),
                None => "no column `value` and more than one other column: choose one with --field"
                    .into(),
            },
            columns.join(", ")
        ))
    })?;
    let mut values = Vec::new();
    let mut gaps = Vec::new();
    let mut last: Option<Timestamp> = None;
    for (i, line) in lines {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let at = |c: usize| cells.get(c).copied().unwrap_or("");
        let v: f64 = at(col).parse().map_err(|_| {
            bad(format!(
                "line {}: column `{}`: {:?} is not a number",
                i + 1,
                columns[col],
                at(col)
            ))
        })?;
        values.push(v);
        if let Some(t) = time.and_then(|c| Timestamp::parse(at(c)).ok()) {
            if let Some(prev) = last.filter(|p| t.0 > p.0) {
                gaps.push(t.0 - prev.0);
            }
            last = Some(t);
        }
    }
    if values.is_empty() {
        return Err(bad("no rows after the header".into()));
    }
    gaps.sort_unstable();
    let interval = gaps.get(gaps.len() / 2).map(|&g| Interval::from_millis(g));
    Ok(Some((values, interval)))
}

/// Windows of one season ahead (24 steps without a season), scaled by the season.
fn spec(season: usize, windows: usize, level: f64) -> RollingOrigin {
    RollingOrigin {
        horizon: if season > 1 { season } else { 24 },
        windows,
        step: 0,
        season,
        level,
    }
}

fn aggregate(
    dataset: &str,
    season: usize,
    method: &str,
    scores: &[ai4ict_eval::backtest::BacktestScores],
) -> BenchRow {
    let ok: Vec<_> = scores.iter().filter(|s| s.windows > 0).collect();
    let mean = |f: &dyn Fn(&ai4ict_eval::backtest::BacktestScores) -> f64| {
        if ok.is_empty() {
            f64::NAN
        } else {
            ok.iter().map(|s| f(s)).sum::<f64>() / ok.len() as f64
        }
    };
    BenchRow {
        dataset: dataset.into(),
        season,
        method: method.into(),
        series: ok.len(),
        windows: ok.iter().map(|s| s.windows).sum(),
        mase: mean(&|s| s.mase),
        smape: mean(&|s| s.smape),
        rmse: mean(&|s| s.rmse),
        coverage: mean(&|s| s.coverage),
        msis: mean(&|s| s.msis),
        fit_seconds: scores.iter().map(|s| s.fit_seconds).sum(),
    }
}

#[derive(Deserialize)]
struct PeerOutput {
    version: String,
    results: Vec<PeerResult>,
}

#[derive(Deserialize)]
struct PeerResult {
    name: String,
    method: String,
    seconds: f64,
    windows: Vec<PeerWindow>,
}

#[derive(Deserialize)]
struct PeerWindow {
    #[serde(default)]
    mean: Vec<f64>,
    #[serde(default)]
    lower: Vec<f64>,
    #[serde(default)]
    upper: Vec<f64>,
    error: Option<String>,
}

/// Runs the peer script on every series; `Err` says why peers were not run.
fn run_peers(config: &BenchConfig, sets: &[Dataset]) -> Result<PeerOutput, String> {
    if !config.peer_python.exists() {
        return Err(format!(
            "not run: {} not found (make it with scripts/peer-venv-forecast.sh)",
            config.peer_python.display()
        ));
    }
    let mut series = Vec::new();
    for d in sets {
        let s = spec(d.season, config.windows, config.level);
        for (name, values) in &d.series {
            let first = values.len().saturating_sub(s.horizon * s.windows);
            let origins: Vec<usize> = (0..s.windows).map(|w| first + w * s.horizon).collect();
            series.push(serde_json::json!({
                "name": format!("{}/{}", d.name, name), "values": values, "season": d.season,
                "horizon": s.horizon, "origins": origins,
            }));
        }
    }
    let job = serde_json::json!({ "level": config.level, "series": series }).to_string();
    let mut child = Command::new(&config.peer_python)
        .arg(&config.peer_script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!(
                "not run: cannot start {}: {e}",
                config.peer_python.display()
            )
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(job.as_bytes())
            .map_err(|e| format!("failed: writing the job: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("failed: {e}"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(format!(
            "failed ({}): {}",
            out.status,
            err.lines().last().unwrap_or("")
        ));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("failed: unreadable output: {e}"))
}

/// Runs the forecast benchmark: each of our methods, then the peers (statsforecast AutoETS
/// and MSTL, when the peer environment exists), on the same rolling-origin windows of
/// nyc_taxi (or another file, its season found from the data) and of sandbox cells' offered
/// load (season one day), scored with the
/// same metrics (MASE, sMAPE, RMSE, coverage, MSIS) and timed in the same run.
pub fn bench_forecast(config: &BenchConfig) -> Result<BenchReport, BenchError> {
    if !(config.level > 0.0 && config.level < 1.0) || config.windows == 0 {
        return Err(BenchError::InvalidConfig(
            "bench: level must be in (0, 1) and windows ≥ 1".into(),
        ));
    }
    let mut sets = Vec::new();
    if let Some((v, interval)) = read_file_series(&config.nyc_taxi, config.field.as_deref())? {
        let name = config
            .nyc_taxi
            .file_stem()
            .map_or("file".into(), |s| s.to_string_lossy().into_owned());
        let season = detect_season(&v, interval)
            .map_err(|e| BenchError::Data {
                path: config.nyc_taxi.display().to_string(),
                message: e.to_string(),
            })?
            .period;
        sets.push(Dataset {
            series: vec![(name.clone(), v)],
            name,
            season,
        });
    }
    if config.sandbox_cells > 0 {
        let net = Network::new(&ScenarioConfig {
            cells: config.sandbox_cells,
            days: config.sandbox_days,
            ..ScenarioConfig::default()
        })?;
        let per_day = (86_400_000 / net.interval().millis().max(1)) as usize;
        let series = (0..net.cells().len())
            .map(|c| {
                (
                    net.cells()[c].name.to_string(),
                    (0..net.steps()).map(|t| net.demand(c, t).dl_mbps).collect(),
                )
            })
            .collect();
        sets.push(Dataset {
            name: "sandbox".into(),
            season: per_day,
            series,
        });
    }
    let mut rows = Vec::new();
    for d in &sets {
        let s = spec(d.season, config.windows, config.level);
        for &method in &config.methods {
            let f = ForecasterConfig::with_method(method);
            let scores: Vec<_> = d
                .series
                .iter()
                .filter_map(|(_, y)| {
                    rolling_origin(y, &s, |train: &[f64]| {
                        let fc = f.fit(train, d.season)?.predict(s.horizon, s.level)?;
                        Ok::<_, ai4ict_forecast::ForecastError>(WindowForecast {
                            mean: fc.mean,
                            lower: fc.lower,
                            upper: fc.upper,
                        })
                    })
                    .ok()
                })
                .collect();
            rows.push(aggregate(&d.name, d.season, method.as_str(), &scores));
        }
    }
    let peer = match run_peers(config, &sets) {
        Ok(out) => {
            for d in &sets {
                let s = spec(d.season, config.windows, config.level);
                for method in ["statsforecast.AutoETS", "statsforecast.MSTL"] {
                    let mut scores = Vec::new();
                    for (name, y) in &d.series {
                        let full = format!("{}/{}", d.name, name);
                        let Some(r) = out
                            .results
                            .iter()
                            .find(|r| r.name == full && r.method == method)
                        else {
                            continue;
                        };
                        let mut windows = r.windows.iter();
                        if let Ok(mut sc) =
                            rolling_origin(y, &s, |_: &[f64]| match windows.next() {
                                Some(PeerWindow {
                                    error: None,
                                    mean,
                                    lower,
                                    upper,
                                }) => Ok(WindowForecast {
                                    mean: mean.clone(),
                                    lower: lower.clone(),
                                    upper: upper.clone(),
                                }),
                                Some(PeerWindow { error: Some(e), .. }) => Err(e.clone()),
                                None => Err("missing window".to_string()),
                            })
                        {
                            sc.fit_seconds = r.seconds;
                            scores.push(sc);
                        }
                    }
                    if !scores.is_empty() {
                        rows.push(aggregate(&d.name, d.season, method, &scores));
                    }
                }
            }
            format!("statsforecast {}", out.version)
        }
        Err(why) => why,
    };
    Ok(BenchReport {
        rows,
        peer,
        level: config.level,
    })
}
