//! `ai4ict forecast`: forecasts of the series in a user's file, without writing an intent.
//!
//! Reads a CSV or JSON-lines file of `(entity, time, fields…)` rows, or a NAB-style
//! `timestamp,value` CSV (one entity named after the file), aligns each entity's rows to the
//! interval, finds each series' season from the data, backtests the model against seasonal
//! naive by rolling origin, prints the scores, and writes the next `horizon` points with
//! interval bounds (`forecast.csv` or `forecast.jsonl`) and a plot page (`forecast.html`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use ai4ict_connectors::{FileFormat, FileSinkConfig, WriteMode};
use ai4ict_core::{Batch, Interval};
use ai4ict_engine::forecast_run::{
    forecast_all, series_from_batches, write_forecasts, BacktestSummary, Series, SeriesForecast,
};
use ai4ict_eval::svg::{escape, forecast_chart, ForecastPlot};
use ai4ict_forecast::{ForecasterConfig, Method, SeasonSource};
use ai4ict_intent::{ForecastPolicy, MAX_FORECAST_HORIZON};
use anyhow::{bail, Context};
use clap::ValueEnum;

use super::input::{next, open, print_errors, print_notes, OnErrorArg, Spec};

/// Observed points shown before the forecast in each plot, in horizons.
const PLOT_HORIZONS: usize = 6;

/// Forecast the series of a CSV or JSON-lines file, with intervals and a backtest.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The telemetry: CSV or JSON lines with an entity, a time and numeric fields, or a CSV
    /// with only a time and numeric columns (NAB style; the file is then one entity).
    #[arg(long)]
    input: PathBuf,
    /// Fields to forecast (repeat or separate with commas); by default every numeric column.
    #[arg(long = "field", value_delimiter = ',')]
    fields: Vec<String>,
    /// The entity column; by default inferred.
    #[arg(long)]
    entity_column: Option<String>,
    /// The time column; by default inferred.
    #[arg(long)]
    time_column: Option<String>,
    /// Time zone of times written without a UTC offset (`2024-03-01 08:00`): an IANA name
    /// such as Europe/Berlin, or UTC (the default). Times with an offset are exact.
    #[arg(long)]
    timezone: Option<String>,
    /// Steps ahead; by default one season (24 when the series has none).
    #[arg(long, default_value_t = 0)]
    horizon: usize,
    /// Probability that the prediction interval holds the value, in (0, 1).
    #[arg(long, default_value_t = 0.9)]
    level: f64,
    /// Forecasting method: auto, ets, mstl, linear or seasonal_naive.
    #[arg(long, default_value = "auto", value_parser = parse_method)]
    model: Method,
    /// Seasonal period in samples (1: none), or `auto` to find it from the data.
    #[arg(long, default_value = "auto", value_parser = parse_season)]
    season: Season,
    /// Rolling-origin backtest windows (forecast origins one horizon apart at the end).
    #[arg(long, default_value_t = 4)]
    windows: usize,
    /// Sampling interval (e.g. 30m); by default the median gap between an entity's rows.
    #[arg(long)]
    interval: Option<Interval>,
    /// Folder for forecast.csv (or .jsonl) and forecast.html (created if needed).
    #[arg(long, default_value = "out/forecast")]
    out: PathBuf,
    /// Format of the forecast file.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    format: Format,
    /// Overwrite output files that already exist.
    #[arg(long)]
    force: bool,
    /// What to do with a bad row.
    #[arg(long, value_enum, default_value_t = OnErrorArg::Skip)]
    on_error: OnErrorArg,
    /// Most series plotted.
    #[arg(long, default_value_t = 12)]
    plots: usize,
}

/// `--format` values.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    /// CSV: entity,field,time,step,forecast,lower,upper,level.
    Csv,
    /// JSON lines with the same keys (times in milliseconds since the epoch).
    Jsonl,
}

/// `--season`: a period, or found from the data.
#[derive(Clone, Copy, Debug)]
struct Season(Option<usize>);

fn parse_season(s: &str) -> Result<Season, String> {
    if s.eq_ignore_ascii_case("auto") {
        return Ok(Season(None));
    }
    match s.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(Season(Some(n))),
        _ => Err(format!(
            "`{s}` is not a season: give a period in samples (1 or more) or `auto`"
        )),
    }
}

fn parse_method(s: &str) -> Result<Method, String> {
    serde_json::from_value(serde_json::Value::String(s.replace('-', "_"))).map_err(|_| {
        format!("`{s}` is not a method; choose auto, ets, mstl, linear or seasonal_naive")
    })
}

/// The season column of the table: the period and how it was found.
fn season_cell(f: &SeriesForecast) -> String {
    match f.season.source {
        SeasonSource::Calendar(what) => format!("{}({what})", f.season.period),
        SeasonSource::Peak => format!("{}(acf)", f.season.period),
        SeasonSource::Given => format!("{}(given)", f.season.period),
        SeasonSource::None => "1(none)".into(),
    }
}

/// The scores table: one row per series.
fn table(forecasts: &[SeriesForecast]) -> String {
    let width = forecasts
        .iter()
        .map(|f| f.entity.chars().count() + f.field.chars().count() + 1)
        .max()
        .unwrap_or(6)
        .clamp(6, 48);
    let mut t = String::new();
    let _ = writeln!(
        t,
        "  {:<width$} {:>7} {:>10} {:>7} {:>7} {:>6} {:>7} {:>6} {:>6}  model",
        "series", "points", "season", "MASE", "naive", "ratio", "sMAPE%", "cover", "naive"
    );
    for f in forecasts {
        let name: String = format!("{}/{}", f.entity, f.field)
            .chars()
            .take(width)
            .collect();
        let _ = match &f.backtest {
            Some(b) => writeln!(
                t,
                "  {name:<width$} {:>7} {:>10} {:>7.3} {:>7.3} {:>6.3} {:>7.2} {:>6.3} {:>6.3}  {}",
                f.points,
                season_cell(f),
                b.model.mase,
                b.naive.mase,
                b.mase_ratio(),
                b.model.smape,
                b.model.coverage,
                b.naive.coverage,
                f.model
            ),
            None => writeln!(
                t,
                "  {name:<width$} {:>7} {:>10} {:>7} {:>7} {:>6} {:>7} {:>6} {:>6}  {}",
                f.points,
                season_cell(f),
                "-",
                "-",
                "-",
                "-",
                "-",
                "-",
                f.model
            ),
        };
    }
    t
}

/// The plot page: the summary, the scores table, one chart per plotted series.
fn page(title: &str, summary: &str, table: &str, plotted: &[(&Series, &SeriesForecast)]) -> String {
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    let _ = write!(h, "<title>{}</title>", escape(title));
    h.push_str(
        "<style>body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}\
         h1{font-size:1.3em}h2{font-size:1.05em;margin:1.4em 0 .3em}\
         p{max-width:60em}svg{max-width:100%;height:auto}</style></head><body>\n",
    );
    let _ = write!(
        h,
        "<h1>{}</h1>\n<p>{}</p>\n<pre>{}</pre>\n",
        escape(title),
        escape(summary),
        escape(table)
    );
    for (s, f) in plotted {
        let tail = (PLOT_HORIZONS * f.forecast.len())
            .max(48)
            .min(s.values.len());
        let from = s.values.len() - tail;
        let times: Vec<_> = (from..s.values.len()).map(|i| s.time(i)).collect();
        let title = format!(
            "{} — {} (season {}, {})",
            f.entity, f.field, f.season, f.model
        );
        let _ = writeln!(h, "<h2>{}</h2>", escape(&title));
        h.push_str(&forecast_chart(
            &ForecastPlot {
                title: &format!("{} — {}", f.entity, f.field),
                times: &times,
                values: &s.values[from..],
                forecast_times: &f.times,
                mean: &f.forecast.mean,
                lower: &f.forecast.lower,
                upper: &f.forecast.upper,
                level: f.forecast.level,
            },
            1000.0,
            320.0,
        ));
        h.push('\n');
    }
    h.push_str("</body></html>\n");
    h
}

/// Refuses to replace `path` unless `force`.
fn check_free(path: &Path, force: bool) -> anyhow::Result<()> {
    if path.exists() && !force {
        bail!(
            "{} already exists; pass --force to overwrite it, or choose another --out folder",
            path.display()
        );
    }
    Ok(())
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<()> {
    let started = Instant::now();
    if !(args.level > 0.0 && args.level < 1.0) {
        bail!(
            "--level must lie strictly between 0 and 1, got {}",
            args.level
        );
    }
    if args.windows == 0 {
        bail!("--windows must be at least 1");
    }
    if args.horizon > MAX_FORECAST_HORIZON {
        bail!(
            "--horizon {} is more than {MAX_FORECAST_HORIZON}",
            args.horizon
        );
    }
    let format = match args.format {
        Format::Csv => FileFormat::Csv,
        Format::Jsonl => FileFormat::Jsonl,
    };
    let data_path = args.out.join(format!("forecast.{}", format.extension()));
    let plot_path = args.out.join("forecast.html");
    check_free(&data_path, args.force)?;
    check_free(&plot_path, args.force)?;

    let mut opened = open(&Spec {
        input: &args.input,
        entity: args.entity_column.as_deref(),
        time: args.time_column.as_deref(),
        timezone: args.timezone.as_deref(),
        fields: &args.fields,
        on_error: args.on_error.into(),
        quarantine_mode: WriteMode::forced(args.force),
        hint: " (name columns with --entity-column, --time-column, --field)",
    })?;
    let fields: Vec<String> = opened.source.fields().to_vec();
    let mut batches: Vec<Batch> = Vec::new();
    let mut read_error = None;
    loop {
        match next(&mut opened) {
            Ok(Some(b)) => batches.push(b),
            Ok(None) => break,
            Err(e) => {
                read_error = Some(e);
                break;
            }
        }
    }
    print_errors(opened.source.report(), &opened.rename);
    print_notes(&opened);
    if let Some(e) = read_error {
        return Err(e.context("reading stopped at a bad row (--on-error fail)"));
    }
    let input = args.input.display().to_string();
    if fields.is_empty() {
        bail!("{input}: no data, or no numeric columns to forecast (name them with --field)");
    }
    let rows: usize = batches.iter().map(Batch::len).sum();
    if rows == 0 {
        bail!("{input}: no readable rows to forecast");
    }
    let (series, interval) = series_from_batches(&batches, &fields, args.interval)
        .map_err(|e| anyhow::anyhow!("{input}: {e}"))?;
    drop(batches);
    let policy = ForecastPolicy {
        horizon: args.horizon,
        level: args.level,
        season: args.season.0,
        backtest_windows: args.windows,
    };
    let results = forecast_all(&series, &ForecasterConfig::with_method(args.model), &policy);
    let mut forecasts = Vec::new();
    let mut plotted = Vec::new();
    let mut failed = Vec::new();
    for (s, r) in series.iter().zip(results) {
        match r {
            Ok(f) => {
                forecasts.push(f);
                plotted.push(s);
            }
            Err(e) => failed.push(e.to_string()),
        }
    }
    let entities = {
        let mut e: Vec<&str> = series.iter().map(|s| s.entity.name()).collect();
        e.dedup();
        e.len()
    };
    let entity_text = match &opened.single_entity {
        Some(name) => format!("1 entity (`{name}`: the file has no entity column)"),
        None if entities == 1 => "1 entity".to_string(),
        None => format!("{entities} entities"),
    };
    let summary = format!(
        "{rows} rows of {entity_text}, fields [{}], interval {interval}; model {}, {:.0} % intervals, backtest of up to {} windows against seasonal naive (MASE scaled by in-sample seasonal naive)",
        fields.join(", "),
        args.model.as_str(),
        args.level * 100.0,
        args.windows
    );
    outln!("forecast {input}: {summary}");
    let table = table(&forecasts);
    print!("{table}");
    let mean = BacktestSummary::of(&forecasts);
    if mean.series > 0 {
        let ratio = mean.mase / mean.naive_mase;
        outln!(
            "  {}: MASE {:.3} against seasonal naive's {:.3} on the same windows, ratio {ratio:.3} ({}); {:.0} % interval coverage {:.3} (seasonal naive {:.3})",
            if mean.series == 1 {
                "backtest".to_string()
            } else {
                format!("mean over {} series", mean.series)
            },
            mean.mase,
            mean.naive_mase,
            if ratio < 1.0 {
                "below 1: better than seasonal naive"
            } else {
                "not better than seasonal naive"
            },
            args.level * 100.0,
            mean.coverage,
            mean.naive_coverage
        );
    }
    for f in &forecasts {
        if let Some(note) = &f.note {
            outln!("  {}/{}: {note}", f.entity, f.field);
        }
    }
    for e in &failed {
        eprintln!("  not forecast: {e}");
    }
    if forecasts.is_empty() {
        bail!("{input}: no series could be forecast");
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let written = write_forecasts(
        &FileSinkConfig {
            path: data_path.clone(),
            format: Some(format),
            mode: WriteMode::forced(args.force),
        },
        &forecasts,
    )?;
    let pairs: Vec<(&Series, &SeriesForecast)> = plotted
        .into_iter()
        .zip(&forecasts)
        .take(args.plots)
        .collect();
    let html = page(
        &format!("ai4ict forecast: {input}"),
        &summary,
        &table,
        &pairs,
    );
    std::fs::write(&plot_path, html).with_context(|| format!("writing {}", plot_path.display()))?;
    outln!(
        "  wrote {} ({written} rows: forecast with lower and upper bounds) and {} in {:.2} s",
        data_path.display(),
        plot_path.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
