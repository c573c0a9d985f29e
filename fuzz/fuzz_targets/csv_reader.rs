//! Feeds arbitrary bytes to the csv reader: it must return rows or errors, never panic,
//! and every row it returns must be counted and hold finite or missing values.
#![no_main]

use ai4ict_connectors::{read_bytes, FileFormat};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for fields in [vec![], vec!["prb_util".to_string()]] {
        if let Ok((batch, report)) = read_bytes(FileFormat::Csv, data, &fields) {
            assert_eq!(batch.len() as u64, report.rows_ok);
            assert!(batch.rows().all(|(_, _, v)| v.iter().all(|x| x.is_nan() || x.is_finite())));
        }
    }
});
