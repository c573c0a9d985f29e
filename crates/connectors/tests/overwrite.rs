//! Nothing is overwritten silently: file sinks and quarantine files refuse an existing file
//! unless their config says `append` or `overwrite`.

use std::path::Path;

use ai4ict_connectors::{
    ConnectorError, FileSinkConfig, FileSource, FileSourceConfig, OnError, SinkConfig, WriteMode,
};
use ai4ict_core::{Alert, Entity, Severity, Timestamp};

fn alert() -> Alert {
    Alert {
        entity: Entity::new("cell-1"),
        time: Timestamp(3_600_000),
        onset: Timestamp(1_800_000),
        score: 0.95,
        severity: Severity::Major,
        field: "prb_util".into(),
        why: None,
    }
}

fn sink(path: &Path, mode: WriteMode) -> SinkConfig {
    SinkConfig::File(FileSinkConfig {
        path: path.to_path_buf(),
        format: None,
        mode,
    })
}

fn deliver(cfg: &SinkConfig) -> Result<(), ConnectorError> {
    let mut s = cfg.build()?;
    s.write(&[alert()])?;
    s.finish()
}

#[test]
fn a_file_sink_refuses_an_existing_file_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alerts.csv");
    std::fs::write(&path, "precious\n").unwrap();
    let cfg = sink(&path, WriteMode::default());
    for err in [cfg.check().unwrap_err(), deliver(&cfg).unwrap_err()] {
        assert!(
            matches!(err, ConnectorError::Exists { option: "mode", .. }),
            "{err}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains(&path.display().to_string()) && msg.contains("`mode: append`"),
            "{msg}"
        );
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "precious\n");
    // A new file is fine.
    let fresh = sink(&dir.path().join("new/alerts.csv"), WriteMode::Create);
    fresh.check().unwrap();
    deliver(&fresh).unwrap();
}

#[test]
fn append_keeps_what_is_there_and_overwrite_replaces_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("alerts.csv");
    deliver(&sink(&path, WriteMode::Create)).unwrap();
    deliver(&sink(&path, WriteMode::Append)).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "one header, two alerts: {text}");
    assert!(lines[0].starts_with("time,entity"));
    assert!(lines[2].contains("cell-1"));

    deliver(&sink(&path, WriteMode::Overwrite)).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 2);

    // A CSV file with another header (an older version's, without `why`) is not appended to:
    // its rows would sit under the wrong columns.
    let old = dir.path().join("old.csv");
    let before = "time,entity,severity,score,field,onset\n2024-01-01T00:00:00Z,c,minor,0.9,x,2024-01-01T00:00:00Z\n";
    std::fs::write(&old, before).unwrap();
    for err in [
        sink(&old, WriteMode::Append).check().unwrap_err(),
        deliver(&sink(&old, WriteMode::Append)).unwrap_err(),
    ] {
        let text = err.to_string();
        assert!(
            text.contains("old.csv") && text.contains("line 1"),
            "{text}"
        );
    }
    assert_eq!(std::fs::read_to_string(&old).unwrap(), before);

    let jsonl = dir.path().join("alerts.jsonl");
    deliver(&sink(&jsonl, WriteMode::Append)).unwrap();
    deliver(&sink(&jsonl, WriteMode::Append)).unwrap();
    assert_eq!(std::fs::read_to_string(&jsonl).unwrap().lines().count(), 2);
}

#[test]
fn mode_reads_from_the_config_and_defaults_to_create() {
    let cfg: SinkConfig = serde_json::from_str(r#"{"file":{"path":"a.csv"}}"#).unwrap();
    assert!(matches!(&cfg, SinkConfig::File(f) if f.mode == WriteMode::Create));
    let cfg: SinkConfig =
        serde_json::from_str(r#"{"file":{"path":"a.csv","mode":"append"}}"#).unwrap();
    assert!(matches!(&cfg, SinkConfig::File(f) if f.mode == WriteMode::Append));
    assert!(
        serde_json::from_str::<SinkConfig>(r#"{"file":{"path":"a","mode":"clobber"}}"#).is_err()
    );
    let src: FileSourceConfig =
        serde_json::from_str(r#"{"path":"x.csv","quarantine_mode":"overwrite"}"#).unwrap();
    assert_eq!(src.quarantine_mode, WriteMode::Overwrite);
}

fn bad_rows(dir: &Path) -> FileSourceConfig {
    let input = dir.join("kpis.csv");
    std::fs::write(
        &input,
        "entity,time,prb_util\ncell-1,2024-01-01T00:00:00Z,0.5\ncell-1,never,0.4\n",
    )
    .unwrap();
    let mut cfg = FileSourceConfig::new(input);
    cfg.on_error = OnError::Quarantine;
    cfg
}

fn read_all(cfg: &FileSourceConfig) -> Result<u64, ConnectorError> {
    let mut source = FileSource::open(cfg, &["prb_util".to_string()])?;
    while source.next_batch(10)?.is_some() {}
    Ok(source.report().rows_quarantined)
}

#[test]
fn a_quarantine_file_is_not_overwritten_silently() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = bad_rows(dir.path());
    let quarantine = dir.path().join("kpis.quarantine.csv");
    assert_eq!(read_all(&cfg).unwrap(), 1);
    let first = std::fs::read_to_string(&quarantine).unwrap();

    // A second run over the same input: refused before reading, naming the file and option.
    for err in [
        cfg.check_quarantine().unwrap_err(),
        read_all(&cfg).unwrap_err(),
    ] {
        let msg = err.to_string();
        assert!(
            msg.contains("kpis.quarantine.csv") && msg.contains("`quarantine_mode: append`"),
            "{msg}"
        );
    }
    assert_eq!(std::fs::read_to_string(&quarantine).unwrap(), first);

    cfg.quarantine_mode = WriteMode::Append;
    assert_eq!(read_all(&cfg).unwrap(), 1);
    let appended = std::fs::read_to_string(&quarantine).unwrap();
    assert_eq!(
        appended.lines().count(),
        3,
        "one header, two bad rows: {appended}"
    );

    cfg.quarantine_mode = WriteMode::Overwrite;
    assert_eq!(read_all(&cfg).unwrap(), 1);
    assert_eq!(std::fs::read_to_string(&quarantine).unwrap(), first);
}
