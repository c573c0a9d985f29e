//! The shared bad-input corpus through the table reader: no panic, every rejected row named
//! by file, line and column, every good row kept.

use std::path::{Path, PathBuf};

use ai4ict_classify::table::{read_table, ReadOptions, TableError};

/// A corpus file, the rows it keeps, and its rejected rows: (line, column to blame).
type Case = (&'static str, u64, &'static [(u64, Option<&'static str>)]);

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/bad-input")
}

fn read(
    name: &str,
) -> Result<(ai4ict_classify::Dataset, ai4ict_classify::table::ReadReport), TableError> {
    let options = ReadOptions {
        label: Some("entity".into()),
        ..ReadOptions::default()
    };
    read_table(&corpus().join(name), &options)
}

#[test]
fn every_bad_csv_is_reported_by_place_and_good_rows_are_kept() {
    if !corpus().exists() {
        eprintln!("no bad-input corpus at {}", corpus().display());
        return;
    }
    // (file, rows kept, rejected rows and the column to blame, if any)
    let cases: [Case; 7] = [
        ("csv_missing_field.csv", 1, &[(3, None)]),
        ("csv_extra_field.csv", 0, &[(2, None)]),
        (
            "csv_bad_numbers.csv",
            0,
            &[
                (2, Some("prb_util")),
                (3, Some("prb_util")),
                (4, Some("prb_util")),
                (5, Some("prb_util")),
            ],
        ),
        ("csv_bom_crlf_valid.csv", 0, &[]),
        ("csv_mixed_time_formats_valid.csv", 4, &[]),
        ("csv_header_only.csv", 0, &[]),
        ("csv_out_of_order_duplicates.csv", 3, &[]),
    ];
    for (name, kept, errors) in cases {
        let (data, report) = read(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        let got: Vec<(u64, Option<&str>)> = report
            .errors
            .iter()
            .map(|e| (e.line, e.column.as_deref()))
            .collect();
        if name != "csv_bom_crlf_valid.csv" {
            assert_eq!(report.rows_kept, kept, "{name}: {report:?}");
            assert_eq!(got, errors, "{name}");
        }
        assert_eq!(data.rows() as u64, report.rows_kept);
        assert_eq!(
            report.rows_seen,
            report.rows_kept + report.errors.len() as u64
        );
        for e in &report.errors {
            let text = e.to_string();
            assert!(
                text.contains(name) && text.contains(&format!(":{}:", e.line)),
                "{text}"
            );
        }
    }
    // The valid BOM/CRLF file: every row kept, the BOM not part of the first column name.
    let (d, r) = read("csv_bom_crlf_valid.csv").unwrap();
    assert!(r.errors.is_empty(), "{r:?}");
    assert!(d.rows() > 0);
    assert_eq!(d.features, vec!["prb_util".to_string()]);
}

#[test]
fn unreadable_and_odd_files_never_panic() {
    if !corpus().exists() {
        return;
    }
    assert!(matches!(
        read("csv_empty.csv"),
        Err(TableError::NoHeader { .. })
    ));
    assert!(matches!(
        read("csv_no_entity_column.csv"),
        Err(TableError::NoLabel { .. })
    ));
    let (_, r) = read("csv_invalid_utf8.csv").unwrap();
    assert!(
        r.errors
            .iter()
            .any(|e| e.column.as_deref() == Some("entity")),
        "{r:?}"
    );
    let (d, r) = read("csv_huge_line.csv").unwrap();
    assert_eq!(d.rows() as u64 + r.errors.len() as u64, r.rows_seen);
    let (d, r) = read("csv_unterminated_quote.csv").unwrap();
    assert_eq!(d.rows(), 0);
    assert_eq!(r.errors.len(), 1);
    assert!(read("does_not_exist.csv").is_err());
    for bad in ["csv_bad_time.csv", "csv_missing_field.csv"] {
        read(bad).unwrap();
    }
}

#[test]
fn nsl_kdd_and_unsw_layouts_map_their_columns() {
    let dir = std::env::temp_dir().join(format!("ai4ict-classify-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // NSL-KDD: no header, 41 features, label, difficulty.
    let row = |proto: &str, service: &str, label: &str| {
        let mut f: Vec<String> = vec!["0".into(), proto.into(), service.into(), "SF".into()];
        f.extend((4..41).map(|i| i.to_string()));
        f.push(label.into());
        f.push("21".into());
        f.join(",")
    };
    let kdd = dir.join("KDDTrain+.txt");
    let text = [
        row("tcp", "http", "normal"),
        row("udp", "domain_u", "normal"),
        row("tcp", "private", "neptune"),
        "0,tcp,short".to_string(),
        row("icmp", "ecr_i", "smurf"),
    ]
    .join("\n");
    std::fs::write(&kdd, text).unwrap();
    let (d, r) = read_table(&kdd, &ReadOptions::default()).unwrap();
    assert_eq!(d.rows(), 4);
    assert_eq!(
        d.features.len(),
        41,
        "difficulty and label are not features"
    );
    assert_eq!(d.classes, vec!["neptune", "normal", "smurf"]);
    assert_eq!(r.errors.len(), 1);
    assert_eq!(r.errors[0].line, 4);
    assert_eq!(
        d.columns[1],
        vec![0.0, 1.0, 0.0, 2.0],
        "protocol_type ordinal-encoded"
    );
    assert!(r.categorical.contains(&"service".to_string()));
    // UNSW-NB15: the class is attack_cat; its 0/1 `label` and `id` are left out.
    let unsw = dir.join("UNSW_NB15_training-set.csv");
    std::fs::write(
        &unsw,
        "id,dur,proto,service,state,spkts,attack_cat,label\n\
         1,0.1,tcp,-,FIN,6,Normal,0\n\
         2,0.2,udp,dns,INT,2,Generic,1\n\
         3,0.3,tcp,http,FIN,x,Exploits,1\n",
    )
    .unwrap();
    let (d, r) = read_table(&unsw, &ReadOptions::default()).unwrap();
    assert_eq!(
        d.features,
        vec!["dur", "proto", "service", "state", "spkts"]
    );
    assert_eq!(d.classes, vec!["Generic", "Normal"]);
    assert_eq!(r.errors.len(), 1);
    assert_eq!(r.errors[0].column.as_deref(), Some("spkts"));
    assert!(r.ignored.contains(&"label".to_string()) && r.ignored.contains(&"id".to_string()));
    std::fs::remove_dir_all(&dir).ok();
}
