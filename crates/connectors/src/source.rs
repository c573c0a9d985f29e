use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Cursor, Write};
use std::path::{Path, PathBuf};

use ai4ict_core::{
    first_worker, leaves_working_dir, Batch, Entity, ProblemAt, Source, SourceComponent,
    SourceError, SourceFactory, SourceProblem, Timestamp, TimestampError,
};
use serde::Serialize;
use serde_json::Value;

use crate::csvline::{self, Fields};
use crate::lines::{is_blank, Line, LineReader, MAX_LINE_BYTES};
use crate::schema::{infer_from_reader, read_header, FileSchema};
use crate::{ConnectorError, FileFormat, FileSourceConfig, OnError, RowError, WriteMode};

/// How many row errors a [`ReadReport`] keeps (the rest are only counted).
pub const MAX_KEPT_ERRORS: usize = 100;

/// What a source has read so far.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ReadReport {
    /// Rows delivered.
    pub rows_ok: u64,
    /// Bad rows passed over (`on_error: skip`).
    pub rows_skipped: u64,
    /// Bad rows passed over and written to the quarantine file (`on_error: quarantine`).
    pub rows_quarantined: u64,
    /// The first [`MAX_KEPT_ERRORS`] row errors, in file order.
    pub errors: Vec<RowError>,
    /// How many row errors there were in all (including those not kept).
    pub errors_total: u64,
    /// Rows whose time is earlier than their entity's previous row (time going backwards).
    /// They are delivered as they are; the pipeline's preprocessor drops them as late.
    pub out_of_order: u64,
    /// Rows whose time equals their entity's previous row.
    pub duplicate_times: u64,
    /// Those counts per entity, for the first [`MAX_KEPT_ERRORS`] entities that have any.
    pub order_by_entity: BTreeMap<String, OrderCounts>,
    /// Rows whose time had no UTC offset and was read in [`ReadReport::zone`].
    pub naive_times: u64,
    /// The time zone such times were read in.
    pub zone: String,
}

/// Rows of one entity that are out of order or repeat a time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OrderCounts {
    /// Rows earlier than the entity's previous row.
    pub out_of_order: u64,
    /// Rows at the same time as the entity's previous row.
    pub duplicate_times: u64,
}

impl ReadReport {
    /// A line on times read without a UTC offset: in which zone they were taken, and how to
    /// name another; `None` when every time was exact.
    pub fn time_note(&self) -> Option<String> {
        if self.naive_times == 0 {
            return None;
        }
        let n = self.naive_times;
        Some(if self.zone == "UTC" {
            format!(
                "{n} time{} had no UTC offset and {} read as UTC; if they are local times, name their zone (--timezone Europe/Berlin, or `timezone:` in the intent's file source)",
                if n == 1 { "" } else { "s" },
                if n == 1 { "was" } else { "were" }
            )
        } else {
            format!(
                "{n} time{} without a UTC offset read as local time in {}",
                if n == 1 { "" } else { "s" },
                self.zone
            )
        })
    }

    /// A line about time going backwards and duplicate times, naming the entities with the
    /// most; `None` when every entity's rows were in strictly increasing time.
    pub fn order_note(&self) -> Option<String> {
        if self.out_of_order == 0 && self.duplicate_times == 0 {
            return None;
        }
        let plural =
            |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let mut worst: Vec<(&String, &OrderCounts)> = self.order_by_entity.iter().collect();
        worst.sort_by_key(|(name, c)| {
            (
                std::cmp::Reverse(c.out_of_order + c.duplicate_times),
                name.as_str(),
            )
        });
        const SHOWN: usize = 5;
        let mut shown: Vec<String> = worst
            .iter()
            .take(SHOWN)
            .map(|(name, c)| {
                format!(
                    "{} ({} out of order, {} duplicate)",
                    shown(name),
                    c.out_of_order,
                    c.duplicate_times
                )
            })
            .collect();
        if self.order_by_entity.len() > SHOWN {
            shown.push("…".into());
        }
        Some(format!(
            "{} (time going backwards) and {} in {}: {}",
            plural(self.out_of_order, "row out of order", "rows out of order"),
            plural(self.duplicate_times, "duplicate time", "duplicate times"),
            plural(
                self.order_by_entity.len() as u64,
                "entity",
                if self.order_by_entity.len() < MAX_KEPT_ERRORS {
                    "entities"
                } else {
                    "or more entities"
                }
            ),
            shown.join(", ")
        ))
    }
}

/// A problem with one row, before it is tied to a file and line.
pub(crate) struct Fault {
    pub(crate) column: Option<String>,
    pub(crate) message: String,
}

impl Fault {
    fn at(column: &str, message: impl Into<String>) -> Self {
        Self {
            column: Some(column.to_string()),
            message: message.into(),
        }
    }
    pub(crate) fn line(message: impl Into<String>) -> Self {
        Self {
            column: None,
            message: message.into(),
        }
    }
}

/// How rows are turned into (entity, time, values).
pub(crate) enum Plan {
    /// The file has no header: there is nothing to read.
    Empty,
    Csv {
        delimiter: u8,
        header: Vec<String>,
        entity: usize,
        time: usize,
        columns: Vec<usize>,
    },
    Jsonl {
        entity: String,
        time: String,
        keys: Vec<String>,
    },
}

/// Where bad rows go under `on_error: quarantine`; the file is created at the first bad row.
struct Quarantine {
    path: PathBuf,
    format: FileFormat,
    mode: WriteMode,
    out: Option<BufWriter<File>>,
}

impl Quarantine {
    fn write(&mut self, error: &RowError, raw: &[u8]) -> Result<(), ConnectorError> {
        let io = |e| ConnectorError::io(self.path.display(), e);
        if self.out.is_none() {
            let (file, has_data) = self.mode.open(&self.path, "quarantine_mode")?;
            let mut out = BufWriter::new(file);
            if self.format == FileFormat::Csv && !has_data {
                out.write_all(b"line,reason,raw\n").map_err(io)?;
            }
            self.out = Some(out);
        }
        let Some(out) = self.out.as_mut() else {
            return Ok(());
        };
        match self.format {
            FileFormat::Csv => {
                let mut w = csv::WriterBuilder::new()
                    .has_headers(false)
                    .from_writer(&mut *out);
                w.write_record([
                    error.line.to_string().as_bytes(),
                    error.reason().as_bytes(),
                    raw,
                ])
                .map_err(|e| io(e.into()))?;
                w.flush().map_err(io)?;
            }
            FileFormat::Jsonl => {
                let rec = serde_json::json!({
                    "line": error.line,
                    "reason": error.reason(),
                    "raw": String::from_utf8_lossy(raw),
                });
                serde_json::to_writer(&mut *out, &rec).map_err(|e| io(e.into()))?;
                out.write_all(b"\n").map_err(io)?;
            }
        }
        out.flush().map_err(io)
    }
}

/// A streaming reader of observations from a CSV or JSON-lines file (see [`FileSourceConfig`]).
///
/// Memory stays constant whatever the file size: lines are read one at a time and a line over
/// [`MAX_LINE_BYTES`] is rejected as a bad row without being held in memory.
pub struct FileSource {
    name: String,
    lines: LineReader<Box<dyn BufRead + Send>>,
    plan: Plan,
    fields: Vec<String>,
    on_error: OnError,
    quarantine: Option<Quarantine>,
    report: ReadReport,
    pending: Option<RowError>,
    done: bool,
    scratch: Fields,
    values: Vec<f64>,
    last_entity: Option<Entity>,
    last_time: HashMap<Entity, Timestamp>,
    zone: chrono_tz::Tz,
}

impl std::fmt::Debug for FileSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileSource")
            .field("name", &self.name)
            .field("fields", &self.fields)
            .finish_non_exhaustive()
    }
}

fn open_file(path: &Path) -> Result<BufReader<File>, ConnectorError> {
    let file = File::open(path).map_err(|e| ConnectorError::io(path.display(), e))?;
    Ok(BufReader::with_capacity(MAX_LINE_BYTES, file))
}

impl FileSource {
    /// Opens the file and checks it against the pipeline's `fields`: each field reads the
    /// column `cfg.fields` maps it to, or the column of its own name. Batches carry the fields
    /// in the order given; with no fields at all, the file's numeric columns are read (see
    /// [`FileSource::fields`]).
    ///
    /// Fails when the file cannot be opened, when no entity or time column can be found,
    /// or when a field's column is not in the file (the error lists the columns there are).
    /// An empty file, or a CSV file with only a header, opens fine and yields no rows.
    pub fn open(cfg: &FileSourceConfig, fields: &[String]) -> Result<Self, ConnectorError> {
        let format = FileFormat::resolve(cfg.format, &cfg.path)?;
        let name = cfg.path.display().to_string();
        let schema = infer_from_reader(open_file(&cfg.path)?, format, &name)?;
        let quarantine = (cfg.on_error == OnError::Quarantine).then(|| Quarantine {
            path: cfg.quarantine_path(format),
            format,
            mode: cfg.quarantine_mode,
            out: None,
        });
        if let Some(q) = &quarantine {
            let same = q.path == cfg.path
                || matches!((q.path.canonicalize(), cfg.path.canonicalize()), (Ok(a), Ok(b)) if a == b);
            if same {
                return Err(ConnectorError::BadConfig {
                    path: name,
                    message:
                        "the quarantine file is the input file; name another with `quarantine:`"
                            .into(),
                });
            }
            q.mode.check(&q.path, "quarantine_mode")?;
        }
        Self::build(
            name,
            Box::new(open_file(&cfg.path)?),
            &schema,
            cfg,
            fields,
            quarantine,
        )
    }

    fn build(
        name: String,
        reader: Box<dyn BufRead + Send>,
        schema: &FileSchema,
        cfg: &FileSourceConfig,
        fields: &[String],
        quarantine: Option<Quarantine>,
    ) -> Result<Self, ConnectorError> {
        let mut lines = LineReader::new(reader, MAX_LINE_BYTES);
        let mut scratch = Fields::default();
        let (fields, columns): (Vec<String>, Vec<String>) = if fields.is_empty() {
            schema
                .numeric
                .iter()
                .map(|c| (c.clone(), c.clone()))
                .unzip()
        } else {
            fields
                .iter()
                .map(|f| (f.clone(), column_of(&cfg.fields, f)))
                .unzip()
        };
        let entity = cfg.entity.clone().or_else(|| schema.entity.clone());
        let time = cfg.time.clone().or_else(|| schema.time.clone());
        let plan = match schema.format {
            FileFormat::Csv => {
                let mut delimiter = b',';
                match read_header(&mut lines, &name, &mut scratch, &mut delimiter)? {
                    None => Plan::Empty,
                    Some(header) => {
                        let find = |column: &str, wanted: String| {
                            header.iter().position(|h| h == column).ok_or_else(|| {
                                ConnectorError::MissingColumn {
                                    path: name.clone(),
                                    wanted,
                                    column: column.to_string(),
                                    available: header.clone(),
                                }
                            })
                        };
                        let entity = entity.ok_or_else(|| ConnectorError::NoEntityColumn {
                            path: name.clone(),
                            columns: header.clone(),
                        })?;
                        let time = time.ok_or_else(|| ConnectorError::NoTimeColumn {
                            path: name.clone(),
                            columns: header.clone(),
                        })?;
                        let entity = find(&entity, "the entity".into())?;
                        let time = find(&time, "the time".into())?;
                        let columns = fields
                            .iter()
                            .zip(&columns)
                            .map(|(f, c)| find(c, format!("field `{f}`")))
                            .collect::<Result<_, _>>()?;
                        Plan::Csv {
                            delimiter,
                            header,
                            entity,
                            time,
                            columns,
                        }
                    }
                }
            }
            FileFormat::Jsonl => {
                let seen = &schema.columns;
                let check = |column: &str, wanted: String| {
                    if seen.is_empty() || seen.iter().any(|c| c == column) {
                        Ok(())
                    } else {
                        Err(ConnectorError::MissingColumn {
                            path: name.clone(),
                            wanted,
                            column: column.to_string(),
                            available: seen.clone(),
                        })
                    }
                };
                let entity = match entity {
                    Some(e) => e,
                    None if seen.is_empty() => "entity".to_string(),
                    None => {
                        return Err(ConnectorError::NoEntityColumn {
                            path: name,
                            columns: seen.clone(),
                        })
                    }
                };
                let time = match time {
                    Some(t) => t,
                    None if seen.is_empty() => "time".to_string(),
                    None => {
                        return Err(ConnectorError::NoTimeColumn {
                            path: name,
                            columns: seen.clone(),
                        })
                    }
                };
                check(&entity, "the entity".into())?;
                check(&time, "the time".into())?;
                for (f, c) in fields.iter().zip(&columns) {
                    check(c, format!("field `{f}`"))?;
                }
                Plan::Jsonl {
                    entity,
                    time,
                    keys: columns,
                }
            }
        };
        let zone = cfg.zone()?;
        Ok(Self {
            name,
            lines,
            plan,
            values: Vec::with_capacity(fields.len()),
            fields,
            on_error: cfg.on_error,
            quarantine,
            report: ReadReport {
                zone: zone.name().to_string(),
                ..ReadReport::default()
            },
            pending: None,
            done: false,
            scratch,
            last_entity: None,
            last_time: HashMap::new(),
            zone,
        })
    }

    /// The pipeline fields each batch row carries, in order.
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// What has been read so far: rows delivered, rows skipped or quarantined, and errors.
    pub fn report(&self) -> &ReadReport {
        &self.report
    }

    /// Reads up to `max_rows` good rows (at least one is asked for even when `max_rows` is 0).
    /// `Ok(None)` means the file is done.
    ///
    /// Under `on_error: fail` a bad row ends the read with [`ConnectorError::Row`]; if good
    /// rows came before it in the same call, they are returned first and the error comes from
    /// the next call. After the error, the source yields `Ok(None)`.
    pub fn next_batch(&mut self, max_rows: usize) -> Result<Option<Batch>, ConnectorError> {
        if let Some(e) = self.pending.take() {
            self.done = true;
            return Err(ConnectorError::Row(e));
        }
        if self.done {
            return Ok(None);
        }
        let want = max_rows.max(1);
        let mut batch = Batch::with_capacity(self.fields.len(), want.min(4096));
        while batch.len() < want {
            let Some((line_no, line)) = self
                .lines
                .next_line()
                .map_err(|e| ConnectorError::io(&self.name, e))?
            else {
                self.done = true;
                break;
            };
            let (result, raw) = match line {
                Line::Full(raw) if is_blank(raw) => continue,
                Line::Full(raw) => (
                    parse_row(
                        &self.plan,
                        &self.zone,
                        raw,
                        &mut self.scratch,
                        &mut self.values,
                        &mut self.last_entity,
                    ),
                    raw,
                ),
                Line::TooLong { prefix, len } => (
                    Err(too_long(&self.plan, prefix, len, &mut self.scratch)),
                    prefix,
                ),
            };
            match result {
                Ok(Some((entity, (time, naive)))) => {
                    self.report.naive_times += u64::from(naive);
                    note_order(&mut self.report, &mut self.last_time, &entity, time);
                    batch.push(entity, time, &self.values);
                    self.report.rows_ok += 1;
                }
                Ok(None) => {}
                Err(fault) => {
                    let error = RowError {
                        file: self.name.clone(),
                        line: line_no,
                        column: fault.column,
                        message: fault.message,
                    };
                    let report = &mut self.report;
                    report.errors_total += 1;
                    if report.errors.len() < MAX_KEPT_ERRORS {
                        report.errors.push(error.clone());
                    }
                    match self.on_error {
                        OnError::Fail => {
                            if batch.is_empty() {
                                self.done = true;
                                return Err(ConnectorError::Row(error));
                            }
                            self.pending = Some(error);
                            break;
                        }
                        OnError::Skip => report.rows_skipped += 1,
                        OnError::Quarantine => {
                            if let Some(q) = self.quarantine.as_mut() {
                                q.write(&error, raw)?;
                            }
                            report.rows_quarantined += 1;
                        }
                    }
                }
            }
        }
        Ok((!batch.is_empty()).then_some(batch))
    }
}

/// Counts a row whose time goes backwards or repeats, against its entity's previous row.
pub(crate) fn note_order(
    r: &mut ReadReport,
    last_time: &mut HashMap<Entity, Timestamp>,
    entity: &Entity,
    time: Timestamp,
) {
    let Some(last) = last_time.insert(entity.clone(), time) else {
        return;
    };
    let backwards = time < last;
    if backwards {
        r.out_of_order += 1;
    } else if time == last {
        r.duplicate_times += 1;
    } else {
        return;
    }
    if r.order_by_entity.len() >= MAX_KEPT_ERRORS && !r.order_by_entity.contains_key(entity.name())
    {
        return;
    }
    let counts = r
        .order_by_entity
        .entry(entity.name().to_string())
        .or_default();
    if backwards {
        counts.out_of_order += 1;
    } else {
        counts.duplicate_times += 1;
    }
}

pub(crate) fn column_of(map: &BTreeMap<String, String>, field: &str) -> String {
    map.get(field).cloned().unwrap_or_else(|| field.to_string())
}

/// Shows a value in an error message, cut short when long.
pub(crate) fn shown(text: &str) -> String {
    const MAX: usize = 60;
    if text.len() <= MAX {
        format!("{text:?}")
    } else {
        let mut end = MAX;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        format!("{:?}… ({} bytes)", &text[..end], text.len())
    }
}

fn too_long(plan: &Plan, prefix: &[u8], len: u64, scratch: &mut Fields) -> Fault {
    let message = format!("line is {len} bytes, over the limit of {MAX_LINE_BYTES}");
    // Name the CSV column that ran over, when the part kept shows it.
    if let Plan::Csv {
        delimiter, header, ..
    } = plan
    {
        let field = match csvline::split(prefix, *delimiter, scratch) {
            Ok(()) => scratch.len() - 1,
            Err(e) => e.field(),
        };
        if let Some(column) = header.get(field) {
            return Fault::at(column, message);
        }
    }
    Fault::line(message)
}

fn utf8<'a>(bytes: &'a [u8], column: &str) -> Result<&'a str, Fault> {
    std::str::from_utf8(bytes).map_err(|e| {
        let at = e.valid_up_to();
        let bad: Vec<String> = bytes[at..]
            .iter()
            .take(4)
            .map(|b| format!("{b:02x}"))
            .collect();
        Fault::at(
            column,
            format!("invalid UTF-8 at byte {} (bytes {})", at + 1, bad.join(" ")),
        )
    })
}

fn number(text: &str, column: &str) -> Result<f64, Fault> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(f64::NAN);
    }
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err(Fault::at(
            column,
            format!("{} is not a finite number", shown(t)),
        )),
        Err(_) => Err(Fault::at(column, format!("{} is not a number", shown(t)))),
    }
}

/// The time in `text` and whether it had no offset (read in `zone`).
fn time(text: &str, column: &str, zone: &chrono_tz::Tz) -> Result<ReadTime, Fault> {
    Timestamp::parse_in(text, zone).map_err(|e| {
        if let TimestampError::Skipped(t) = &e {
            return Fault::at(
                column,
                format!("`{t}` does not exist in {zone} (clocks jumped over it)"),
            );
        }
        if text.len() <= 100 {
            Fault::at(column, e.to_string())
        } else {
            Fault::at(column, format!("{} is not a timestamp", shown(text)))
        }
    })
}

fn entity(text: &str, column: &str, last: &mut Option<Entity>) -> Result<Entity, Fault> {
    let name = text.trim();
    if name.is_empty() {
        return Err(Fault::at(column, "empty entity"));
    }
    match last {
        Some(e) if e.name() == name => Ok(e.clone()),
        _ => {
            let e = Entity::new(name);
            *last = Some(e.clone());
            Ok(e)
        }
    }
}

/// A row's time, and whether it had no UTC offset.
pub(crate) type ReadTime = (Timestamp, bool);

/// Reads one non-blank line into `values`; `Ok(None)` for a line that holds no row.
pub(crate) fn parse_row(
    plan: &Plan,
    zone: &chrono_tz::Tz,
    raw: &[u8],
    scratch: &mut Fields,
    values: &mut Vec<f64>,
    last: &mut Option<Entity>,
) -> Result<Option<(Entity, ReadTime)>, Fault> {
    values.clear();
    match plan {
        Plan::Empty => Ok(None),
        Plan::Csv {
            delimiter,
            header,
            entity: ei,
            time: ti,
            columns,
        } => {
            csvline::split(raw, *delimiter, scratch).map_err(|e| {
                let column = header.get(e.field()).cloned();
                Fault {
                    column,
                    message: e.message().to_string(),
                }
            })?;
            let n = scratch.len();
            if n < header.len() {
                return Err(Fault::at(
                    &header[n],
                    format!(
                        "missing: the row has {n} fields, the header {}",
                        header.len()
                    ),
                ));
            }
            if n > header.len() {
                return Err(Fault::line(format!(
                    "the row has {n} fields, the header only {}",
                    header.len()
                )));
            }
            let e = entity(utf8(scratch.get(*ei), &header[*ei])?, &header[*ei], last)?;
            let t = time(utf8(scratch.get(*ti), &header[*ti])?, &header[*ti], zone)?;
            for &c in columns {
                values.push(number(utf8(scratch.get(c), &header[c])?, &header[c])?);
            }
            Ok(Some((e, t)))
        }
        Plan::Jsonl {
            entity: ek,
            time: tk,
            keys,
        } => {
            let text = utf8(raw, "").map_err(|f| Fault::line(f.message))?;
            if let Some(row) = fast_json_row(text, (ek, tk), keys, values, zone, last) {
                return Ok(Some(row));
            }
            // Anything the fast path does not take is read again, slowly, for its faults.
            values.clear();
            slow_json_row(text, (ek, tk), keys, values, zone, last).map(Some)
        }
    }
}

/// A JSON row read through a `Value`, with the fault of a bad one.
fn slow_json_row(
    text: &str,
    (ek, tk): (&str, &str),
    keys: &[String],
    values: &mut Vec<f64>,
    zone: &chrono_tz::Tz,
    last: &mut Option<Entity>,
) -> Result<(Entity, ReadTime), Fault> {
    let value: Value = serde_json::from_str(text).map_err(json_fault)?;
    let Value::Object(map) = value else {
        return Err(Fault::line(format!(
            "expected a JSON object, found {}",
            kind(&value)
        )));
    };
    let e = match map.get(ek) {
        None => return Err(Fault::at(ek, "missing")),
        Some(Value::String(s)) => entity(s, ek, last)?,
        Some(Value::Number(n)) => entity(&n.to_string(), ek, last)?,
        Some(v) => {
            return Err(Fault::at(
                ek,
                format!("expected a string, found {}", kind(v)),
            ))
        }
    };
    let t = match map.get(tk) {
        None => return Err(Fault::at(tk, "missing")),
        Some(Value::String(s)) => time(s, tk, zone)?,
        Some(Value::Number(n)) => time(&n.to_string(), tk, zone)?,
        Some(v) => return Err(Fault::at(tk, format!("expected a time, found {}", kind(v)))),
    };
    for k in keys {
        values.push(match map.get(k) {
            None | Some(Value::Null) => f64::NAN,
            Some(Value::Number(n)) => number(&n.to_string(), k)?,
            Some(Value::String(s)) => number(s, k)?,
            Some(v) => {
                return Err(Fault::at(
                    k,
                    format!("expected a number, found {}", kind(v)),
                ))
            }
        });
    }
    Ok((e, t))
}

/// A good JSON row read without building a `Value`: the entity and time (strings or
/// numbers) and `keys`' values into `values`, exactly as the `Value` path reads them. `None`
/// for anything else (bad JSON, a missing entity or time, a value of the wrong kind, a bad
/// number), which the caller reads again through that path for its fault.
fn fast_json_row(
    text: &str,
    (ek, tk): (&str, &str),
    keys: &[String],
    values: &mut Vec<f64>,
    zone: &chrono_tz::Tz,
    last: &mut Option<Entity>,
) -> Option<(Entity, ReadTime)> {
    let mut de = serde_json::Deserializer::from_str(text);
    let (e, t) = serde::de::DeserializeSeed::deserialize(
        JsonRow {
            ek,
            tk,
            keys,
            values: &mut *values,
        },
        &mut de,
    )
    .ok()?;
    de.end().ok()?;
    let e = entity(&e.text()?, ek, last).ok()?;
    let t = time(&t.text()?, tk, zone).ok()?;
    Some((e, t))
}

/// A JSON value as [`fast_json_row`] needs it.
enum Scalar<'a> {
    Missing,
    Null,
    Number(serde_json::Number),
    Str(std::borrow::Cow<'a, str>),
    Other,
}

impl Scalar<'_> {
    /// An entity's or time's text, as the `Value` path writes it.
    fn text(&self) -> Option<std::borrow::Cow<'_, str>> {
        match self {
            Self::Str(s) => Some(std::borrow::Cow::Borrowed(s)),
            Self::Number(n) => Some(std::borrow::Cow::Owned(n.to_string())),
            _ => None,
        }
    }
}

impl<'de> serde::Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> serde::de::Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Scalar::Other)
    }

    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Scalar::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Scalar::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Scalar::Other, Scalar::Number))
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(std::borrow::Cow::Borrowed(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(std::borrow::Cow::Owned(v.to_string())))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
        Ok(Scalar::Other)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map
            .next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?
            .is_some()
        {}
        Ok(Scalar::Other)
    }
}

/// Reads a JSON object's entity and time, and `keys`' values into `values`; an error for
/// anything [`fast_json_row`] leaves to the `Value` path.
struct JsonRow<'k, 'v> {
    ek: &'k str,
    tk: &'k str,
    keys: &'k [String],
    values: &'v mut Vec<f64>,
}

impl<'de> serde::de::DeserializeSeed<'de> for JsonRow<'_, '_> {
    type Value = (Scalar<'de>, Scalar<'de>);

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for JsonRow<'_, '_> {
    type Value = (Scalar<'de>, Scalar<'de>);

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        use serde::de::Error;
        let (mut e, mut t) = (Scalar::Missing, Scalar::Missing);
        self.values.clear();
        self.values.resize(self.keys.len(), f64::NAN);
        while let Some(key) = map.next_key::<Scalar<'de>>()? {
            let Scalar::Str(key) = key else {
                return Err(A::Error::custom("a key is not a string"));
            };
            let (is_e, is_t) = (key == self.ek, key == self.tk);
            let field = self.keys.iter().any(|k| *k == key);
            if !(is_e || is_t || field) {
                map.next_value::<serde::de::IgnoredAny>()?;
                continue;
            }
            let value: Scalar<'de> = map.next_value()?;
            if field {
                let v = match &value {
                    Scalar::Missing | Scalar::Null => f64::NAN,
                    Scalar::Number(n) => {
                        n.as_f64().ok_or_else(|| A::Error::custom("not a number"))?
                    }
                    Scalar::Str(s) => {
                        number(s, &key).map_err(|_| A::Error::custom("not a number"))?
                    }
                    Scalar::Other => return Err(A::Error::custom("not a number")),
                };
                for (slot, k) in self.values.iter_mut().zip(self.keys) {
                    if *k == key {
                        *slot = v;
                    }
                }
            }
            match (is_e, is_t) {
                (true, true) => {
                    t = match &value {
                        Scalar::Str(s) => Scalar::Str(s.clone()),
                        Scalar::Number(n) => Scalar::Number(n.clone()),
                        _ => Scalar::Other,
                    };
                    e = value;
                }
                (true, false) => e = value,
                (false, true) => t = value,
                (false, false) => {}
            }
        }
        Ok((e, t))
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn json_fault(e: serde_json::Error) -> Fault {
    let text = e.to_string();
    let what = text
        .rfind(" at line ")
        .map_or(text.as_str(), |i| &text[..i]);
    let what = if e.is_eof() {
        format!("truncated JSON ({what})")
    } else {
        format!("invalid JSON: {what}")
    };
    Fault::line(format!("{what} at column {}", e.column()))
}

/// Reads every row of `bytes` as `format` (bad rows skipped), for tests and fuzzing.
/// `fields` as in [`FileSource::open`].
pub fn read_bytes(
    format: FileFormat,
    bytes: &[u8],
    fields: &[String],
) -> Result<(Batch, ReadReport), ConnectorError> {
    let name = format!("<bytes>.{}", format.extension());
    let schema = infer_from_reader(bytes, format, &name)?;
    let mut cfg = FileSourceConfig::new(&name);
    cfg.format = Some(format);
    let mut source = FileSource::build(
        name,
        Box::new(Cursor::new(bytes.to_vec())),
        &schema,
        &cfg,
        fields,
        None,
    )?;
    let mut all = Batch::new(source.fields().len());
    while let Some(batch) = source.next_batch(1024)? {
        for (e, t, v) in batch.rows() {
            all.push(e.clone(), t, v);
        }
    }
    Ok((all, source.report))
}

/// Rows per batch a pipeline reads from a file or a live bus.
pub(crate) const PIPELINE_BATCH_ROWS: usize = 4096;

/// Most rows of a file running backwards in time that are read whole to be put in time order
/// (about 40 bytes a row beside its values); a larger one is refused, with how to sort it.
pub const MAX_SORTED_ROWS: usize = 5_000_000;

/// The rows of `batches` (of `width` fields) in time order, rows of one time in the order
/// read, in batches of [`PIPELINE_BATCH_ROWS`].
pub fn in_time_order(batches: Vec<Batch>, width: usize) -> Vec<Batch> {
    let mut order: Vec<(Timestamp, usize, usize)> = batches
        .iter()
        .enumerate()
        .flat_map(|(b, batch)| {
            batch
                .times()
                .iter()
                .enumerate()
                .map(move |(i, &t)| (t, b, i))
        })
        .collect();
    order.sort_by_key(|&(t, _, _)| t);
    let mut out = Vec::with_capacity(order.len().div_ceil(PIPELINE_BATCH_ROWS));
    for chunk in order.chunks(PIPELINE_BATCH_ROWS) {
        let mut batch = Batch::with_capacity(width, chunk.len());
        for &(t, b, i) in chunk {
            batch.push(batches[b].entity(i).clone(), t, batches[b].row(i));
        }
        out.push(batch);
    }
    out
}

/// A file as a pipeline's source: worker 0 reads it and the dataflow routes rows to their
/// owners. A file that runs newest first (most rows of its first batch go back in time within
/// their entity, as exports sorted by descending time do) is read whole, up to
/// [`MAX_SORTED_ROWS`], and delivered oldest first: the detectors learn forwards, and a
/// watermark would otherwise drop all but the newest rows as late. Rows that are only a
/// little out of order stream as they are, for the pipeline's event time.
struct FileRows {
    file: FileSource,
    width: usize,
    /// The first batch has been read.
    started: bool,
    /// The whole file in time order, once it was found to run backwards.
    sorted: Option<std::vec::IntoIter<Batch>>,
    /// The error that stopped reading it (`on_error: fail`), for after the rows before it.
    stopped: Option<SourceError>,
}

impl FileRows {
    fn next(&mut self) -> Result<Option<Batch>, SourceError> {
        let err = |e: ConnectorError| SourceError(e.to_string());
        if let Some(sorted) = &mut self.sorted {
            return match sorted.next() {
                Some(b) => Ok(Some(b)),
                None => self.stopped.take().map_or(Ok(None), Err),
            };
        }
        let Some(first) = self.file.next_batch(PIPELINE_BATCH_ROWS).map_err(err)? else {
            return Ok(None);
        };
        if std::mem::replace(&mut self.started, true) || !runs_backwards(&first, self.file.report())
        {
            return Ok(Some(first));
        }
        let mut rows = first.len();
        let mut all = vec![first];
        loop {
            let b = match self.file.next_batch(PIPELINE_BATCH_ROWS) {
                Ok(Some(b)) => b,
                Ok(None) => break,
                // Every good row before it is still delivered, then the error.
                Err(e) => {
                    self.stopped = Some(err(e));
                    break;
                }
            };
            rows += b.len();
            if rows > MAX_SORTED_ROWS {
                return Err(SourceError(format!(
                    "{}: its rows run newest first, and it has over {MAX_SORTED_ROWS} rows, more than are sorted in memory; sort it oldest first",
                    self.file.name
                )));
            }
            all.push(b);
        }
        let mut sorted = in_time_order(all, self.width).into_iter();
        let next = sorted.next();
        self.sorted = Some(sorted);
        Ok(next)
    }
}

/// Whether most rows of `first` (the file's first batch, as `report` counted it) that follow
/// another row of their entity go back in time.
fn runs_backwards(first: &Batch, report: &ReadReport) -> bool {
    let mut entities = std::collections::HashSet::new();
    for i in 0..first.len() {
        entities.insert(first.entity(i));
    }
    let followers = first.len().saturating_sub(entities.len()) as u64;
    followers > 0 && 2 * report.out_of_order > followers
}

impl Source for FileRows {
    fn next_batch(&mut self) -> Option<Result<Batch, SourceError>> {
        self.next().transpose()
    }

    fn summary(&self) -> Option<String> {
        let summary = self.file.report().summary();
        Some(if self.sorted.is_some() {
            format!("{summary}; the file runs newest first: read whole and delivered oldest first")
        } else {
            summary
        })
    }
}

impl SourceComponent for FileSourceConfig {
    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }

    fn target(&self) -> String {
        self.path.display().to_string()
    }

    /// Every numeric column (an error when there is none).
    fn fields(&self) -> Result<Vec<String>, SourceError> {
        let schema = self
            .infer_schema()
            .map_err(|e| SourceError(e.to_string()))?;
        if schema.numeric.is_empty() {
            return Err(SourceError(format!(
                "{} has no numeric columns",
                self.path.display()
            )));
        }
        Ok(schema.numeric)
    }

    fn open(&self, fields: &[String]) -> Result<SourceFactory, SourceError> {
        let (config, fields) = (self.clone(), fields.to_vec());
        Ok(first_worker(move || {
            FileSource::open(&config, &fields)
                .map(|file| FileRows {
                    file,
                    width: fields.len(),
                    started: false,
                    sorted: None,
                    stopped: None,
                })
                .map_err(|e| SourceError(e.to_string()))
        }))
    }

    /// Submitted remotely, a file outside the working directory.
    fn problems(&self, _fields: &[String], remote: bool) -> Vec<SourceProblem> {
        let mut out = Vec::new();
        let hint = "an intent submitted remotely may only name files below the working directory";
        for (key, path) in [
            ("path", Some(&self.path)),
            ("quarantine", self.quarantine.as_ref()),
        ] {
            if let Some(path) = path.filter(|p| remote && leaves_working_dir(p)) {
                out.push(SourceProblem::new(
                    ProblemAt::Key(key),
                    format!("`{}` leaves the working directory", path.display()),
                    Some(hint),
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fast path reads every row it takes as the `Value` path does, and leaves it the
    /// rest (whose faults it reports).
    #[test]
    fn the_fast_json_path_reads_as_the_value_path() {
        let keys: Vec<String> = ["a", "b", "entity"].map(String::from).to_vec();
        let zone = chrono_tz::Tz::UTC;
        let lines = [
            r#"{"entity":"c1","time":"2024-01-01T00:00:00Z","a":1.5,"b":"2","x":[1,{"y":2}]}"#,
            r#"{"time":900,"entity":7,"a":null,"b":"","a":3e2}"#,
            r#"{"entity":"c\u0031","time":"2024-01-01 00:15","a":18446744073709551615,"b":-4}"#,
            r#"{"entity":"c1","time":900.5,"b":true}"#,
            r#"{"entity":"c1","time":"soon","a":1}"#,
            r#"{"entity":"","time":0}"#,
            r#"{"entity":"c1"}"#,
            r#"{"entity":"c1","time":0,"a":"x"}"#,
            r#"{"entity":"c1","time":0,"a":{}}"#,
            r#"[1,2]"#,
            r#"{"entity":"c1","time":0} x"#,
            r#"{"entity":"c1","time":0"#,
        ];
        for line in lines {
            let (mut fast, mut slow) = (Vec::new(), Vec::new());
            let got = fast_json_row(line, ("entity", "time"), &keys, &mut fast, &zone, &mut None);
            let want = slow_json_row(line, ("entity", "time"), &keys, &mut slow, &zone, &mut None);
            match (got, want) {
                (Some(g), Ok(w)) => {
                    assert_eq!(g, w, "{line}");
                    assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{line}");
                }
                (None, Err(_)) => {}
                (g, w) => panic!("{line}: fast {g:?}, slow {:?}", w.map_err(|f| f.message)),
            }
        }
    }
}
