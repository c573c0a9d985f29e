//! Whatever bytes the readers get, they return rows or errors and never panic.

use ai4ict_connectors::{read_bytes, FileFormat};
use proptest::prelude::*;

/// Lines built from the characters that matter to the parsers, so the cases reach past the
/// header into quoting, field counts, numbers and times.
fn csvish() -> impl Strategy<Value = Vec<u8>> {
    let cell = prop::sample::select(vec![
        "",
        "cell-1",
        "\"q\"",
        "\"un",
        "\"a\"\"b\"",
        "0.5",
        "-1e400",
        "NaN",
        "inf",
        "1704067200",
        "2024-01-01T00:00:00Z",
        "2024-13-45",
        "\u{feff}",
        "\r",
        "\u{ff}",
        "x\u{0}y",
    ]);
    let line = prop::collection::vec(cell, 0..5).prop_map(|cells| cells.join(","));
    prop::collection::vec(line, 0..8).prop_map(|lines| {
        let mut text = String::from("entity,time,prb_util\n");
        text.push_str(&lines.join("\n"));
        text.into_bytes()
    })
}

fn jsonish() -> impl Strategy<Value = Vec<u8>> {
    let value = prop::sample::select(vec![
        "null",
        "0.5",
        "\"0.5\"",
        "\"high\"",
        "1e999",
        "true",
        "[1]",
        "{}",
        "\"cell-1\"",
        "1704067200",
        "\"2024-01-01T00:00:00Z\"",
        "\"2024-13-45\"",
        "-0",
        "{\"a\":[[[[",
    ]);
    let object = (value.clone(), value.clone(), value)
        .prop_map(|(e, t, v)| format!("{{\"entity\":{e},\"time\":{t},\"prb_util\":{v}}}"));
    prop::collection::vec(
        prop_oneof![object, Just(String::new()), Just("[1,2".to_string())],
        0..8,
    )
    .prop_map(|lines| lines.join("\n").into_bytes())
}

fn read_all(bytes: &[u8]) {
    for format in [FileFormat::Csv, FileFormat::Jsonl] {
        for fields in [vec![], vec!["prb_util".to_string()]] {
            if let Ok((batch, report)) = read_bytes(format, bytes, &fields) {
                assert_eq!(batch.len() as u64, report.rows_ok);
                assert!(batch
                    .rows()
                    .all(|r| r.2.iter().all(|v| v.is_nan() || v.is_finite())));
            }
        }
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        read_all(&bytes);
    }

    #[test]
    fn csv_like_input_never_panics(bytes in csvish()) {
        read_all(&bytes);
    }

    #[test]
    fn jsonl_like_input_never_panics(bytes in jsonish()) {
        read_all(&bytes);
    }
}
