//! `ai4ict detect`: anomaly detection on a file of telemetry, without writing an intent.
//!
//! Reads a CSV or JSON-lines file of `(entity, time, fields…)` rows, or a NAB-style
//! `timestamp,value` CSV without an entity column (then the whole file is one entity named
//! after the file), scores every row with one streaming detector per entity, raises alerts with
//! the alerting policy of the pipelines (score at or above a threshold for k intervals), and
//! writes `scores.csv`, `alerts.csv` and `plot.html`. Bad rows are skipped (or quarantined, or
//! end the run) and reported with file and line. With `--labels`, the alerts are scored against
//! the operator's labelled incidents (event precision, recall, F1 and time to detect per kind;
//! Y.3181 §8.2.1.2 evaluation KPIs), printed and written to `evaluation.json`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use ai4ict_connectors::read_labels;
use ai4ict_connectors::{
    in_time_order, FileFormat, FileSinkConfig, ScoreWriter, SinkConfig, WriteMode, MAX_SORTED_ROWS,
};
use ai4ict_core::{Alert, Batch, Entity, Incident, Interval, Timestamp};
use ai4ict_engine::nodes::{ModelNode, PolicyNode, Scored};
use ai4ict_eval::metrics::{event_metrics, EventMetrics};
use ai4ict_eval::report::{plot_order, PlotSeries};
use ai4ict_eval::svg::{escape, kpi_chart};
use ai4ict_intent::AlertPolicy;
use anyhow::{bail, Context};

use super::detectors;
use super::input::{next, open, print_errors, print_notes, OnErrorArg, Opened, Spec};
use crate::progress::Progress;

/// Rows read before the sampling interval is estimated and scoring starts.
const INTERVAL_SAMPLE_ROWS: usize = 10_000;
/// Values (times, KPIs and scores) kept in memory for the plots, over all entities; past it,
/// the plots stop growing.
const PLOT_VALUE_LIMIT: usize = 8_000_000;
/// Entities with neither alerts nor labels plotted beside the busy ones, for comparison.
const QUIET_PLOTS: usize = 2;
/// Interval used when no entity has two distinct times.
const FALLBACK_INTERVAL: Interval = Interval::from_minutes(5);

/// Detect anomalies in a CSV or JSON-lines file and plot them.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The telemetry: CSV or JSON lines with an entity, a time and numeric fields, or a CSV
    /// with only a time and numeric columns (NAB style; the file is then one entity).
    #[arg(long)]
    input: PathBuf,
    /// Detector (each is described in `ai4ict intent schema` and crates/anomaly/README.md).
    #[arg(long, default_value = "auto", ignore_case = true, value_parser = super::detectors::choices(false))]
    detector: String,
    /// Alert when the score is at or above this, in (0, 1].
    #[arg(long, default_value_t = 0.9)]
    threshold: f64,
    /// … for this many consecutive intervals.
    #[arg(long = "for", default_value_t = 2)]
    for_intervals: u32,
    /// … or at once when one score is at or above this (`off`: never); a reading of exactly 0
    /// alone is not enough (one row of zeros is a counter reset)
    #[arg(long, default_value = "0.97")]
    at_once: String,
    /// After an alert, no new alert for the same entity within this time (e.g. 1h, 0s for none).
    #[arg(long, default_value = "1h")]
    suppress: String,
    /// Folder for scores.csv, alerts.csv and plot.html (created if needed).
    #[arg(long, default_value = "out/detect")]
    out: PathBuf,
    /// Fields to score, comma-separated; by default every numeric column.
    #[arg(long, value_delimiter = ',')]
    fields: Vec<String>,
    /// The entity column; by default inferred.
    #[arg(long)]
    entity: Option<String>,
    /// The time column; by default inferred.
    #[arg(long)]
    time: Option<String>,
    /// Time zone of times written without a UTC offset (`2024-03-01 08:00`): an IANA name
    /// such as Europe/Berlin, or UTC (the default). Times with an offset are exact.
    #[arg(long)]
    timezone: Option<String>,
    /// Sampling interval (e.g. 5m); by default the median gap between an entity's rows.
    #[arg(long)]
    interval: Option<Interval>,
    /// What to do with a bad row.
    #[arg(long, value_enum, default_value_t = OnErrorArg::Skip)]
    on_error: OnErrorArg,
    /// No progress display (it is shown on stderr only when stderr is a terminal).
    #[arg(long)]
    quiet: bool,
    /// Most entities plotted (those with the most alerts and labels first, then two quiet
    /// ones to compare with).
    #[arg(long, default_value_t = 12)]
    plots: usize,
    /// Replace an existing quarantine file (by default it is refused, never overwritten).
    #[arg(long)]
    force: bool,
    /// Labelled incidents to score the alerts against: labels.json as `ai4ict sandbox
    /// generate` writes it, a CSV with the header `entity,start,end,kind`, or NAB's
    /// combined_windows.json for a file that is one series.
    #[arg(long)]
    labels: Option<PathBuf>,
}

/// Grace after a labelled incident's end during which an alert still counts, in intervals (as
/// the MLFO's evaluation).
const GRACE_INTERVALS: i64 = 4;

/// The alerts scored against the labels that concern the input: labels of entities the input
/// has, overlapping the time it covers. Returns the metrics, the labels scored and a note on
/// those left out.
fn score_labels(
    labels: &[Incident],
    collected: &Collected,
    interval: Interval,
) -> (EventMetrics, Vec<Incident>, Option<String>) {
    let (first, last) = (
        collected.first.unwrap_or(Timestamp(i64::MAX)),
        collected.last.unwrap_or(Timestamp(i64::MIN)),
    );
    let (scored, left): (Vec<Incident>, Vec<Incident>) = labels.iter().cloned().partition(|i| {
        collected.entities.contains_key(&i.entity) && i.end >= first && i.start <= last
    });
    let metrics = event_metrics(
        &collected.alerts,
        &scored,
        GRACE_INTERVALS * interval.millis(),
    );
    let note = (!left.is_empty()).then(|| {
        let other_entity = left
            .iter()
            .filter(|i| !collected.entities.contains_key(&i.entity))
            .count();
        format!(
            "{} of {} labels not scored: {other_entity} name an entity the input does not have, {} lie outside its time span",
            left.len(),
            labels.len(),
            left.len() - other_entity
        )
    });
    (metrics, scored, note)
}

/// One entity's data kept for its plot: times, one column per field, and scores.
struct PlotData {
    order: usize,
    times: Vec<Timestamp>,
    values: Vec<Vec<f64>>,
    scores: Vec<f64>,
}

/// Everything the run produced that the summary and the plots need.
#[derive(Default)]
struct Collected {
    rows: u64,
    first: Option<Timestamp>,
    last: Option<Timestamp>,
    entities: HashMap<Entity, usize>,
    plots: HashMap<Entity, PlotData>,
    plot_values: usize,
    plots_cut: bool,
    alerts: Vec<Alert>,
}

/// Reads batches into `batches` until they hold `limit` rows or more or the file ends; the
/// error of a row that stopped the read (`--on-error fail`), if one did.
fn read_until(
    opened: &mut Opened,
    batches: &mut Vec<Batch>,
    rows: &mut usize,
    limit: usize,
) -> Option<anyhow::Error> {
    while *rows < limit {
        match next(opened) {
            Ok(Some(b)) => {
                *rows += b.len();
                batches.push(b);
            }
            Ok(None) => return None,
            Err(e) => return Some(e),
        }
    }
    None
}

/// The sampling interval: the median gap between consecutive rows of the same entity.
fn estimate_interval(batches: &[Batch]) -> Option<Interval> {
    let mut last: HashMap<&Entity, Timestamp> = HashMap::new();
    let mut gaps = Vec::new();
    for b in batches {
        for (e, t, _) in b.rows() {
            if let Some(prev) = last.insert(e, t) {
                let g = t.0.saturating_sub(prev.0);
                if g > 0 {
                    gaps.push(g);
                }
            }
        }
    }
    detectors::median_gap(&mut gaps)
}

impl Collected {
    /// Records one scored batch: scores to the writer, plot data, counts.
    fn add(
        &mut self,
        scored: &Scored,
        fields: &[String],
        writer: &mut ScoreWriter,
    ) -> anyhow::Result<()> {
        for (i, (entity, t, values)) in scored.batch.rows().enumerate() {
            let score = scored.scores.get(i).copied().unwrap_or_default();
            let field = score
                .field
                .and_then(|f| fields.get(f))
                .map_or("", String::as_str);
            writer.write(entity, t, score.value, field)?;
            self.rows += 1;
            self.first = Some(self.first.map_or(t, |f| f.min(t)));
            self.last = Some(self.last.map_or(t, |l| l.max(t)));
            let order = self.entities.len();
            self.entities.entry(entity.clone()).or_insert(order);
            if self.plots_cut {
                continue;
            }
            if self.plot_values >= PLOT_VALUE_LIMIT {
                self.plots_cut = true;
                continue;
            }
            let plot = match self.plots.get_mut(entity) {
                Some(p) => p,
                None => self.plots.entry(entity.clone()).or_insert(PlotData {
                    order,
                    times: Vec::new(),
                    values: vec![Vec::new(); values.len()],
                    scores: Vec::new(),
                }),
            };
            plot.times.push(t);
            for (col, v) in plot.values.iter_mut().zip(values) {
                col.push(*v);
            }
            plot.scores.push(score.value);
            self.plot_values += values.len() + 2;
        }
        Ok(())
    }
}

/// The page with one chart per plotted entity.
fn plot_page(
    title: &str,
    summary: &str,
    collected: &Collected,
    labels: &[Incident],
    fields: &[String],
    max_plots: usize,
    (threshold, grace_ms): (f64, i64),
) -> String {
    let mut alerts_of: HashMap<&str, Vec<&Alert>> = HashMap::new();
    for a in &collected.alerts {
        alerts_of.entry(a.entity.name()).or_default().push(a);
    }
    let mut labels_of: HashMap<&str, usize> = HashMap::new();
    for l in labels {
        *labels_of.entry(l.entity.name()).or_default() += 1;
    }
    let busy = |e: &Entity| {
        alerts_of.get(e.name()).map_or(0, Vec::len) + labels_of.get(e.name()).copied().unwrap_or(0)
    };
    // With labels, missed incidents and false alerts come first (what an operator inspects
    // first), then the busiest entities.
    let first = plot_order(&collected.alerts, labels, grace_ms, max_plots);
    let rank = |e: &Entity| first.iter().position(|f| f == e).unwrap_or(usize::MAX);
    let mut chosen: Vec<(&Entity, &PlotData)> = collected.plots.iter().collect();
    chosen.sort_by_key(|(e, p)| (rank(e), std::cmp::Reverse(busy(e)), p.order));
    // The entities with the most alerts and labels, and a few quiet ones to compare with.
    let quiet_at = chosen.partition_point(|(e, _)| busy(e) > 0);
    let quiet = (chosen.len() - quiet_at)
        .min(QUIET_PLOTS)
        .min(max_plots / 2);
    let shown_busy = quiet_at.min(max_plots - quiet);
    let quiet_shown = (max_plots - shown_busy).min(chosen.len() - quiet_at);
    chosen.drain(shown_busy..quiet_at);
    chosen.truncate(shown_busy + quiet_shown);
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    h.push_str(&format!("<title>{}</title>", escape(title)));
    h.push_str(
        "<style>body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}\
         h1{font-size:1.3em}h2{font-size:1.05em;margin:1.4em 0 .3em}\
         p{max-width:60em}svg{max-width:100%;height:auto}</style></head><body>\n",
    );
    h.push_str(&format!(
        "<h1>{}</h1>\n<p>{}</p>\n",
        escape(title),
        escape(summary)
    ));
    if collected.plots_cut {
        h.push_str("<p>The file is large: plots show only its first part.</p>\n");
    }
    if chosen.len() < collected.entities.len() {
        h.push_str(&format!(
            "<p>{} of {} entities plotted: those with missed incidents or false alerts first (when labels are given), then those with the most alerts and labelled incidents, then {} with neither, to compare with.</p>\n",
            chosen.len(),
            collected.entities.len(),
            quiet_shown
        ));
    }
    for (entity, data) in chosen {
        let alerts = alerts_of.get(entity.name()).map_or(&[][..], Vec::as_slice);
        // The field the alerts name most often, else the first.
        let mut counts = vec![0usize; fields.len()];
        for a in alerts {
            if let Some(i) = fields.iter().position(|f| *f == a.field) {
                counts[i] += 1;
            }
        }
        let f = (0..fields.len())
            .max_by_key(|&i| (counts[i], std::cmp::Reverse(i)))
            .unwrap_or(0);
        let (Some(name), Some(values)) = (fields.get(f), data.values.get(f)) else {
            continue;
        };
        let owned: Vec<Alert> = alerts.iter().map(|a| (*a).clone()).collect();
        let scored_from = data
            .times
            .iter()
            .zip(&data.scores)
            .find(|(_, s)| **s > 0.0)
            .map(|(t, _)| *t);
        let plot = PlotSeries::new(entity, name.clone(), data.times.clone(), values.clone())
            .with_scores(data.scores.clone())
            .with_scoring(scored_from, Some(threshold));
        let plot = if labels.is_empty() {
            plot.with_alerts(&owned)
        } else {
            plot.with_ground_truth(&owned, labels, grace_ms)
        };
        h.push_str(&format!("<h2>{}</h2>\n", escape(&plot.caption())));
        h.push_str(&kpi_chart(&plot, 1000.0, 340.0));
        h.push('\n');
    }
    h.push_str("</body></html>\n");
    h
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<()> {
    let started = Instant::now();
    if args.detector.eq_ignore_ascii_case("all") {
        bail!("--detector takes one detector here, not `all`");
    }
    let kind = detectors::select(&args.detector)?
        .into_iter()
        .next()
        .map(|(_, k)| k)
        .unwrap_or_default();
    if !(args.threshold.is_finite() && args.threshold > 0.0 && args.threshold <= 1.0) {
        bail!("--threshold must be in (0, 1], got {}", args.threshold);
    }
    let suppress = if args.suppress.trim().trim_end_matches(char::is_alphabetic) == "0" {
        Interval::from_millis(0)
    } else {
        args.suppress
            .parse::<Interval>()
            .map_err(|e| anyhow::anyhow!("--suppress: {e}"))?
    };
    let at_once = match args.at_once.trim() {
        off if off.eq_ignore_ascii_case("off") => None,
        a => match a.parse::<f64>() {
            Ok(a) if a > 0.0 && a <= 1.0 => Some(a),
            _ => bail!("--at-once must be `off` or a score in (0, 1], got {a}"),
        },
    };
    let policy = AlertPolicy {
        score_above: args.threshold,
        for_intervals: args.for_intervals.max(1),
        at_once,
        suppress,
        ..AlertPolicy::default()
    };
    let config = detectors::config(kind);

    let mut opened = open(&Spec {
        input: &args.input,
        entity: args.entity.as_deref(),
        time: args.time.as_deref(),
        timezone: args.timezone.as_deref(),
        fields: &args.fields,
        on_error: args.on_error.into(),
        quarantine_mode: WriteMode::forced(args.force),
        hint: " (name columns with --entity, --time, --fields)",
    })?;
    // Labels are read before any scoring, so that a bad label file fails at once.
    let labels = match &args.labels {
        Some(path) => Some(read_labels(path, opened.single_entity.as_deref())?),
        None => None,
    };
    let fields: Vec<String> = opened.source.fields().to_vec();
    if fields.is_empty() {
        // Nothing to score; read on anyway so that unreadable lines are reported.
        while let Ok(Some(_)) = next(&mut opened) {}
        print_errors(opened.source.report(), &opened.rename);
        print_notes(&opened);
        if opened.source.report().errors_total > 0 {
            bail!("{}: no readable rows", args.input.display());
        }
        bail!(
            "{}: no data, or no numeric columns to score (name them with --fields)",
            args.input.display()
        );
    }

    // Read a first stretch to estimate the sampling interval, then stream.
    let mut head: Vec<Batch> = Vec::new();
    let mut head_rows = 0;
    let mut read_error = read_until(&mut opened, &mut head, &mut head_rows, INTERVAL_SAMPLE_ROWS);
    if head_rows == 0 {
        print_errors(opened.source.report(), &opened.rename);
        print_notes(&opened);
        if let Some(e) = read_error {
            return Err(e);
        }
        bail!("{}: no rows to score", args.input.display());
    }
    // A file whose first rows go back in time within an entity (newest first) is read whole
    // and scored in time order: detectors learn forwards. (Series one after the other, each
    // in order, stream as they are: the model node sees their batches jump back.)
    let backwards = opened.source.report().out_of_order;
    let mut sorted = None;
    if backwards > 0 && read_error.is_none() {
        read_error = read_until(&mut opened, &mut head, &mut head_rows, MAX_SORTED_ROWS + 1);
        if head_rows > MAX_SORTED_ROWS {
            bail!(
                "{}: rows go back in time, and the file has over {MAX_SORTED_ROWS} rows, more than detect sorts in memory; sort it oldest first",
                args.input.display()
            );
        }
        head = in_time_order(head, fields.len());
        sorted = Some(head_rows);
    }
    let interval = args
        .interval
        .or_else(|| estimate_interval(&head))
        .unwrap_or(FALLBACK_INTERVAL);

    let mut model = ModelNode::new(&config, fields.len(), interval)
        .with_context(|| format!("detector `{}`", args.detector))?;
    let mut policy_node = PolicyNode::new(&policy, &fields, interval);
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
    let scores_path = args.out.join("scores.csv");
    let alerts_path = args.out.join("alerts.csv");
    let plot_path = args.out.join("plot.html");
    let mut writer = ScoreWriter::create(&scores_path)?;
    let mut collected = Collected::default();
    let mut scored = Scored::default();
    let progress = Progress::new(args.quiet);
    let mut process = |batch: Batch, collected: &mut Collected| -> anyhow::Result<()> {
        model.process(batch, &mut scored);
        policy_node.process(&scored, &mut collected.alerts);
        collected.add(&scored, &fields, &mut writer)?;
        progress.say(format!(
            "scored {} rows, {} alerts",
            collected.rows,
            collected.alerts.len()
        ));
        Ok(())
    };
    for b in head {
        process(b, &mut collected)?;
    }
    if read_error.is_none() {
        loop {
            match next(&mut opened) {
                Ok(Some(b)) => process(b, &mut collected)?,
                Ok(None) => break,
                Err(e) => {
                    read_error = Some(e);
                    break;
                }
            }
        }
    }
    progress.say("writing scores, alerts and the plot page");
    writer.finish()?;
    let mut sink = SinkConfig::File(FileSinkConfig {
        path: alerts_path.clone(),
        format: Some(FileFormat::Csv),
        // The command's own output folder, like scores.csv and plot.html: replaced each run.
        mode: WriteMode::Overwrite,
    })
    .build()?;
    sink.write(&collected.alerts)?;
    sink.finish()?;

    let input = args.input.display().to_string();
    let span = match (collected.first, collected.last) {
        (Some(a), Some(b)) => format!("{a} to {b}"),
        _ => "-".into(),
    };
    let entity_text = match &opened.single_entity {
        Some(name) => format!("1 entity (`{name}`: the file has no entity column)"),
        None if collected.entities.len() == 1 => "1 entity".to_string(),
        None => format!("{} entities", collected.entities.len()),
    };
    let summary = format!(
        "{} rows of {entity_text}, fields [{}], {span}, interval {interval}; detector `{}`; \
         alert when {}, then none for {}: {} alert(s)",
        collected.rows,
        fields.join(", "),
        args.detector,
        policy.condition(),
        policy.suppress,
        collected.alerts.len()
    );
    let evaluation = labels
        .as_deref()
        .map(|l| score_labels(l, &collected, interval));
    let evaluation_path = args.out.join("evaluation.json");
    let mut page_summary = summary.clone();
    if let (Some((m, _, _)), Some(path)) = (&evaluation, &args.labels) {
        page_summary.push_str(&format!(
            ". On the labels of {}: event precision {:.3}, recall {:.3}, F1 {:.3} ({} of {} incidents detected, {} of {} alerts true)",
            path.display(),
            m.precision,
            m.recall,
            m.f1,
            m.detected,
            m.incidents,
            m.true_alerts,
            m.alerts
        ));
        let json = serde_json::json!({
            "input": input,
            "labels": path.display().to_string(),
            "detector": args.detector,
            "metrics": m,
        });
        std::fs::write(
            &evaluation_path,
            serde_json::to_string_pretty(&json)? + "\n",
        )
        .with_context(|| format!("writing {}", evaluation_path.display()))?;
    }
    let page = plot_page(
        &format!("ai4ict detect: {input}"),
        &page_summary,
        &collected,
        evaluation.as_ref().map_or(&[][..], |e| e.1.as_slice()),
        &fields,
        args.plots,
        (args.threshold, GRACE_INTERVALS * interval.millis()),
    );
    std::fs::write(&plot_path, page).with_context(|| format!("writing {}", plot_path.display()))?;

    drop(progress);
    outln!("detect {input}: {summary}");
    let choices = model.choices();
    if !choices.is_empty() {
        outln!("  auto chose: {}", crate::report::choices_said(&choices));
        if choices.contains_key(ai4ict_anomaly::DECIDING) {
            // A short file: `auto` was blind on all of it for those entities.
            outln!(
                "  note: `auto` scores nothing until it has two days of an entity (and its daily \
                 profile nothing until the next midnight): on a file this short, try \
                 `--detector ewma` (it scores after an entity's first {} points) or \
                 `robust_seasonal` (from the first midnight on)",
                ai4ict_anomaly::DetectorConfig::default().min_points
            );
        }
        if let (Some(first), Some(last)) = (collected.first, collected.last) {
            // Past the choice, but its profile was blind on most of the file (measured from
            // the earliest entity's first point: the others scored no more).
            let from = ai4ict_anomaly::profile_scores_from(first);
            let scored_ms = last.0.saturating_sub(from.0);
            if choices.contains_key(ai4ict_anomaly::PERIODIC) && scored_ms < 86_400_000 {
                outln!(
                    "  note: on an entity with a daily rhythm `auto`'s profile starts at its \
                     choice, after two days, and scores from the next midnight (UTC) on: on \
                     this file from {from}, at most the last {:.1} hours; `--detector \
                     robust_seasonal` scores from the first midnight on",
                    scored_ms.max(0) as f64 / 3_600_000.0
                );
            }
        }
    }
    let mut per_entity: HashMap<&str, usize> = HashMap::new();
    for a in &collected.alerts {
        *per_entity.entry(a.entity.name()).or_default() += 1;
    }
    let mut top: Vec<(&str, usize)> = per_entity.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    if !top.is_empty() {
        let shown: Vec<String> = top
            .iter()
            .take(5)
            .map(|(e, n)| format!("{} ({n})", shorten(e)))
            .collect();
        outln!("  most alerts: {}", shown.join(", "));
    }
    for a in collected.alerts.iter().take(10) {
        outln!(
            "  alert {} {} score {:.3} {} onset {}",
            a.time,
            shorten(a.entity.name()),
            a.score,
            a.field,
            a.onset
        );
        if a.why.is_some() {
            outln!("    why: {}", a.description());
        }
    }
    if collected.alerts.len() > 10 {
        outln!(
            "  … {} more in {}",
            collected.alerts.len() - 10,
            alerts_path.display()
        );
    }
    if let (Some((m, _, note)), Some(path)) = (&evaluation, &args.labels) {
        outln!(
            "  on the labels of {} (scored from the first row: the detectors learn as they go)",
            path.display()
        );
        for line in m.to_string().lines() {
            outln!("  {line}");
        }
        if let Some(note) = note {
            outln!("  note: {note}");
        }
        outln!("  wrote {}", evaluation_path.display());
    }
    outln!(
        "  wrote {}, {}, {} in {:.2} s",
        scores_path.display(),
        alerts_path.display(),
        plot_path.display(),
        started.elapsed().as_secs_f64()
    );
    print_errors(opened.source.report(), &opened.rename);
    print_notes(&opened);
    if let Some(rows) = sorted {
        outln!(
            "  note: the rows were not in time order, so the whole file ({rows} rows) was read and scored in time order"
        );
    }
    match read_error {
        Some(e) => Err(e.context(
            "reading stopped at a bad row (--on-error fail); the rows before it were scored",
        )),
        None => Ok(()),
    }
}

/// An entity name cut short for the terminal.
fn shorten(name: &str) -> String {
    const MAX: usize = 40;
    if name.chars().count() <= MAX {
        name.to_string()
    } else {
        format!("{}…", name.chars().take(MAX).collect::<String>())
    }
}
