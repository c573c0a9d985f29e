//! File source behaviour beyond the bad-input corpus: column mapping, batching, inference.

use std::path::PathBuf;

use ai4ict_connectors::{
    infer_schema, read_bytes, ConnectorError, FileFormat, FileSource, FileSourceConfig, OnError,
    MAX_KEPT_ERRORS,
};

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn fields_come_in_the_order_asked_and_can_be_renamed() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "k.csv", "host,ts,a,b,c\nh1,1704067200,1,2,3\n");
    let mut cfg = FileSourceConfig::new(&path);
    cfg.fields.insert("load".into(), "a".into());
    let mut src = FileSource::open(&cfg, &strings(&["c", "load"])).unwrap();
    assert_eq!(src.fields(), ["c", "load"]);
    let b = src.next_batch(10).unwrap().unwrap();
    assert_eq!(b.row(0), [3.0, 1.0]);
    assert_eq!(b.entity(0).name(), "h1");
}

#[test]
fn a_missing_field_is_an_error_at_open_listing_the_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "k.csv", "cell,time,prb_util\n");
    let err =
        FileSource::open(&FileSourceConfig::new(&path), &strings(&["dl_throughput"])).unwrap_err();
    assert!(
        matches!(&err, ConnectorError::MissingColumn { column, .. } if column == "dl_throughput")
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{}: field `dl_throughput` needs column `dl_throughput`, which the file does not have; \
             its columns are [cell, time, prb_util]",
            path.display()
        )
    );
    let jsonl = write(&dir, "k.jsonl", "{\"cell\":\"a\",\"time\":0,\"x\":1}\n");
    let err = FileSource::open(&FileSourceConfig::new(&jsonl), &strings(&["y"])).unwrap_err();
    assert!(matches!(err, ConnectorError::MissingColumn { .. }));
}

#[test]
fn no_fields_reads_the_numeric_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "k.csv",
        "site,time,label,x,y\ns1,2024-01-01,ok,1,\ns1,2024-01-02,ok,2,5\n",
    );
    let schema = infer_schema(&path).unwrap();
    assert_eq!(schema.numeric, ["x", "y"]);
    let mut src = FileSource::open(&FileSourceConfig::new(&path), &[]).unwrap();
    assert_eq!(src.fields(), ["x", "y"]);
    let b = src.next_batch(10).unwrap().unwrap();
    assert!(b.row(0)[1].is_nan());
    assert_eq!(b.row(1), [2.0, 5.0]);
}

#[test]
fn batches_hold_at_most_max_rows_and_nothing_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from("entity,time,v\n");
    for i in 0..25 {
        text.push_str(&format!("c{},{},{i}\n", i % 3, 1_704_067_200 + i * 60));
    }
    let path = write(&dir, "k.csv", &text);
    let mut src = FileSource::open(&FileSourceConfig::new(&path), &strings(&["v"])).unwrap();
    let mut sizes = Vec::new();
    let mut values = Vec::new();
    while let Some(b) = src.next_batch(10).unwrap() {
        sizes.push(b.len());
        values.extend(b.rows().map(|r| r.2[0]));
    }
    assert_eq!(sizes, [10, 10, 5]);
    assert_eq!(values, (0..25).map(f64::from).collect::<Vec<_>>());
    assert_eq!(src.report().rows_ok, 25);
    assert!(src.next_batch(0).unwrap().is_none());
}

#[test]
fn configured_columns_override_inference() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "k.csv",
        "id,name,at,v\n1,alpha,2024-01-01T00:00:00Z,7\n",
    );
    let mut cfg = FileSourceConfig::new(&path);
    cfg.entity = Some("name".into());
    cfg.time = Some("at".into());
    let b = FileSource::open(&cfg, &strings(&["v"]))
        .unwrap()
        .next_batch(5)
        .unwrap()
        .unwrap();
    assert_eq!(b.entity(0).name(), "alpha");
    cfg.time = Some("when".into());
    let err = FileSource::open(&cfg, &strings(&["v"])).unwrap_err();
    assert!(matches!(err, ConnectorError::MissingColumn { column, .. } if column == "when"));
}

#[test]
fn semicolon_csv_and_unknown_extension() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "k.csv",
        "cell;time;v\n\"a;b\";2024-01-01T00:00:00Z;1.5\n",
    );
    let b = FileSource::open(&FileSourceConfig::new(&path), &strings(&["v"]))
        .unwrap()
        .next_batch(5)
        .unwrap()
        .unwrap();
    assert_eq!((b.entity(0).name(), b.row(0)), ("a;b", &[1.5][..]));
    let other = write(&dir, "k.dat", "cell,time,v\n");
    assert!(matches!(
        FileSource::open(&FileSourceConfig::new(&other), &[]),
        Err(ConnectorError::UnknownFormat { .. })
    ));
    let mut cfg = FileSourceConfig::new(&other);
    cfg.format = Some(FileFormat::Csv);
    assert_eq!(cfg.infer_schema().unwrap().columns, ["cell", "time", "v"]);
    assert!(FileSource::open(&cfg, &strings(&["v"])).is_ok());
}

#[test]
fn jsonl_numbers_as_strings_nulls_and_numeric_entities() {
    let text = "{\"cell\":17,\"ts\":1704067200000,\"v\":\"2.5\"}\n{\"cell\":\"x\",\"ts\":\"2024-01-01T00:00:00Z\",\"v\":null}\n{\"cell\":\"x\",\"ts\":\"2024-01-01T00:00:00Z\"}\n{\"cell\":\"x\",\"ts\":\"2024-01-01T00:00:00Z\",\"v\":true}\n";
    let (b, report) = read_bytes(FileFormat::Jsonl, text.as_bytes(), &strings(&["v"])).unwrap();
    assert_eq!(b.len(), 3);
    assert_eq!((b.entity(0).name(), b.row(0)), ("17", &[2.5][..]));
    assert!(b.row(1)[0].is_nan() && b.row(2)[0].is_nan());
    assert_eq!(
        report.errors[0].to_string(),
        "<bytes>.jsonl:4: column `v`: expected a number, found a boolean"
    );
}

#[test]
fn the_report_keeps_the_first_errors_and_counts_all() {
    let mut text = String::from("entity,time,v\n");
    for _ in 0..250 {
        text.push_str("c,2024-01-01T00:00:00Z,bad\n");
    }
    let (b, report) = read_bytes(FileFormat::Csv, text.as_bytes(), &strings(&["v"])).unwrap();
    assert!(b.is_empty());
    assert_eq!(report.errors.len(), MAX_KEPT_ERRORS);
    assert_eq!((report.errors_total, report.rows_skipped), (250, 250));
    assert_eq!(report.errors[99].line, 101);
}

#[test]
fn fail_mode_on_the_first_row_returns_the_error_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "k.csv",
        "entity,time,v\nc,never,1\nc,2024-01-01T00:00:00Z,2\n",
    );
    let mut cfg = FileSourceConfig::new(&path);
    cfg.on_error = OnError::Fail;
    let mut src = FileSource::open(&cfg, &strings(&["v"])).unwrap();
    let err = src.next_batch(10).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("{}:2: column `time`: `never`", path.display())),
        "{err}"
    );
    assert!(src.next_batch(10).unwrap().is_none());
}

#[test]
fn the_quarantine_file_cannot_be_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, "k.csv", "entity,time,v\nc,bad,1\n");
    let mut cfg = FileSourceConfig::new(&path);
    cfg.on_error = OnError::Quarantine;
    cfg.quarantine = Some(dir.path().join(".").join("k.csv"));
    assert!(matches!(
        FileSource::open(&cfg, &[]),
        Err(ConnectorError::BadConfig { .. })
    ));
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "entity,time,v\nc,bad,1\n"
    );
}

#[test]
fn times_without_an_offset_are_read_in_the_zone_named_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let text = "cell,time,load\n\
                c1,2024-07-01 08:00,1\n\
                c1,2024-07-01T06:15:00Z,2\n\
                c1,2024-07-01 08:30:00,3\n";
    let path = write(&dir, "local.csv", text);
    let read = |zone: Option<&str>| {
        let mut cfg = FileSourceConfig::new(&path);
        cfg.timezone = zone.map(str::to_string);
        let mut src = FileSource::open(&cfg, &strings(&["load"])).unwrap();
        let b = src.next_batch(10).unwrap().unwrap();
        let times: Vec<String> = (0..b.len()).map(|i| b.time(i).to_string()).collect();
        (times, src.report().time_note().unwrap_or_default())
    };
    // UTC by default, said in a note that tells how to name the zone.
    let (utc, note) = read(None);
    assert_eq!(utc[0], "2024-07-01T08:00:00Z");
    assert!(
        note.starts_with("2 times had no UTC offset and were read as UTC"),
        "{note}"
    );
    assert!(note.contains("--timezone"), "{note}");
    // Berlin in summer is UTC+2; the time with `Z` stays exact.
    let (berlin, note) = read(Some("Europe/Berlin"));
    assert_eq!(
        berlin,
        [
            "2024-07-01T06:00:00Z",
            "2024-07-01T06:15:00Z",
            "2024-07-01T06:30:00Z"
        ]
    );
    assert_eq!(
        note,
        "2 times without a UTC offset read as local time in Europe/Berlin"
    );
}

#[test]
fn an_unknown_zone_and_a_skipped_local_time_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "dst.csv",
        "cell,time,load\nc1,2024-03-31 01:45,1\nc1,2024-03-31 02:30,2\nc1,2024-03-31 03:15,3\n",
    );
    let mut cfg = FileSourceConfig::new(&path);
    cfg.timezone = Some("Mars/Olympus".into());
    let err = FileSource::open(&cfg, &strings(&["load"])).unwrap_err();
    assert!(
        err.to_string()
            .contains("timezone: `Mars/Olympus` is no time zone"),
        "{err}"
    );
    // 02:30 on the last Sunday of March does not exist in Berlin: that row alone is bad.
    cfg.timezone = Some("Europe/Berlin".into());
    let mut src = FileSource::open(&cfg, &strings(&["load"])).unwrap();
    let b = src.next_batch(10).unwrap().unwrap();
    assert_eq!(b.len(), 2);
    let e = &src.report().errors[0];
    assert!(
        e.to_string()
            .contains("`2024-03-31 02:30` does not exist in Europe/Berlin"),
        "{e}"
    );
}
