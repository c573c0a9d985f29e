//! One test per file of the shared bad-input corpus (`../shared/data/bad-input`), run on the
//! shared copy when it is there and on the copy under `tests/data` (or a generated equivalent
//! for the two large files), so the important cases run without `shared/` too.

use std::path::{Path, PathBuf};

use ai4ict_connectors::{
    ConnectorError, FileSource, FileSourceConfig, OnError, ReadReport, RowError,
};
use ai4ict_core::{Batch, Timestamp};

fn shared_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/bad-input")
}

/// Every copy of the corpus file `name` that exists here.
fn copies(name: &str) -> Vec<PathBuf> {
    let shared = shared_dir().join(name);
    let local = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    if !shared.exists() {
        println!(
            "note: {} is absent; testing the local copy only",
            shared.display()
        );
    }
    let found: Vec<PathBuf> = [shared, local].into_iter().filter(|p| p.exists()).collect();
    assert!(!found.is_empty(), "no copy of {name}");
    found
}

fn fields() -> Vec<String> {
    vec!["prb_util".to_string()]
}

/// Reads the whole file with `on_error`, in small batches.
fn read(path: &Path, on_error: OnError) -> Result<(Batch, ReadReport), ConnectorError> {
    let mut cfg = FileSourceConfig::new(path);
    cfg.on_error = on_error;
    let mut source = FileSource::open(&cfg, &fields())?;
    let mut all = Batch::new(1);
    while let Some(batch) = source.next_batch(2)? {
        for (e, t, v) in batch.rows() {
            all.push(e.clone(), t, v);
        }
    }
    Ok((all, source.report().clone()))
}

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

/// (line, column, message) of each error.
fn errors(report: &ReadReport) -> Vec<(u64, Option<&str>, &str)> {
    report
        .errors
        .iter()
        .map(|e| (e.line, e.column.as_deref(), e.message.as_str()))
        .collect()
}

#[test]
fn csv_bad_numbers() {
    for path in copies("csv_bad_numbers.csv") {
        let (rows, report) = read(&path, OnError::Skip).unwrap();
        assert!(rows.is_empty());
        assert_eq!(report.rows_skipped, 4);
        assert_eq!(
            errors(&report),
            [
                (2, Some("prb_util"), "\"abc\" is not a number"),
                (3, Some("prb_util"), "\"NaN\" is not a finite number"),
                (4, Some("prb_util"), "\"inf\" is not a finite number"),
                (5, Some("prb_util"), "\"1e400\" is not a finite number"),
            ]
        );
        assert_eq!(
            report.errors[0].to_string(),
            format!(
                "{}:2: column `prb_util`: \"abc\" is not a number",
                path.display()
            )
        );
    }
}

#[test]
fn csv_bad_time() {
    for path in copies("csv_bad_time.csv") {
        let (rows, report) = read(&path, OnError::Skip).unwrap();
        assert!(rows.is_empty());
        let errs = errors(&report);
        assert_eq!(errs.len(), 2);
        assert_eq!(
            errs[0],
            (
                2,
                Some("time"),
                "`2024-13-45T99:00:00Z` is not a valid date and time"
            )
        );
        assert_eq!((errs[1].0, errs[1].1), (3, Some("time")));
        assert!(
            errs[1].2.starts_with("`yesterday` is not a timestamp"),
            "{}",
            errs[1].2
        );
    }
}

#[test]
fn csv_bom_crlf_valid() {
    for path in copies("csv_bom_crlf_valid.csv") {
        let (rows, report) = read(&path, OnError::Fail).unwrap();
        assert_eq!(report.errors_total, 0);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows.entity(0).name(), "cell-1");
        assert_eq!(rows.time(0), ts("2024-01-01T00:00:00Z"));
        assert_eq!(rows.row(0), [0.5]);
    }
}

#[test]
fn csv_empty_and_header_only() {
    for name in ["csv_empty.csv", "csv_header_only.csv"] {
        for path in copies(name) {
            let (rows, report) = read(&path, OnError::Fail).unwrap();
            assert!(rows.is_empty(), "{name}");
            let nothing = ReadReport {
                zone: "UTC".into(),
                ..ReadReport::default()
            };
            assert_eq!(report, nothing, "{name}");
        }
    }
}

#[test]
fn csv_extra_field() {
    for path in copies("csv_extra_field.csv") {
        let (rows, report) = read(&path, OnError::Skip).unwrap();
        assert!(rows.is_empty());
        assert_eq!(
            errors(&report),
            [(2, None, "the row has 4 fields, the header only 3")]
        );
    }
}

#[test]
fn csv_missing_field_keeps_the_rows_before_it_under_fail() {
    for path in copies("csv_missing_field.csv") {
        let (rows, report) = read(&path, OnError::Skip).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows.row(0), [0.5]);
        assert_eq!(
            errors(&report),
            [(
                3,
                Some("prb_util"),
                "missing: the row has 2 fields, the header 3"
            )]
        );

        let mut cfg = FileSourceConfig::new(&path);
        cfg.on_error = OnError::Fail;
        let mut source = FileSource::open(&cfg, &fields()).unwrap();
        let first = source.next_batch(100).unwrap().unwrap();
        assert_eq!(first.len(), 1, "the good row comes out before the error");
        match source.next_batch(100) {
            Err(ConnectorError::Row(RowError {
                line: 3,
                column: Some(c),
                ..
            })) => assert_eq!(c, "prb_util"),
            other => panic!("expected the row error, got {other:?}"),
        }
        assert!(source.next_batch(100).unwrap().is_none());
        assert_eq!(source.report().rows_ok, 1);
    }
}

#[test]
fn csv_invalid_utf8() {
    for path in copies("csv_invalid_utf8.csv") {
        let (rows, report) = read(&path, OnError::Skip).unwrap();
        assert!(rows.is_empty());
        assert_eq!(
            errors(&report),
            [(
                2,
                Some("entity"),
                "invalid UTF-8 at byte 1 (bytes ff fe fd)"
            )]
        );
    }
}

#[test]
fn csv_mixed_time_formats_valid() {
    for path in copies("csv_mixed_time_formats_valid.csv") {
        let (rows, report) = read(&path, OnError::Fail).unwrap();
        assert_eq!(report.errors_total, 0);
        assert_eq!(
            rows.times(),
            [
                ts("2024-01-01T00:00:00Z"),
                ts("2024-01-01T00:00:00Z"),
                ts("2024-01-01T00:15:00Z"),
                ts("2023-12-31T19:00:00Z"),
            ]
        );
    }
}

#[test]
fn csv_no_entity_column() {
    for path in copies("csv_no_entity_column.csv") {
        let err = read(&path, OnError::Skip).unwrap_err();
        match &err {
            ConnectorError::NoEntityColumn { path: p, columns } => {
                assert_eq!(p, &path.display().to_string());
                assert_eq!(columns, &["time", "prb_util"]);
            }
            other => panic!("expected NoEntityColumn, got {other:?}"),
        }
        assert!(err
            .to_string()
            .starts_with(&format!("{}: no entity column", path.display())));
    }
}

#[test]
fn csv_out_of_order_duplicates_pass_through_in_file_order() {
    for path in copies("csv_out_of_order_duplicates.csv") {
        let (rows, report) = read(&path, OnError::Fail).unwrap();
        assert_eq!(report.errors_total, 0);
        assert_eq!(
            rows.times(),
            [
                ts("2024-01-01T00:30:00Z"),
                ts("2024-01-01T00:00:00Z"),
                ts("2024-01-01T00:00:00Z")
            ]
        );
        assert_eq!(
            rows.rows().map(|r| r.2[0]).collect::<Vec<_>>(),
            [0.5, 0.4, 0.6]
        );
        // Delivered as they are, but counted per entity and reported.
        assert_eq!((report.out_of_order, report.duplicate_times), (1, 1));
        let cell = report.order_by_entity["cell-1"];
        assert_eq!((cell.out_of_order, cell.duplicate_times), (1, 1));
        assert_eq!(
            report.order_note().unwrap(),
            "1 row out of order (time going backwards) and 1 duplicate time in 1 entity: \
             \"cell-1\" (1 out of order, 1 duplicate)"
        );
    }
}

#[test]
fn csv_unterminated_quote() {
    for path in copies("csv_unterminated_quote.csv") {
        let (rows, report) = read(&path, OnError::Skip).unwrap();
        assert!(rows.is_empty());
        assert_eq!(
            errors(&report),
            [(
                2,
                Some("entity"),
                "unterminated quote (a quoted value must close on the same line)"
            )]
        );
    }
}

fn check_huge_line(path: &Path) {
    let (rows, report) = read(path, OnError::Skip).unwrap();
    assert!(rows.is_empty());
    assert_eq!(
        errors(&report),
        [(
            2,
            Some("entity"),
            "line is 2000030 bytes, over the limit of 65536"
        )]
    );
}

#[test]
fn csv_huge_line() {
    let shared = shared_dir().join("csv_huge_line.csv");
    if shared.exists() {
        check_huge_line(&shared);
    } else {
        println!(
            "note: {} is absent; testing a generated copy only",
            shared.display()
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.csv");
    let name = format!(
        "cell-{}",
        "x".repeat(2_000_030 - 5 - ",2024-01-01T00:00:00Z,0.5".len())
    );
    std::fs::write(
        &path,
        format!("entity,time,prb_util\n{name},2024-01-01T00:00:00Z,0.5\n"),
    )
    .unwrap();
    check_huge_line(&path);
}

fn check_jsonl_mixed(path: &Path) {
    let (rows, report) = read(path, OnError::Skip).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows.entity(0).name(), rows.time(0), rows.row(0)),
        ("cell-1", ts("2024-01-01T00:00:00Z"), &[0.5][..])
    );
    assert_eq!(
        errors(&report),
        [
            (
                2,
                None,
                "truncated JSON (EOF while parsing an object) at column 63"
            ),
            (3, Some("prb_util"), "\"high\" is not a number"),
            (4, None, "expected a JSON object, found an array"),
            (6, Some("entity"), "expected a string, found null"),
        ]
    );
}

#[test]
fn jsonl_mixed_errors() {
    for path in copies("jsonl_mixed_errors.jsonl") {
        check_jsonl_mixed(&path);
    }
}

#[test]
fn jsonl_mixed_errors_quarantined() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.jsonl");
    std::fs::copy(&copies("jsonl_mixed_errors.jsonl")[0], &path).unwrap();
    let (rows, report) = read(&path, OnError::Quarantine).unwrap();
    assert_eq!(
        (rows.len(), report.rows_quarantined, report.rows_skipped),
        (1, 4, 0)
    );
    let text = std::fs::read_to_string(dir.path().join("in.quarantine.jsonl")).unwrap();
    let recs: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        recs.iter()
            .map(|r| r["line"].as_u64().unwrap())
            .collect::<Vec<_>>(),
        [2, 3, 4, 6]
    );
    assert_eq!(recs[2]["raw"], "[1,2,3]");
    assert_eq!(
        recs[1]["reason"],
        "column `prb_util`: \"high\" is not a number"
    );
}

fn check_deep(path: &Path) {
    let (rows, report) = read(path, OnError::Skip).unwrap();
    assert!(rows.is_empty());
    assert_eq!(
        errors(&report),
        [(1, None, "line is 600001 bytes, over the limit of 65536")]
    );
}

#[test]
fn jsonl_deep_nesting() {
    let shared = shared_dir().join("jsonl_deep_nesting.jsonl");
    if shared.exists() {
        check_deep(&shared);
    } else {
        println!(
            "note: {} is absent; testing a generated copy only",
            shared.display()
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep.jsonl");
    std::fs::write(
        &path,
        format!("{}1{}\n", "{\"a\":".repeat(100_000), "}".repeat(100_000)),
    )
    .unwrap();
    check_deep(&path);
}

#[test]
fn deep_nesting_under_the_line_cap_hits_the_recursion_limit_not_the_stack() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep.jsonl");
    let good = "{\"entity\":\"c\",\"time\":0,\"prb_util\":1}";
    std::fs::write(
        &path,
        format!(
            "{good}\n{}{}\n{good}\n",
            "[".repeat(30_000),
            "]".repeat(30_000)
        ),
    )
    .unwrap();
    let (rows, report) = read(&path, OnError::Skip).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(report.errors.len(), 1);
    assert_eq!(report.errors[0].line, 2);
    assert!(
        report.errors[0]
            .message
            .contains("recursion limit exceeded"),
        "{}",
        report.errors[0]
    );
}

#[test]
fn csv_quarantine_keeps_raw_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.csv");
    std::fs::copy(&copies("csv_invalid_utf8.csv")[0], &path).unwrap();
    let q = dir.path().join("bad/rows.csv");
    std::fs::create_dir_all(q.parent().unwrap()).unwrap();
    let mut cfg = FileSourceConfig::new(&path);
    cfg.on_error = OnError::Quarantine;
    cfg.quarantine = Some(q.clone());
    let mut source = FileSource::open(&cfg, &fields()).unwrap();
    assert!(source.next_batch(10).unwrap().is_none());
    assert_eq!(source.report().rows_quarantined, 1);
    let bytes = std::fs::read(&q).unwrap();
    let mut expected =
        b"line,reason,raw\n2,column `entity`: invalid UTF-8 at byte 1 (bytes ff fe fd),".to_vec();
    expected.extend_from_slice(b"\"\xff\xfe\xfd,2024-01-01T00:00:00Z,0.5\"\n");
    assert_eq!(bytes, expected);
}
