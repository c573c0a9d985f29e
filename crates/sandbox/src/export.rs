//! Writing a simulated network to files: telemetry (CSV, JSON lines), ground truth and
//! topology (JSON). These are the sandbox's machine-readable outputs (Y.3181 operational
//! requirements) that any tool can read back.

use std::fs::{self, File};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::network::{Network, PlannedEvent, KPIS};
use crate::topology::{Cell, Link, Site};
use crate::{SandboxError, ScenarioConfig};

pub(crate) fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> SandboxError + '_ {
    move |source| SandboxError::Io {
        path: path.to_path_buf(),
        source,
    }
}

pub(crate) fn create(dir: &Path, name: &str) -> Result<(PathBuf, BufWriter<File>), SandboxError> {
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    let path = dir.join(name);
    let file = File::create(&path).map_err(io_err(&path))?;
    Ok((path, BufWriter::with_capacity(1 << 20, file)))
}

/// `dir/telemetry.csv` opened with its header `entity,time,<fields>`, and its path.
pub(crate) fn telemetry_csv(
    dir: &Path,
    fields: &[&str],
) -> Result<(PathBuf, csv::Writer<BufWriter<File>>), SandboxError> {
    let (path, out) = create(dir, "telemetry.csv")?;
    let mut w = csv::Writer::from_writer(out);
    let mut header = vec!["entity", "time"];
    header.extend(fields);
    w.write_record(&header)
        .map_err(|source| SandboxError::Csv {
            path: path.clone(),
            source,
        })?;
    Ok((path, w))
}

/// Calls `row(cell, step, values)` for every present reading, time-major (all cells at the
/// first interval, then the next interval, ...), as a live collector would see them.
fn for_each_reading<E>(
    net: &Network,
    mut row: impl FnMut(usize, usize, &[f64; 8]) -> Result<(), E>,
) -> Result<(), E> {
    let mut v = [0.0; 8];
    for step in 0..net.steps() {
        for cell in 0..net.cells().len() {
            if net.observe(cell, step, &mut v) {
                row(cell, step, &v)?;
            }
        }
    }
    Ok(())
}

/// Writes `dir/telemetry.csv`: a header `entity,time,<KPIS>`, then one row per present
/// reading in time order, times in RFC 3339, a value with no meaning (`NaN`) left empty.
/// Missing readings have no row. Returns the number of rows.
pub fn write_csv(net: &Network, dir: impl AsRef<Path>) -> Result<u64, SandboxError> {
    let (path, mut w) = telemetry_csv(dir.as_ref(), &KPIS)?;
    let csv_err = |source| SandboxError::Csv {
        path: path.clone(),
        source,
    };
    let mut rows = 0u64;
    let mut fields: Vec<String> = vec![String::new(); 2 + KPIS.len()];
    let mut last_step = usize::MAX;
    for_each_reading(net, |cell, step, v| {
        if step != last_step {
            fields[1] = net.time(step).to_string();
            last_step = step;
        }
        fields[0].clear();
        fields[0].push_str(net.cells()[cell].name.name());
        for (f, x) in fields[2..].iter_mut().zip(v) {
            f.clear();
            if x.is_finite() {
                use std::fmt::Write as _;
                let _ = write!(f, "{x}");
            }
        }
        rows += 1;
        w.write_record(&fields)
    })
    .map_err(csv_err)?;
    w.flush().map_err(io_err(&path))?;
    Ok(rows)
}

/// Writes `dir/telemetry.jsonl`: one JSON object per present reading, in time order, e.g.
/// `{"entity":"cell-0000","time":"2024-01-01T00:00:00Z","prb_util":0.1234,...}`, with `null`
/// for a value with no meaning. Missing readings have no line. Returns the number of lines.
pub fn write_jsonl(net: &Network, dir: impl AsRef<Path>) -> Result<u64, SandboxError> {
    let (path, mut out) = create(dir.as_ref(), "telemetry.jsonl")?;
    let mut rows = 0u64;
    let mut time = String::new();
    let mut last_step = usize::MAX;
    for_each_reading(net, |cell, step, v| {
        if step != last_step {
            time = net.time(step).to_string();
            last_step = step;
        }
        // Names are `cell-NNNN` and times RFC 3339: nothing to escape.
        write!(
            out,
            "{{\"entity\":\"{}\",\"time\":\"{time}\"",
            net.cells()[cell].name
        )?;
        for (name, x) in KPIS.iter().zip(v) {
            if x.is_finite() {
                write!(out, ",\"{name}\":{x}")?;
            } else {
                write!(out, ",\"{name}\":null")?;
            }
        }
        rows += 1;
        out.write_all(b"}\n")
    })
    .map_err(io_err(&path))?;
    out.flush().map_err(io_err(&path))?;
    Ok(rows)
}

#[derive(Serialize)]
struct TopologyFile<'a> {
    scenario: &'a ScenarioConfig,
    kpis: [&'static str; 8],
    cells: &'a [Cell],
    sites: &'a [Site],
    links: &'a [Link],
    planned_events: &'a [PlannedEvent],
}

pub(crate) fn write_json<T: Serialize>(
    dir: &Path,
    name: &str,
    value: &T,
) -> Result<(), SandboxError> {
    let (path, mut out) = create(dir, name)?;
    serde_json::to_writer_pretty(&mut out, value).map_err(|source| SandboxError::Json {
        path: path.clone(),
        source,
    })?;
    out.write_all(b"\n")
        .and_then(|()| out.flush())
        .map_err(io_err(&path))
}

/// Writes `dir/labels.json`, the ground truth (the array of [`ai4ict_core::Incident`]s, sorted
/// by start), and `dir/topology.json` (the scenario, KPI names, cells with their neighbours,
/// sites, links and planned events).
pub fn write_labels(net: &Network, dir: impl AsRef<Path>) -> Result<(), SandboxError> {
    let dir = dir.as_ref();
    write_json(dir, "labels.json", &net.incidents())?;
    let topology = TopologyFile {
        scenario: net.config(),
        kpis: KPIS,
        cells: net.cells(),
        sites: net.sites(),
        links: net.links(),
        planned_events: net.events(),
    };
    write_json(dir, "topology.json", &topology)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ai4ict_core::Incident;

    #[test]
    fn files_agree_with_the_network() {
        let config = ScenarioConfig {
            cells: 12,
            days: 8,
            incident_rate: 3.0,
            gap_rate: 0.01,
            ..Default::default()
        };
        let net = Network::new(&config).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let rows = write_csv(&net, dir.path()).unwrap();
        let lines = write_jsonl(&net, dir.path()).unwrap();
        write_labels(&net, dir.path()).unwrap();
        assert_eq!(rows, lines);
        assert!(rows < (12 * net.steps()) as u64 && rows > (12 * net.steps()) as u64 * 9 / 10);

        let mut r = csv::Reader::from_path(dir.path().join("telemetry.csv")).unwrap();
        let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(header[..2], ["entity", "time"]);
        assert_eq!(header[2..], KPIS);
        let first = r.records().next().unwrap().unwrap();
        let cell = net.cell_index(&first[0]).unwrap();
        assert_eq!(&first[1], net.time(0).to_string());
        let mut v = [0.0; 8];
        assert!(net.observe(cell, 0, &mut v));
        assert_eq!(first[2].parse::<f64>().unwrap(), v[0]);

        let text = fs::read_to_string(dir.path().join("telemetry.jsonl")).unwrap();
        for line in text.lines().take(50) {
            let obj: serde_json::Value = serde_json::from_str(line).unwrap();
            assert!(obj["entity"].as_str().unwrap().starts_with("cell-"));
        }
        let labels: Vec<Incident> =
            serde_json::from_str(&fs::read_to_string(dir.path().join("labels.json")).unwrap())
                .unwrap();
        assert_eq!(labels, net.incidents());
        let topo: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(dir.path().join("topology.json")).unwrap())
                .unwrap();
        assert_eq!(topo["cells"].as_array().unwrap().len(), 12);
        assert_eq!(topo["scenario"]["cells"], 12);
    }

    #[test]
    fn unwritable_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain-file");
        fs::write(&file, "x").unwrap();
        let net = Network::new(&ScenarioConfig {
            cells: 1,
            days: 1,
            ..Default::default()
        })
        .unwrap();
        let err = write_csv(&net, &file).unwrap_err();
        assert!(matches!(err, SandboxError::Io { .. }), "{err}");
    }
}
