use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use ai4ict_core::Timestamp;
use serde::Serialize;
use serde_json::Value;

use crate::csvline::{self, Fields};
use crate::lines::{is_blank, Line, LineReader, MAX_LINE_BYTES};
use crate::{ConnectorError, FileFormat, RowError};

/// How many data rows schema inference looks at.
pub const SAMPLE_ROWS: usize = 200;

/// Column names taken as the entity, in order of preference (compared without case).
const ENTITY_NAMES: &[&str] = &[
    "entity",
    "entity_id",
    "cell",
    "cell_id",
    "cellid",
    "cell_name",
    "id",
    "host",
    "hostname",
    "name",
    "device",
    "device_id",
    "node",
    "node_id",
    "site",
    "site_id",
    "sensor",
    "sensor_id",
    "link",
    "link_id",
    "interface",
    "instance",
    "key",
];

/// Column names taken as the time, in order of preference (compared without case).
const TIME_NAMES: &[&str] = &[
    "time",
    "timestamp",
    "ts",
    "datetime",
    "date_time",
    "date",
    "event_time",
    "@timestamp",
    "_time",
    "time_stamp",
    "start_time",
    "period_start",
];

/// What a file holds, as far as its header and first rows tell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FileSchema {
    /// The file format.
    pub format: FileFormat,
    /// Every column: the CSV header, or the keys of the sampled JSON objects (sorted by name).
    pub columns: Vec<String>,
    /// The entity column, if one was found.
    pub entity: Option<String>,
    /// The time column, if one was found.
    pub time: Option<String>,
    /// The other columns whose sampled values are all numbers or empty, in file order.
    pub numeric: Vec<String>,
    /// CSV separator (`,`, `;` or tab).
    #[serde(skip)]
    pub(crate) delimiter: u8,
}

/// What the sampled values of one column look like.
#[derive(Default, Clone)]
struct Stats {
    present: usize,
    numbers: usize,
    times: usize,
    epochs: usize,
}

impl Stats {
    fn see_text(&mut self, s: &str) {
        let s = s.trim();
        if s.is_empty() {
            return;
        }
        self.present += 1;
        if let Ok(v) = s.parse::<f64>() {
            self.numbers += 1;
            if v >= 1e9 && Timestamp::parse(s).is_ok() {
                self.epochs += 1;
            }
        } else if Timestamp::parse(s).is_ok() {
            self.times += 1;
        }
    }

    fn see_json(&mut self, v: &Value) {
        match v {
            Value::Null => {}
            Value::String(s) => self.see_text(s),
            Value::Number(n) => self.see_text(&n.to_string()),
            _ => self.present += 1,
        }
    }

    fn all_times(&self) -> bool {
        self.present > 0 && self.times + self.epochs == self.present
    }

    fn is_text(&self) -> bool {
        self.present > self.numbers
    }

    fn is_numeric(&self) -> bool {
        self.numbers == self.present
    }
}

/// Looks at the header and first [`SAMPLE_ROWS`] rows of `path` and guesses its entity, time
/// and numeric columns. The format comes from the extension.
///
/// An empty file gives an empty schema (no columns), not an error.
pub fn infer_schema(path: &Path) -> Result<FileSchema, ConnectorError> {
    let format = FileFormat::resolve(None, path)?;
    let file = File::open(path).map_err(|e| ConnectorError::io(path.display(), e))?;
    infer_from_reader(BufReader::new(file), format, &path.display().to_string())
}

/// [`infer_schema`] over any reader; `name` is used in errors.
pub(crate) fn infer_from_reader(
    reader: impl BufRead,
    format: FileFormat,
    name: &str,
) -> Result<FileSchema, ConnectorError> {
    let mut lines = LineReader::new(reader, MAX_LINE_BYTES);
    let mut columns: Vec<String> = Vec::new();
    let mut stats: Vec<Stats> = Vec::new();
    let mut delimiter = b',';
    let mut sampled = 0;
    let io = |e| ConnectorError::io(name, e);
    match format {
        FileFormat::Csv => {
            let mut fields = Fields::default();
            let Some(header) = read_header(&mut lines, name, &mut fields, &mut delimiter)? else {
                return Ok(build(format, columns, &stats, delimiter));
            };
            columns = header;
            stats = vec![Stats::default(); columns.len()];
            while sampled < SAMPLE_ROWS {
                let Some((_, line)) = lines.next_line().map_err(io)? else {
                    break;
                };
                let Line::Full(line) = line else { continue };
                if is_blank(line) || csvline::split(line, delimiter, &mut fields).is_err() {
                    continue;
                }
                sampled += 1;
                for (i, st) in stats.iter_mut().enumerate().take(fields.len()) {
                    if let Ok(s) = std::str::from_utf8(fields.get(i)) {
                        st.see_text(s);
                    }
                }
            }
        }
        FileFormat::Jsonl => {
            let mut index: HashMap<String, usize> = HashMap::new();
            while sampled < SAMPLE_ROWS {
                let Some((_, line)) = lines.next_line().map_err(io)? else {
                    break;
                };
                let Line::Full(line) = line else { continue };
                if is_blank(line) {
                    continue;
                }
                let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(line) else {
                    continue;
                };
                sampled += 1;
                for (k, v) in &map {
                    let i = *index.entry(k.clone()).or_insert_with(|| {
                        columns.push(k.clone());
                        stats.push(Stats::default());
                        columns.len() - 1
                    });
                    stats[i].see_json(v);
                }
            }
        }
    }
    Ok(build(format, columns, &stats, delimiter))
}

/// Reads the first non-blank line as a CSV header; `None` for a file without one.
pub(crate) fn read_header<R: BufRead>(
    lines: &mut LineReader<R>,
    name: &str,
    fields: &mut Fields,
    delimiter: &mut u8,
) -> Result<Option<Vec<String>>, ConnectorError> {
    loop {
        let Some((no, line)) = lines.next_line().map_err(|e| ConnectorError::io(name, e))? else {
            return Ok(None);
        };
        let bad = |message: String| {
            ConnectorError::Row(RowError {
                file: name.to_string(),
                line: no,
                column: None,
                message,
            })
        };
        let line = match line {
            Line::Full(l) if is_blank(l) => continue,
            Line::Full(l) => l,
            Line::TooLong { len, .. } => {
                return Err(bad(format!(
                    "header line is {len} bytes, over the limit of {MAX_LINE_BYTES}"
                )))
            }
        };
        *delimiter = csvline::detect_delimiter(line);
        csvline::split(line, *delimiter, fields)
            .map_err(|e| bad(format!("header column {}: {}", e.field() + 1, e.message())))?;
        let mut names = Vec::with_capacity(fields.len());
        for i in 0..fields.len() {
            let s = std::str::from_utf8(fields.get(i))
                .map_err(|_| bad(format!("header column {}: invalid UTF-8", i + 1)))?;
            names.push(s.trim().to_string());
        }
        return Ok(Some(names));
    }
}

fn by_name(columns: &[String], names: &[&str], except: Option<&str>) -> Option<String> {
    names.iter().find_map(|want| {
        columns
            .iter()
            .find(|c| c.eq_ignore_ascii_case(want) && Some(c.as_str()) != except)
            .cloned()
    })
}

fn build(format: FileFormat, columns: Vec<String>, stats: &[Stats], delimiter: u8) -> FileSchema {
    let time = by_name(&columns, TIME_NAMES, None).or_else(|| {
        columns
            .iter()
            .zip(stats)
            .find(|(_, s)| s.all_times() && s.times > 0)
            .map(|(c, _)| c.clone())
    });
    let time = time.or_else(|| {
        columns
            .iter()
            .zip(stats)
            .find(|(_, s)| s.all_times())
            .map(|(c, _)| c.clone())
    });
    let entity = by_name(&columns, ENTITY_NAMES, time.as_deref()).or_else(|| {
        columns
            .iter()
            .zip(stats)
            .find(|(c, s)| Some(c.as_str()) != time.as_deref() && s.is_text())
            .map(|(c, _)| c.clone())
    });
    let numeric = columns
        .iter()
        .zip(stats)
        .filter(|(c, s)| {
            Some(c.as_str()) != entity.as_deref()
                && Some(c.as_str()) != time.as_deref()
                && s.is_numeric()
        })
        .map(|(c, _)| c.clone())
        .collect();
    FileSchema {
        format,
        columns,
        entity,
        time,
        numeric,
        delimiter,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &str) -> FileSchema {
        infer_from_reader(text.as_bytes(), FileFormat::Csv, "t.csv").unwrap()
    }

    #[test]
    fn names_win() {
        let s = csv("Timestamp,Cell_ID,prb_util,dl\n2024-01-01T00:00:00Z,17,0.5,3\n");
        assert_eq!(s.time.as_deref(), Some("Timestamp"));
        assert_eq!(s.entity.as_deref(), Some("Cell_ID"));
        assert_eq!(s.numeric, ["prb_util", "dl"]);
    }

    #[test]
    fn values_decide_when_names_do_not() {
        let s = csv("when;where;load\n2024-01-01 00:00:00;site-a;1\n2024-01-01 00:15:00;site-b;\n");
        assert_eq!(s.delimiter, b';');
        assert_eq!(s.time.as_deref(), Some("when"));
        assert_eq!(s.entity.as_deref(), Some("where"));
        assert_eq!(s.numeric, ["load"]);
        let s = csv("k,epoch,v\na,1704067200,5\n");
        assert_eq!(
            (s.entity.as_deref(), s.time.as_deref()),
            (Some("k"), Some("epoch"))
        );
    }

    #[test]
    fn empty_and_header_only() {
        let s = csv("");
        assert!(s.columns.is_empty() && s.entity.is_none());
        let s = csv("entity,time,x\n");
        assert_eq!(s.numeric, ["x"]);
        let s = csv("time,x\n2024-01-01T00:00:00Z,0.5\n");
        assert_eq!(s.entity, None);
    }

    #[test]
    fn jsonl_keys_are_the_union_of_sampled_objects() {
        let text = "{\"host\":\"h1\",\"ts\":1704067200000,\"cpu\":0.5}\nnot json\n{\"host\":\"h2\",\"ts\":1704067260000,\"mem\":\"7\"}\n";
        let s = infer_from_reader(text.as_bytes(), FileFormat::Jsonl, "t.jsonl").unwrap();
        assert_eq!(s.columns, ["cpu", "host", "ts", "mem"]);
        assert_eq!(
            (s.entity.as_deref(), s.time.as_deref()),
            (Some("host"), Some("ts"))
        );
        assert_eq!(s.numeric, ["cpu", "mem"]);
    }
}
