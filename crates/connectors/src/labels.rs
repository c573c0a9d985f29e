//! Labelled incidents of an operator's own data: the ground truth a pipeline is evaluated on
//! when its source is a file (Y.3181 §8.2.1.2 evaluation against labelled data).
//!
//! Three shapes are read:
//! - `labels.json` as `ai4ict sandbox generate` writes it: an array of
//!   `{"entity", "kind", "start", "end"}` objects, times in epoch milliseconds (or strings);
//! - a CSV with the header `entity,start,end,kind` (columns in any order, `kind` optional:
//!   `anomaly` when absent or empty), times in any form the sources accept;
//! - NAB's `combined_windows.json` (an object from data file to `[start, end]` windows): the
//!   windows of the entry named like the series file, for a file that is one series.

use std::io::Read;
use std::path::Path;

use ai4ict_core::{Entity, Incident, IncidentKind, Timestamp};
use serde_json::Value;

/// Largest labels file read; checked while reading, so a device or a growing file stops there.
pub const MAX_LABELS_BYTES: u64 = 64 << 20;

/// A label file that cannot be used: where (file, line, field) and why.
#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    /// The file cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The labels file.
        path: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A place in the file is wrong.
    #[error("{path}:{}{}: {message}", line.map_or("?".into(), |l| l.to_string()), field.as_ref().map_or(String::new(), |f| format!(": field `{f}`")))]
    Bad {
        /// The labels file.
        path: String,
        /// 1-based line, when known.
        line: Option<u64>,
        /// The field (column or key) at fault, when one is.
        field: Option<String>,
        /// What is wrong, in words.
        message: String,
    },
}

/// Reads the labelled incidents in `path`, sorted by start.
///
/// `series` is the entity of a file that is one series (a NAB-style `timestamp,value` file,
/// named after the file's stem): NAB windows are given to it, and they are looked up by that
/// name. A `.json` file is JSON, anything else CSV.
pub fn read_labels(path: &Path, series: Option<&str>) -> Result<Vec<Incident>, LabelError> {
    let name = path.display().to_string();
    let io = |source| LabelError::Io {
        path: name.clone(),
        source,
    };
    if !std::fs::metadata(path).map_err(io)?.is_file() {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file (a device, pipe or folder); labels are a JSON or CSV file",
        )));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .map_err(io)?
        .take(MAX_LABELS_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_LABELS_BYTES {
        return Err(bad(
            &name,
            None,
            None,
            format!("larger than {MAX_LABELS_BYTES} bytes"),
        ));
    }
    let json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let mut incidents = if json {
        from_json(&bytes, &name, series)?
    } else {
        from_csv(&bytes, &name)?
    };
    incidents
        .sort_by(|a, b| (a.start, a.end, a.entity.name()).cmp(&(b.start, b.end, b.entity.name())));
    Ok(incidents)
}

fn bad(path: &str, line: Option<u64>, field: Option<&str>, message: String) -> LabelError {
    LabelError::Bad {
        path: path.to_string(),
        line,
        field: field.map(str::to_string),
        message,
    }
}

fn kind(text: &str) -> Result<IncidentKind, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(IncidentKind::Anomaly);
    }
    IncidentKind::ALL
        .into_iter()
        .find(|k| k.as_str().eq_ignore_ascii_case(t))
        .ok_or_else(|| {
            let names: Vec<&str> = IncidentKind::ALL.iter().map(|k| k.as_str()).collect();
            format!("`{t}` is not an incident kind; one of {}", names.join(", "))
        })
}

fn time(text: &str) -> Result<Timestamp, String> {
    Timestamp::parse(text).map_err(|e| e.to_string())
}

/// The incident from its parts, `end` not before `start`.
fn incident(entity: &str, kind: IncidentKind, start: Timestamp, end: Timestamp) -> Incident {
    Incident {
        entity: Entity::new(entity),
        kind,
        start,
        end,
    }
}

fn from_csv(bytes: &[u8], path: &str) -> Result<Vec<Incident>, LabelError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let csv_err = |e: csv::Error| {
        let line = e.position().map(|p| p.line());
        let message = match e.kind() {
            csv::ErrorKind::Utf8 { .. } => "not UTF-8 text".to_string(),
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => format!("{len} fields where the header has {expected_len}"),
            _ => e.to_string(),
        };
        bad(path, line.or(Some(1)), None, message)
    };
    let header = reader.headers().map_err(csv_err)?.clone();
    let column = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (entity, start, end) = match (column("entity"), column("start"), column("end")) {
        (Some(e), Some(s), Some(t)) => (e, s, t),
        _ => {
            return Err(bad(
                path,
                Some(1),
                None,
                format!(
                    "the header must name the columns entity, start, end (and kind); it has [{}]",
                    header.iter().collect::<Vec<_>>().join(", ")
                ),
            ))
        }
    };
    let kind_col = column("kind");
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(csv_err)?;
        let line = record.position().map(|p| p.line());
        let at = |field: &str, message: String| bad(path, line, Some(field), message);
        let get = |i: usize| record.get(i).unwrap_or("");
        let name = get(entity);
        if name.is_empty() {
            return Err(at("entity", "empty".into()));
        }
        let s = time(get(start)).map_err(|m| at("start", m))?;
        let t = time(get(end)).map_err(|m| at("end", m))?;
        if t < s {
            return Err(at("end", format!("{t} is before start {s}")));
        }
        let k = kind(kind_col.map_or("", get)).map_err(|m| at("kind", m))?;
        out.push(incident(name, k, s, t));
    }
    Ok(out)
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> u64 {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64
        + 1
}

fn from_json(bytes: &[u8], path: &str, series: Option<&str>) -> Result<Vec<Incident>, LabelError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = line_of(
            &String::from_utf8_lossy(&bytes[..e.valid_up_to()]),
            e.valid_up_to(),
        );
        bad(path, Some(line), None, "not UTF-8 text".into())
    })?;
    let value: Value = serde_json::from_str(text)
        .map_err(|e| bad(path, Some(e.line() as u64), None, e.to_string()))?;
    // Positions of entries for messages: the line where each top-level entry starts.
    let entry_lines = entry_lines(text);
    match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| sandbox_entry(item, path, entry_lines.get(i).copied()))
            .collect(),
        Value::Object(map) => nab_windows(&map, path, series, text),
        _ => Err(bad(
            path,
            Some(1),
            None,
            "expected an array of incidents (sandbox labels.json) or an object of windows per file (NAB combined_windows.json)".into(),
        )),
    }
}

/// The line on which each element of the top-level array or object begins.
fn entry_lines(text: &str) -> Vec<u64> {
    let (mut depth, mut in_str, mut escaped, mut line) = (0usize, false, false, 1u64);
    let mut out = Vec::new();
    let mut expect_entry = false;
    for b in text.bytes() {
        if b == b'\n' {
            line += 1;
        }
        if in_str {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
            continue;
        }
        if expect_entry && !b.is_ascii_whitespace() && b != b']' && b != b'}' {
            out.push(line);
            expect_entry = false;
        }
        match b {
            b'"' => in_str = true,
            b'[' | b'{' => {
                depth += 1;
                if depth == 1 {
                    expect_entry = true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => expect_entry = true,
            _ => {}
        }
    }
    out
}

fn sandbox_entry(item: &Value, path: &str, line: Option<u64>) -> Result<Incident, LabelError> {
    let at = |field: &str, message: String| bad(path, line, Some(field), message);
    let Value::Object(obj) = item else {
        return Err(bad(
            path,
            line,
            None,
            "expected an object with entity, kind, start and end".into(),
        ));
    };
    let text = |key: &str| -> Result<&str, LabelError> {
        match obj.get(key) {
            Some(Value::String(s)) => Ok(s),
            Some(other) => Err(at(key, format!("expected a string, found {other}"))),
            None => Err(at(key, "missing".into())),
        }
    };
    let stamp = |key: &str| -> Result<Timestamp, LabelError> {
        match obj.get(key) {
            Some(Value::String(s)) => time(s).map_err(|m| at(key, m)),
            // Numbers are epoch milliseconds, as the sandbox writes them.
            Some(Value::Number(n)) => n
                .as_i64()
                .filter(|ms| *ms >= 0)
                .map(Timestamp)
                .ok_or_else(|| at(key, format!("{n} is not a time in epoch milliseconds"))),
            Some(other) => Err(at(key, format!("expected a time, found {other}"))),
            None => Err(at(key, "missing".into())),
        }
    };
    let entity = text("entity")?;
    if entity.trim().is_empty() {
        return Err(at("entity", "empty".into()));
    }
    let k = match obj.get("kind") {
        None | Some(Value::Null) => IncidentKind::Anomaly,
        Some(_) => kind(text("kind")?).map_err(|m| at("kind", m))?,
    };
    let (s, t) = (stamp("start")?, stamp("end")?);
    if t < s {
        return Err(at("end", format!("{t} is before start {s}")));
    }
    Ok(incident(entity, k, s, t))
}

fn nab_windows(
    map: &serde_json::Map<String, Value>,
    path: &str,
    series: Option<&str>,
    text: &str,
) -> Result<Vec<Incident>, LabelError> {
    let Some(series) = series else {
        return Err(bad(
            path,
            Some(1),
            None,
            "NAB windows (an object per data file) label a file that is one series; the input has an entity column".into(),
        ));
    };
    // The entry whose file stem is the series' name (`realTraffic/speed_7578.csv` for
    // `speed_7578`).
    let stem = |key: &str| {
        Path::new(key)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
    };
    let Some((key, windows)) = map.iter().find(|(k, _)| stem(k).as_deref() == Some(series)) else {
        return Err(bad(
            path,
            None,
            None,
            format!(
                "no entry for the series `{series}` among its {} files",
                map.len()
            ),
        ));
    };
    let line = text
        .find(&format!("\"{key}\""))
        .map(|offset| line_of(text, offset));
    let at = |message: String| bad(path, line, Some(key), message);
    let Value::Array(windows) = windows else {
        return Err(at("expected an array of [start, end] windows".into()));
    };
    windows
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let pair = w.as_array().filter(|p| p.len() == 2);
            let Some([Value::String(a), Value::String(b)]) = pair.map(Vec::as_slice) else {
                return Err(at(format!(
                    "window {i} is not a [start, end] pair of times"
                )));
            };
            let s = time(a).map_err(|m| at(format!("window {i}: {m}")))?;
            let t = time(b).map_err(|m| at(format!("window {i}: {m}")))?;
            if t < s {
                return Err(at(format!("window {i}: end {t} is before start {s}")));
            }
            Ok(incident(series, IncidentKind::Anomaly, s, t))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &[u8]) -> std::path::PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn err(dir: &Path, name: &str, text: &str, series: Option<&str>) -> String {
        let p = write(dir, name, text.as_bytes());
        read_labels(&p, series).unwrap_err().to_string()
    }

    #[test]
    fn reads_the_sandbox_shape() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "labels.json",
            br#"[
  {"entity": "cell-0002", "kind": "outage", "start": "2024-01-09T10:00:00Z", "end": "2024-01-09T11:00:00Z"},
  {"entity": "cell-0001", "kind": "counter_reset", "start": "2024-01-08T10:00:00Z", "end": "2024-01-08T10:00:00Z"}
]"#,
        );
        let l = read_labels(&p, None).unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].entity.name(), "cell-0001");
        assert_eq!(l[0].kind, IncidentKind::CounterReset);
        assert_eq!(l[1].kind, IncidentKind::Outage);
        assert_eq!(l[1].end.0 - l[1].start.0, 3_600_000);
    }

    #[test]
    fn reads_a_csv_in_any_column_order_with_a_bom_and_crlf() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "l.csv",
            b"\xEF\xBB\xBFkind,entity,end,start\r\ninterference,a,2024-01-01 02:00,2024-01-01 01:00\r\n,b,1704074400,1704070800\r\n",
        );
        let l = read_labels(&p, None).unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].kind, IncidentKind::Interference);
        assert_eq!(l[1].kind, IncidentKind::Anomaly);
        assert_eq!(l[0].start, l[1].start);
    }

    #[test]
    fn reads_nab_windows_of_the_named_series() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "combined_windows.json",
            br#"{
  "realTraffic/other.csv": [],
  "realTraffic/speed_7578.csv": [["2015-09-10 10:00:00.000000", "2015-09-11 10:00:00.000000"]]
}"#,
        );
        let l = read_labels(&p, Some("speed_7578")).unwrap();
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].entity.name(), "speed_7578");
        let e = read_labels(&p, Some("nope")).unwrap_err().to_string();
        assert!(e.contains("no entry for the series `nope`"), "{e}");
        let e = read_labels(&p, None).unwrap_err().to_string();
        assert!(e.contains("one series"), "{e}");
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let cases = [
            (
                "a.csv",
                "entity,start,end,kind\na,2024-01-01,2024-01-02,outage\nb,2024-13-45,2024-01-02,outage\n",
                ":3: field `start`",
            ),
            (
                "b.csv",
                "entity,start,end,kind\na,2024-01-02,2024-01-01,outage\n",
                ":2: field `end`: 2024-01-01T00:00:00Z is before start",
            ),
            (
                "c.csv",
                "entity,start,end,kind\na,2024-01-01,2024-01-02,meteor\n",
                ":2: field `kind`: `meteor` is not an incident kind",
            ),
            ("d.csv", "entity,time,value\n", ":1: the header must name"),
            (
                "e.csv",
                "entity,start,end\na,2024-01-01\n",
                ":2: 2 fields where the header has 3",
            ),
            (
                "f.json",
                "[\n {\"entity\": \"a\", \"kind\": \"outage\", \"start\": \"2024-01-01\", \"end\": \"2024-01-02\"},\n {\"entity\": \"a\", \"kind\": \"outage\", \"start\": \"x\", \"end\": \"2024-01-02\"}\n]",
                ":3: field `start`",
            ),
            ("g.json", "[\n {\"entity\": 7}\n]", ":2: field `entity`: expected a string"),
            ("h.json", "[\n {\"entity\": \"a\",\n", ":3: "),
            ("i.json", "42", ":1: expected an array"),
        ];
        for (name, text, want) in cases {
            let e = err(d, name, text, None);
            assert!(
                e.starts_with(&d.join(name).display().to_string()) && e.contains(want),
                "{name}: {e}"
            );
        }
    }

    #[test]
    fn refuses_what_is_not_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_labels(dir.path(), None).unwrap_err().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        let e = read_labels(&dir.path().join("absent.csv"), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("absent.csv"), "{e}");
    }

    #[test]
    fn bad_bytes_are_named_by_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "u.csv",
            b"entity,start,end,kind\na\xff,2024-01-01,2024-01-02,outage\n",
        );
        let e = read_labels(&p, None).unwrap_err().to_string();
        assert!(e.contains(":2: not UTF-8"), "{e}");
        let p = write(dir.path(), "u.json", b"[\n\"\xff\"]");
        let e = read_labels(&p, None).unwrap_err().to_string();
        assert!(e.contains(":2: not UTF-8"), "{e}");
    }

    /// The bad-input corpus (the shared copy when present, else the crate's own): telemetry
    /// files given as labels are refused with an error naming the file and a line, never a
    /// panic.
    #[test]
    fn the_bad_input_corpus_is_refused_by_place() {
        let local = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
        let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/bad-input");
        let dir = if shared.is_dir() { shared } else { local };
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if !matches!(ext, "csv" | "jsonl") {
                continue;
            }
            seen += 1;
            let e = read_labels(&path, None).unwrap_err().to_string();
            let at = format!("{}:", path.display());
            assert!(e.starts_with(&at), "{e}");
            let line = e[at.len()..].split(':').next().unwrap();
            assert!(line.parse::<u64>().is_ok(), "no line in {e}");
        }
        assert!(seen >= 13, "{seen} corpus files in {}", dir.display());
    }
}
