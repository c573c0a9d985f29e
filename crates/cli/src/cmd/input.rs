//! Opening a user's telemetry file for `detect` and `forecast`: a CSV or JSON-lines file of
//! `(entity, time, fields…)` rows, or a NAB-style `timestamp,value` CSV without an entity
//! column (then the whole file is one entity named after the file). Errors and bad rows name
//! the user's file and line.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::Path;

use ai4ict_connectors::{FileFormat, FileSource, FileSourceConfig, OnError, ReadReport, WriteMode};
use ai4ict_core::Batch;
use anyhow::Context;
use clap::ValueEnum;

/// Rows per batch read from the file.
const BATCH_ROWS: usize = 4096;
/// Bad rows listed on the terminal (all are counted).
const LISTED_ERRORS: usize = 10;

/// Which file to read and how: the columns and what to do with bad rows.
pub struct Spec<'a> {
    /// The file.
    pub input: &'a Path,
    /// The entity column; by default inferred.
    pub entity: Option<&'a str>,
    /// The time column; by default inferred.
    pub time: Option<&'a str>,
    /// Fields to read; empty: every numeric column.
    pub fields: &'a [String],
    /// The time zone of times without an offset; UTC when `None`.
    pub timezone: Option<&'a str>,
    /// What to do with a bad row.
    pub on_error: OnError,
    /// What to do when the quarantine file exists already.
    pub quarantine_mode: WriteMode,
    /// Added to a column error when a column was left to inference, e.g.
    /// ` (name columns with --entity, --time, --fields)`.
    pub hint: &'a str,
}

/// `--on-error` values.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum OnErrorArg {
    /// Stop at the first bad row (rows before it are kept and scored).
    Fail,
    /// Skip bad rows and report them.
    Skip,
    /// Skip bad rows and copy them to `<input>.quarantine.<ext>` (for a file without an entity
    /// column, the copied lines start with the entity added to them).
    Quarantine,
}

impl From<OnErrorArg> for OnError {
    fn from(a: OnErrorArg) -> Self {
        match a {
            OnErrorArg::Fail => OnError::Fail,
            OnErrorArg::Skip => OnError::Skip,
            OnErrorArg::Quarantine => OnError::Quarantine,
        }
    }
}

/// Puts the user's file name back into messages about the temporary copy that carries an
/// entity column.
pub struct Rename {
    from: String,
    to: String,
}

impl Rename {
    pub fn fix(rename: &Option<Rename>, text: String) -> String {
        match rename {
            Some(r) => text.replace(&r.from, &r.to),
            None => text,
        }
    }
}

/// Copies the CSV file `src` to `dst` with a first column `entity` holding `entity` on every
/// row. Lines keep their numbers (blank lines stay blank), so errors still point at the
/// user's lines. Memory stays bounded whatever the line lengths.
fn add_entity_column(src: &Path, dst: &mut impl Write, entity: &str) -> std::io::Result<()> {
    const CHUNK: u64 = 64 * 1024;
    let mut reader = BufReader::new(File::open(src)?);
    let mut buf = Vec::with_capacity(CHUNK as usize);
    let (mut first, mut at_line_start, mut header_done) = (true, true, false);
    let mut delimiter = b',';
    loop {
        buf.clear();
        if (&mut reader).take(CHUNK).read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        let mut chunk: &[u8] = &buf;
        if first {
            chunk = chunk.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(chunk);
            first = false;
        }
        if at_line_start && !chunk.iter().all(u8::is_ascii_whitespace) {
            if header_done {
                dst.write_all(&csv_quote(entity, delimiter))?;
            } else {
                delimiter = [b',', b';', b'\t']
                    .into_iter()
                    .find(|d| chunk.contains(d))
                    .unwrap_or(b',');
                dst.write_all(b"entity")?;
                header_done = true;
            }
            dst.write_all(&[delimiter])?;
        }
        dst.write_all(chunk)?;
        at_line_start = chunk.ends_with(b"\n");
    }
    dst.flush()
}

/// `text` as one CSV field, quoted when it needs to be.
fn csv_quote(text: &str, delimiter: u8) -> Vec<u8> {
    let needs = text
        .bytes()
        .any(|b| b == delimiter || b == b'"' || b == b'\n' || b == b'\r')
        || text.starts_with(char::is_whitespace)
        || text.ends_with(char::is_whitespace);
    if needs {
        format!("\"{}\"", text.replace('"', "\"\"")).into_bytes()
    } else {
        text.as_bytes().to_vec()
    }
}

/// The opened source, and the names to show for it.
pub struct Opened {
    pub source: FileSource,
    pub rename: Option<Rename>,
    /// The single entity of a file without an entity column.
    pub single_entity: Option<String>,
    /// Keeps the temporary copy alive while it is read.
    _copy: Option<tempfile::NamedTempFile>,
}

/// Opens the input, giving a CSV file without an entity column one entity named after it.
pub fn open(args: &Spec) -> anyhow::Result<Opened> {
    let input = args.input;
    super::files::regular_file(input)?;
    let mut cfg = FileSourceConfig::new(input);
    cfg.entity = args.entity.map(str::to_string);
    cfg.time = args.time.map(str::to_string);
    cfg.timezone = args.timezone.map(str::to_string);
    cfg.on_error = args.on_error;
    cfg.quarantine_mode = args.quarantine_mode;
    let schema = cfg
        .infer_schema()
        .with_context(|| format!("reading {}", input.display()))?;
    // A file of only a time and one other column whose sampled values are not all numbers
    // (a bad value early on) has that column taken for the entity; it is the value.
    let entity_is_value = args.entity.is_none()
        && args.fields.is_empty()
        && schema.numeric.is_empty()
        && schema.entity.is_some()
        && schema
            .columns
            .iter()
            .all(|c| Some(c) == schema.time.as_ref() || Some(c) == schema.entity.as_ref());
    let no_entity = schema.format == FileFormat::Csv
        && args.entity.is_none()
        && (schema.entity.is_none() || entity_is_value)
        && !schema.columns.is_empty();
    let (mut rename, mut single_entity, mut copy) = (None, None, None);
    if no_entity {
        let name = input
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| "series".to_string());
        let mut tmp = tempfile::Builder::new()
            .prefix("ai4ict-input-")
            .suffix(".csv")
            .tempfile()
            .context("creating a temporary file")?;
        {
            let mut w = BufWriter::new(tmp.as_file_mut());
            add_entity_column(input, &mut w, &name)
                .with_context(|| format!("reading {}", input.display()))?;
        }
        if cfg.on_error == OnError::Quarantine {
            cfg.quarantine = Some(cfg.quarantine_path(FileFormat::Csv));
        }
        cfg.path = tmp.path().to_path_buf();
        cfg.entity = Some("entity".into());
        cfg.format = Some(FileFormat::Csv);
        rename = Some(Rename {
            from: tmp.path().display().to_string(),
            to: input.display().to_string(),
        });
        single_entity = Some(name);
        copy = Some(tmp);
    }
    // With no numeric column (every sampled value of a field is bad, say), read every other
    // column as a field, so that each bad value is reported with its line.
    let fields: Vec<String> = if args.fields.is_empty() && schema.numeric.is_empty() {
        let entity = if no_entity {
            None
        } else {
            schema.entity.as_deref()
        };
        let skip = [entity, schema.time.as_deref()];
        schema
            .columns
            .iter()
            .filter(|c| !skip.contains(&Some(c.as_str())) && Some(c.as_str()) != args.entity)
            .filter(|c| Some(c.as_str()) != args.time)
            .cloned()
            .collect()
    } else {
        args.fields.to_vec()
    };
    let source = FileSource::open(&cfg, &fields).map_err(|e| {
        let hint = if args.entity.is_none() || args.time.is_none() {
            args.hint
        } else {
            ""
        };
        anyhow::anyhow!("{}{hint}", Rename::fix(&rename, e.to_string()))
    })?;
    Ok(Opened {
        source,
        rename,
        single_entity,
        _copy: copy,
    })
}

/// Reads the next batch, putting the user's file name into errors.
pub fn next(opened: &mut Opened) -> anyhow::Result<Option<Batch>> {
    opened
        .source
        .next_batch(BATCH_ROWS)
        .map_err(|e| anyhow::anyhow!("{}", Rename::fix(&opened.rename, e.to_string())))
}

/// Prints what the reader noticed: times going backwards or repeating, times read without
/// a UTC offset.
pub fn print_notes(opened: &Opened) {
    let r = opened.source.report();
    for note in [r.order_note(), r.time_note()].into_iter().flatten() {
        outln!("  note: {}", Rename::fix(&opened.rename, note));
    }
}

/// Prints the bad rows (the first few) to standard error.
pub fn print_errors(report: &ReadReport, rename: &Option<Rename>) {
    if report.errors_total == 0 {
        return;
    }
    let what = if report.rows_quarantined > 0 {
        "quarantined"
    } else if report.rows_skipped > 0 {
        "skipped"
    } else {
        "found"
    };
    eprintln!("{} bad row(s) {what}:", report.errors_total);
    for e in report.errors.iter().take(LISTED_ERRORS) {
        eprintln!("  {}", Rename::fix(rename, e.to_string()));
    }
    if report.errors_total > LISTED_ERRORS as u64 {
        eprintln!(
            "  … and {} more",
            report.errors_total - LISTED_ERRORS as u64
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_column_keeps_lines_and_detects_the_delimiter() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("x.csv");
        std::fs::write(&src, "\u{feff}time;value\r\n\r\n2024-01-01T00:00:00Z;1\r\n").unwrap();
        let mut out = Vec::new();
        add_entity_column(&src, &mut out, "my x").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "entity;time;value\r\n\r\nmy x;2024-01-01T00:00:00Z;1\r\n"
        );
        assert_eq!(csv_quote("a,b", b','), b"\"a,b\"");
        assert_eq!(csv_quote("say \"x\"", b','), b"\"say \"\"x\"\"\"");
    }
}
