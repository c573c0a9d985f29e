use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use ai4ict_core::{Alert, Entity, Timestamp};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{ConnectorError, FileFormat, SinkComponent, SinkFile, Takes, WriteMode};

/// Set once a write to standard output found the pipe closed.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Standard output that a closed pipe does not turn into an error: once the reader has gone
/// (`ai4ict … | head -1`), writes succeed without printing anything, so the program goes on
/// with its other work (reports, files) and exits normally. Other errors are returned.
#[derive(Clone, Copy, Debug, Default)]
pub struct PipeStdout;

impl PipeStdout {
    /// True once a write found the pipe closed.
    pub fn closed() -> bool {
        STDOUT_CLOSED.load(Ordering::Relaxed)
    }

    /// `r`, with a closed pipe noted and turned into `Ok(done)`.
    fn closed_pipe<T>(r: io::Result<T>, done: T) -> io::Result<T> {
        match r {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                STDOUT_CLOSED.store(true, Ordering::Relaxed);
                Ok(done)
            }
            r => r,
        }
    }
}

impl Write for PipeStdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if Self::closed() {
            return Ok(buf.len());
        }
        Self::closed_pipe(io::stdout().write(buf), buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        if Self::closed() {
            return Ok(());
        }
        // One lock for the whole buffer, so lines from several threads do not interleave.
        Self::closed_pipe(io::stdout().lock().write_all(buf), ())
    }

    fn flush(&mut self) -> io::Result<()> {
        if Self::closed() {
            return Ok(());
        }
        Self::closed_pipe(io::stdout().flush(), ())
    }
}

/// Where alerts go (Y.3172 SINK, fed by the distributor D).
///
/// `write` may be called any number of times; `finish` flushes and is called once at the end.
pub trait AlertSink: Send {
    /// Writes these alerts (in the order given).
    fn write(&mut self, alerts: &[Alert]) -> Result<(), ConnectorError>;
    /// Flushes everything written; the sink is not written to afterwards.
    fn finish(&mut self) -> Result<(), ConnectorError>;
}

/// Writes alerts to the terminal as an aligned table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StdoutSinkConfig {
    /// Most rows printed (default 25); the rest are counted in a closing line. 0 = no limit.
    #[serde(default = "default_limit")]
    pub limit: usize,
}

fn default_limit() -> usize {
    25
}

impl Default for StdoutSinkConfig {
    fn default() -> Self {
        Self {
            limit: default_limit(),
        }
    }
}

/// Writes alerts to a file, one per line (JSON lines) or one per row (CSV).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileSinkConfig {
    /// The file to write (missing parent folders are created).
    pub path: PathBuf,
    /// `jsonl` or `csv`; by default taken from the file extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<FileFormat>,
    /// When the file exists already: `create` (default) refuses it with an error, `append`
    /// adds to it (a CSV header is not repeated), `overwrite` replaces it.
    #[serde(default, skip_serializing_if = "WriteMode::is_create")]
    pub mode: WriteMode,
}

/// Forecasts with their prediction intervals to a file (see [`ForecastWriter`]): the file
/// options of [`FileSinkConfig`], for an intent with a forecast model. It takes no alerts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct ForecastSinkConfig(pub FileSinkConfig);

impl FileSinkConfig {
    fn check_file(&self) -> Result<(), ConnectorError> {
        FileFormat::resolve(self.format, &self.path)?;
        self.mode.check(&self.path, "mode")
    }

    fn describe_file(&self) -> String {
        let format = FileFormat::resolve(self.format, &self.path)
            .map_or("unknown format", |f| f.extension());
        let mode = serde_json::to_value(self.mode)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        format!("{} ({format}, {mode})", self.path.display())
    }
}

impl SinkComponent for StdoutSinkConfig {
    fn describe(&self) -> String {
        match self.limit {
            0 => "standard output, every alert".into(),
            n => format!("standard output, at most {n} rows"),
        }
    }

    fn build(&self, _intent: &str) -> Result<Box<dyn AlertSink>, ConnectorError> {
        Ok(Box::new(
            TableSink::new("stdout", PipeStdout).with_limit(self.limit),
        ))
    }

    fn takes(&self) -> Takes {
        Takes::Both
    }
}

impl SinkComponent for FileSinkConfig {
    fn describe(&self) -> String {
        self.describe_file()
    }

    fn check(&self) -> Result<(), ConnectorError> {
        self.check_file()?;
        let csv = FileFormat::resolve(self.format, &self.path)? == FileFormat::Csv;
        let has_data = std::fs::metadata(&self.path).is_ok_and(|m| m.len() > 0);
        if self.mode == WriteMode::Append && csv && has_data {
            check_csv_header(&self.path)?;
        }
        Ok(())
    }

    fn files(&self) -> Vec<SinkFile<'_>> {
        vec![SinkFile {
            key: "path",
            path: &self.path,
            secret: false,
        }]
    }

    fn build(&self, _intent: &str) -> Result<Box<dyn AlertSink>, ConnectorError> {
        let format = FileFormat::resolve(self.format, &self.path)?;
        let name = self.path.display().to_string();
        let (file, has_data) = self.mode.open(&self.path, "mode")?;
        if has_data && format == FileFormat::Csv {
            check_csv_header(&self.path)?;
        }
        let out = BufWriter::new(file);
        Ok(match format {
            FileFormat::Jsonl => Box::new(JsonlSink::new(name, out)),
            FileFormat::Csv => Box::new(CsvSink::new(name, out).with_header(!has_data)),
        })
    }
}

impl SinkComponent for ForecastSinkConfig {
    fn describe(&self) -> String {
        self.0.describe_file()
    }

    fn check(&self) -> Result<(), ConnectorError> {
        self.0.check_file()
    }

    fn takes(&self) -> Takes {
        Takes::Forecasts
    }

    fn files(&self) -> Vec<SinkFile<'_>> {
        self.0.files()
    }

    fn build(&self, _intent: &str) -> Result<Box<dyn AlertSink>, ConnectorError> {
        Err(ConnectorError::BadConfig {
            path: self.0.path.display().to_string(),
            message: "a forecast sink takes forecasts, not alerts; use it with \
                      `model: {forecast: …}` and `policy: {forecast: …}`"
                .into(),
        })
    }
}

fn create(path: &Path) -> Result<BufWriter<File>, ConnectorError> {
    let io = |e| ConnectorError::io(path.display(), e);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    Ok(BufWriter::new(File::create(path).map_err(io)?))
}

/// Alerts as an aligned, human-readable table. Columns widen as longer entities or fields
/// arrive, so rows written after a wide one line up with each other.
#[derive(Debug)]
pub struct TableSink<W: Write + Send> {
    name: String,
    out: W,
    header_done: bool,
    entity_width: usize,
    field_width: usize,
    limit: usize,
    written: usize,
    omitted: usize,
}

impl<W: Write + Send> TableSink<W> {
    /// A table written to `out`; `name` is used in errors.
    pub fn new(name: impl Into<String>, out: W) -> Self {
        Self {
            name: name.into(),
            out,
            header_done: false,
            entity_width: 12,
            field_width: 12,
            limit: 0,
            written: 0,
            omitted: 0,
        }
    }

    /// Prints at most `limit` rows (0 = all) and counts the rest in a closing line.
    pub fn with_limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }

    fn write_all(&mut self, alerts: &[Alert]) -> io::Result<()> {
        if alerts.is_empty() {
            return Ok(());
        }
        for a in alerts {
            self.entity_width = self.entity_width.max(a.entity.name().chars().count());
            self.field_width = self.field_width.max(a.field.chars().count());
        }
        let (ew, fw) = (self.entity_width, self.field_width);
        if !self.header_done {
            writeln!(
                self.out,
                "{:<24}  {:<ew$}  {:<8}  {:>5}  {:<fw$}  {:<24}  why",
                "time", "entity", "severity", "score", "field", "onset"
            )?;
            self.header_done = true;
        }
        for a in alerts {
            if self.limit > 0 && self.written >= self.limit {
                self.omitted += 1;
                continue;
            }
            self.written += 1;
            let line = format!(
                "{:<24}  {:<ew$}  {:<8}  {:>5.3}  {:<fw$}  {:<24}  {}",
                a.time.to_string(),
                a.entity.name(),
                a.severity.to_string(),
                a.score,
                a.field,
                a.onset.to_string(),
                a.description()
            );
            writeln!(self.out, "{}", line.trim_end())?;
        }
        self.out.flush()
    }
}

impl<W: Write + Send> AlertSink for TableSink<W> {
    fn write(&mut self, alerts: &[Alert]) -> Result<(), ConnectorError> {
        self.write_all(alerts)
            .map_err(|e| ConnectorError::io(&self.name, e))
    }

    fn finish(&mut self) -> Result<(), ConnectorError> {
        if self.omitted > 0 {
            writeln!(
                self.out,
                "… {} more alerts not shown (stdout limit {}; use a file sink for all of them)",
                self.omitted, self.limit
            )
            .map_err(|e| ConnectorError::io(&self.name, e))?;
        }
        self.out
            .flush()
            .map_err(|e| ConnectorError::io(&self.name, e))
    }
}

/// Alerts as JSON lines, one `ai4ict_core::Alert` object per line.
#[derive(Debug)]
pub struct JsonlSink<W: Write + Send> {
    name: String,
    out: W,
}

impl<W: Write + Send> JsonlSink<W> {
    /// JSON lines written to `out`; `name` is used in errors.
    pub fn new(name: impl Into<String>, out: W) -> Self {
        Self {
            name: name.into(),
            out,
        }
    }

    /// The underlying writer.
    pub fn into_inner(self) -> W {
        self.out
    }

    fn write_all(&mut self, alerts: &[Alert]) -> io::Result<()> {
        for a in alerts {
            serde_json::to_writer(&mut self.out, a)?;
            self.out.write_all(b"\n")?;
        }
        self.out.flush()
    }
}

impl<W: Write + Send> AlertSink for JsonlSink<W> {
    fn write(&mut self, alerts: &[Alert]) -> Result<(), ConnectorError> {
        self.write_all(alerts)
            .map_err(|e| ConnectorError::io(&self.name, e))
    }

    fn finish(&mut self) -> Result<(), ConnectorError> {
        self.out
            .flush()
            .map_err(|e| ConnectorError::io(&self.name, e))
    }
}

/// The columns of [`CsvSink`]'s alerts.
const CSV_COLUMNS: [&str; 7] = [
    "time", "entity", "severity", "score", "field", "onset", "why",
];

/// Refuses to append to a CSV file whose header is not [`CSV_COLUMNS`] (one written by an
/// older version, or another file), so that its rows do not end up under the wrong columns.
fn check_csv_header(path: &Path) -> Result<(), ConnectorError> {
    let io = |e| ConnectorError::io(path.display(), e);
    let mut first = String::new();
    BufReader::new(File::open(path).map_err(io)?.take(4096))
        .read_line(&mut first)
        .map_err(io)?;
    let want = CSV_COLUMNS.join(",");
    if first.trim_end() == want {
        return Ok(());
    }
    Err(ConnectorError::BadConfig {
        path: path.display().to_string(),
        message: format!(
            "line 1 is `{}`, not the alerts' header `{want}`: appending would put rows under \
             other columns; move the file aside or set `mode: overwrite`",
            first.trim_end()
        ),
    })
}

/// Alerts as CSV: `time,entity,severity,score,field,onset,why`, times in RFC 3339, `why` the
/// alert's explanation in words ([`Alert::description`]).
#[derive(Debug)]
pub struct CsvSink<W: Write + Send> {
    name: String,
    out: csv::Writer<W>,
    header_done: bool,
}

impl<W: Write + Send> CsvSink<W> {
    /// CSV written to `out`; `name` is used in errors.
    pub fn new(name: impl Into<String>, out: W) -> Self {
        Self {
            name: name.into(),
            out: csv::Writer::from_writer(out),
            header_done: false,
        }
    }

    /// Whether to write the header line (not when appending to a file that has one).
    pub fn with_header(mut self, header: bool) -> Self {
        self.header_done = !header;
        self
    }

    /// The underlying writer, flushed.
    pub fn into_inner(self) -> Result<W, ConnectorError> {
        let name = self.name;
        self.out
            .into_inner()
            .map_err(|e| ConnectorError::io(name, e.into_error()))
    }

    fn write_all(&mut self, alerts: &[Alert]) -> Result<(), csv::Error> {
        if !self.header_done {
            self.out.write_record([
                "time", "entity", "severity", "score", "field", "onset", "why",
            ])?;
            self.header_done = true;
        }
        for a in alerts {
            self.out.write_record([
                a.time.to_string(),
                a.entity.name().to_string(),
                a.severity.to_string(),
                a.score.to_string(),
                a.field.clone(),
                a.onset.to_string(),
                a.description(),
            ])?;
        }
        self.out.flush()?;
        Ok(())
    }
}

impl<W: Write + Send> AlertSink for CsvSink<W> {
    fn write(&mut self, alerts: &[Alert]) -> Result<(), ConnectorError> {
        self.write_all(alerts)
            .map_err(|e| ConnectorError::io(&self.name, e.into()))
    }

    fn finish(&mut self) -> Result<(), ConnectorError> {
        // A file with no alerts still gets its header.
        self.write_all(&[])
            .map_err(|e| ConnectorError::io(&self.name, e.into()))
    }
}

/// Writes per-row scores as CSV (`entity,time,score,field`, RFC 3339 times; a missing score is
/// an empty cell) for plotting or for checking a detector by hand.
#[derive(Debug)]
pub struct ScoreWriter<W: Write = BufWriter<File>> {
    name: String,
    out: csv::Writer<W>,
}

impl ScoreWriter {
    /// Creates (or replaces) `path`, with missing parent folders, and writes the header.
    pub fn create(path: &Path) -> Result<Self, ConnectorError> {
        Self::new(path.display().to_string(), create(path)?)
    }
}

impl<W: Write> ScoreWriter<W> {
    /// Scores written to `out`; `name` is used in errors. Writes the header at once.
    pub fn new(name: impl Into<String>, out: W) -> Result<Self, ConnectorError> {
        let mut w = Self {
            name: name.into(),
            out: csv::Writer::from_writer(out),
        };
        w.out
            .write_record(["entity", "time", "score", "field"])
            .map_err(|e| w.error(e))?;
        Ok(w)
    }

    fn error(&self, e: csv::Error) -> ConnectorError {
        ConnectorError::io(&self.name, e.into())
    }

    /// Writes one row.
    pub fn write(
        &mut self,
        entity: &Entity,
        time: Timestamp,
        score: f64,
        field: &str,
    ) -> Result<(), ConnectorError> {
        let score = if score.is_finite() {
            score.to_string()
        } else {
            String::new()
        };
        self.out
            .write_record([entity.name(), &time.to_string(), &score, field])
            .map_err(|e| self.error(e))
    }

    /// Flushes what was written.
    pub fn finish(&mut self) -> Result<(), ConnectorError> {
        self.out
            .flush()
            .map_err(|e| ConnectorError::io(&self.name, e))
    }

    /// The underlying writer, flushed.
    pub fn into_inner(self) -> Result<W, ConnectorError> {
        let name = self.name;
        self.out
            .into_inner()
            .map_err(|e| ConnectorError::io(name, e.into_error()))
    }
}

/// One step of one forecast, as a forecast sink writes it (Y.3172 SINK of a forecast
/// pipeline): the point forecast and its central prediction interval.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForecastRow {
    /// The entity (cell, link, …).
    pub entity: String,
    /// The forecast field.
    pub field: String,
    /// The time forecast.
    pub time: Timestamp,
    /// Steps ahead of the last observation (1 = the next interval).
    pub step: usize,
    /// Point forecast.
    pub forecast: f64,
    /// Lower interval bound.
    pub lower: f64,
    /// Upper interval bound.
    pub upper: f64,
    /// Nominal probability that the interval holds the value, in (0, 1).
    pub level: f64,
}

/// The column names of a forecast CSV file.
pub const FORECAST_COLUMNS: [&str; 8] = [
    "entity", "field", "time", "step", "forecast", "lower", "upper", "level",
];

enum ForecastOut<W: Write> {
    Csv(Box<csv::Writer<W>>),
    Jsonl(W),
}

/// Writes [`ForecastRow`]s as CSV (header [`FORECAST_COLUMNS`], RFC 3339 times) or JSON lines
/// (times in milliseconds since the epoch).
pub struct ForecastWriter<W: Write = BufWriter<File>> {
    name: String,
    out: ForecastOut<W>,
}

impl<W: Write> fmt::Debug for ForecastWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ForecastWriter")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl ForecastWriter {
    /// Opens the file a forecast sink names in its `mode` (an existing file is refused unless
    /// the mode says `append` or `overwrite`), with missing parent folders; the format is the
    /// config's or the file extension's.
    pub fn create(cfg: &FileSinkConfig) -> Result<Self, ConnectorError> {
        let format = FileFormat::resolve(cfg.format, &cfg.path)?;
        let (file, _) = cfg.mode.open(&cfg.path, "mode")?;
        Self::new(cfg.path.display().to_string(), BufWriter::new(file), format)
    }
}

impl<W: Write> ForecastWriter<W> {
    /// Rows written to `out` in `format`; `name` is used in errors. A CSV header is written
    /// at once.
    pub fn new(
        name: impl Into<String>,
        out: W,
        format: FileFormat,
    ) -> Result<Self, ConnectorError> {
        let name = name.into();
        let out = match format {
            FileFormat::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(FORECAST_COLUMNS)
                    .map_err(|e| ConnectorError::io(&name, e.into()))?;
                ForecastOut::Csv(Box::new(w))
            }
            FileFormat::Jsonl => ForecastOut::Jsonl(out),
        };
        Ok(Self { name, out })
    }

    /// Writes one row.
    pub fn write(&mut self, row: &ForecastRow) -> Result<(), ConnectorError> {
        let io = |e: std::io::Error| ConnectorError::io(&self.name, e);
        match &mut self.out {
            ForecastOut::Csv(w) => w
                .write_record([
                    row.entity.clone(),
                    row.field.clone(),
                    row.time.to_string(),
                    row.step.to_string(),
                    row.forecast.to_string(),
                    row.lower.to_string(),
                    row.upper.to_string(),
                    row.level.to_string(),
                ])
                .map_err(|e| io(e.into())),
            ForecastOut::Jsonl(w) => {
                serde_json::to_writer(&mut *w, row).map_err(|e| io(e.into()))?;
                w.write_all(b"\n").map_err(io)
            }
        }
    }

    /// The underlying writer, flushed.
    pub fn into_inner(self) -> Result<W, ConnectorError> {
        let name = self.name;
        match self.out {
            ForecastOut::Csv(w) => w
                .into_inner()
                .map_err(|e| ConnectorError::io(name, e.into_error())),
            ForecastOut::Jsonl(mut w) => {
                w.flush().map_err(|e| ConnectorError::io(name, e))?;
                Ok(w)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use ai4ict_core::Severity;

    use crate::SinkConfig;

    use super::*;

    fn alert(entity: &str, score: f64) -> Alert {
        Alert {
            entity: Entity::new(entity),
            time: Timestamp::parse("2024-01-01T01:00:00Z").unwrap(),
            onset: Timestamp::parse("2024-01-01T00:30:00Z").unwrap(),
            score,
            severity: Severity::Major,
            field: "prb_util".into(),
            why: None,
        }
    }

    #[test]
    fn table_is_aligned() {
        let mut sink = TableSink::new("t", Vec::new());
        sink.write(&[alert("cell-1", 0.95), alert("a-much-longer-cell-name", 0.5)])
            .unwrap();
        sink.finish().unwrap();
        let text = String::from_utf8(sink.into_inner()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        let col = |l: &str| l.find("major").or_else(|| l.find("severity")).unwrap();
        assert!(lines.iter().all(|l| col(l) == col(lines[0])), "{text}");
        assert!(
            lines[1].starts_with("2024-01-01T01:00:00Z") && lines[1].contains("0.950"),
            "{text}"
        );
        assert!(lines[1].ends_with("2024-01-01T00:30:00Z"), "{text}");
    }

    #[test]
    fn jsonl_reads_back_as_alerts() {
        let mut sink = JsonlSink::new("t", Vec::new());
        let alerts = [alert("cell-1", 0.95), alert("cell-2", 0.91)];
        sink.write(&alerts).unwrap();
        sink.finish().unwrap();
        let text = String::from_utf8(sink.into_inner()).unwrap();
        let back: Vec<Alert> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(back, alerts);
    }

    #[test]
    fn csv_has_header_and_rfc3339_times() {
        let mut sink = CsvSink::new("t", Vec::new());
        sink.finish().unwrap();
        sink.write(&[alert("cell,1", 0.5)]).unwrap();
        let text = String::from_utf8(sink.into_inner().unwrap()).unwrap();
        assert_eq!(
            text,
            "time,entity,severity,score,field,onset,why\n2024-01-01T01:00:00Z,\"cell,1\",major,0.5,prb_util,2024-01-01T00:30:00Z,\n"
        );
    }

    #[test]
    fn sink_config_shapes_and_file_sinks() {
        let cfg: SinkConfig = serde_json::from_str(r#"{"stdout":{}}"#).unwrap();
        assert_eq!(cfg, SinkConfig::Stdout(StdoutSinkConfig::default()));
        assert!(serde_json::from_str::<SinkConfig>(r#"{"stdout":{"x":1}}"#).is_err());
        let dir = tempfile::tempdir().unwrap();
        for (name, format, first) in [
            ("out/a.jsonl", None, "{\"entity\":\"cell-1\""),
            ("b.csv", None, "time,entity,severity,score,field,onset,why"),
            ("c.txt", Some(FileFormat::Jsonl), "{"),
        ] {
            let path = dir.path().join(name);
            let cfg = SinkConfig::File(FileSinkConfig {
                path: path.clone(),
                format,
                mode: WriteMode::Create,
            });
            let json = serde_json::to_string(&cfg).unwrap();
            assert_eq!(serde_json::from_str::<SinkConfig>(&json).unwrap(), cfg);
            let mut sink = cfg.build().unwrap();
            sink.write(&[alert("cell-1", 0.9)]).unwrap();
            sink.finish().unwrap();
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(text.starts_with(first), "{name}: {text}");
        }
        let bad = SinkConfig::File(FileSinkConfig {
            path: dir.path().join("x.parquet"),
            format: None,
            mode: WriteMode::Create,
        });
        assert!(matches!(
            bad.build(),
            Err(ConnectorError::UnknownFormat { .. })
        ));
    }

    #[test]
    fn score_writer_rows() {
        let mut w = ScoreWriter::new("t", Vec::new()).unwrap();
        let t = Timestamp::parse("2024-01-01T00:00:00Z").unwrap();
        w.write(&Entity::new("cell-1"), t, 0.25, "prb_util")
            .unwrap();
        w.write(&Entity::new("cell-1"), t, f64::NAN, "").unwrap();
        w.finish().unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert_eq!(
            text,
            "entity,time,score,field\ncell-1,2024-01-01T00:00:00Z,0.25,prb_util\ncell-1,2024-01-01T00:00:00Z,,\n"
        );
    }

    #[test]
    fn table_limit_counts_the_rest() {
        let alert = |i: i64| Alert {
            entity: ai4ict_core::Entity::new(format!("cell-{i}")),
            time: ai4ict_core::Timestamp(i * 900_000),
            onset: ai4ict_core::Timestamp(i * 900_000),
            score: 0.95,
            severity: ai4ict_core::Severity::Major,
            field: "prb_util".into(),
            why: None,
        };
        let mut sink = TableSink::new("t", Vec::new()).with_limit(2);
        sink.write(&[alert(1), alert(2), alert(3)]).unwrap();
        sink.write(&[alert(4)]).unwrap();
        sink.finish().unwrap();
        let text = String::from_utf8(sink.into_inner()).unwrap();
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(
            text.ends_with(
                "… 2 more alerts not shown (stdout limit 2; use a file sink for all of them)\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn forecast_rows_as_csv_and_jsonl() {
        let row = ForecastRow {
            entity: "cell, 1".into(),
            field: "load".into(),
            time: Timestamp::parse("2024-01-01T01:00:00Z").unwrap(),
            step: 1,
            forecast: 2.5,
            lower: 1.0,
            upper: 4.0,
            level: 0.9,
        };
        let mut w = ForecastWriter::new("t", Vec::new(), FileFormat::Csv).unwrap();
        w.write(&row).unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert_eq!(
            text,
            "entity,field,time,step,forecast,lower,upper,level\n\
             \"cell, 1\",load,2024-01-01T01:00:00Z,1,2.5,1,4,0.9\n"
        );
        let mut w = ForecastWriter::new("t", Vec::new(), FileFormat::Jsonl).unwrap();
        w.write(&row).unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        let back: ForecastRow = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(back, row);
        let sink = SinkConfig::Forecast(ForecastSinkConfig(FileSinkConfig {
            path: "f.csv".into(),
            format: None,
            mode: WriteMode::Create,
        }));
        assert!(sink.build().is_err(), "a forecast sink is no alert sink");
    }
}
