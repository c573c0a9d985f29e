//! End-to-end tests of `ai4ict forecast`: a generated seasonal file (beats seasonal naive,
//! intervals around every point, no overwriting without `--force`), NAB's nyc_taxi when the
//! shared data is there, and the shared bad-input corpus (errors name the file; no panic).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_ai4ict");

fn forecast(dir: &Path, input: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "forecast".to_string(),
        "--input".into(),
        input.display().to_string(),
        "--out".into(),
        dir.join("out").display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    Command::new(BIN)
        .args(&args)
        .current_dir(dir)
        .output()
        .expect("the binary runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Two cells of hourly load over three weeks: a daily cycle, busier weekdays, a slow trend
/// and deterministic wobble.
fn generated_csv() -> String {
    let mut s = String::from("cell,time,load\n");
    for step in 0..(21 * 24) {
        let t = 1_704_067_200 + step * 3600;
        for (c, cell) in ["cell-a", "cell-b"].iter().enumerate() {
            let phase = (step % 24) as f64 / 24.0;
            let weekday = if (step / 24) % 7 < 5 { 8.0 } else { 0.0 };
            let wobble = ((step * 7 + c as i64 * 13) % 11) as f64 / 5.0;
            let load = 40.0
                + 10.0 * c as f64
                + 0.02 * step as f64
                + 15.0 * (std::f64::consts::TAU * phase).sin()
                + weekday
                + wobble;
            s.push_str(&format!("{cell},{t},{load:.3}\n"));
        }
    }
    s
}

/// The (MASE, ratio vs seasonal naive) of the table row of `series`.
fn scores(stdout: &str, series: &str) -> (f64, f64) {
    let row = stdout
        .lines()
        .find(|l| l.trim_start().starts_with(series))
        .unwrap_or_else(|| panic!("no row for {series}: {stdout}"));
    let cols: Vec<&str> = row.split_whitespace().collect();
    (cols[3].parse().unwrap(), cols[5].parse().unwrap())
}

/// Checks every data row of a forecast CSV: lower ≤ forecast ≤ upper. Returns the rows.
fn check_bounds(csv: &str) -> usize {
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("entity,field,time,step,forecast,lower,upper,level")
    );
    let mut n = 0;
    for l in lines {
        let c: Vec<&str> = l.split(',').collect();
        let (f, lo, hi): (f64, f64, f64) = (
            c[4].parse().unwrap(),
            c[5].parse().unwrap(),
            c[6].parse().unwrap(),
        );
        assert!(lo <= f && f <= hi, "bounds out of order: {l}");
        n += 1;
    }
    n
}

#[test]
fn beats_seasonal_naive_writes_intervals_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("cells.csv");
    std::fs::write(&input, generated_csv()).unwrap();
    let out = forecast(dir.path(), &input, &["--model", "mstl", "--windows", "3"]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        stdout.contains("2 entities") && stdout.contains("interval 1h"),
        "{stdout}"
    );
    for cell in ["cell-a/load", "cell-b/load"] {
        let (mase, ratio) = scores(&stdout, cell);
        assert!(
            mase < 1.0 && ratio < 1.0,
            "{cell}: MASE {mase}, ratio {ratio}: {stdout}"
        );
    }
    assert!(
        stdout.contains("24(day)"),
        "the daily season is found: {stdout}"
    );
    let o = dir.path().join("out");
    let csv = std::fs::read_to_string(o.join("forecast.csv")).unwrap();
    assert_eq!(check_bounds(&csv), 2 * 24, "one season ahead for each cell");
    let html = std::fs::read_to_string(o.join("forecast.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 2);
    assert!(html.contains("<polygon") && !html.contains("<script"));

    let again = forecast(dir.path(), &input, &["--model", "mstl"]);
    assert!(!again.status.success());
    let t = text(&again);
    assert!(
        t.contains("forecast.csv already exists") && t.contains("--force"),
        "{t}"
    );
    let forced = forecast(
        dir.path(),
        &input,
        &[
            "--force",
            "--model",
            "seasonal_naive",
            "--horizon",
            "6",
            "--format",
            "jsonl",
            "--field",
            "load",
            "--season",
            "24",
        ],
    );
    assert!(forced.status.success(), "{}", text(&forced));
    let jsonl = std::fs::read_to_string(o.join("forecast.jsonl")).unwrap();
    assert_eq!(jsonl.lines().count(), 2 * 6);
    assert!(jsonl.lines().all(|l| l.contains("\"lower\"")), "{jsonl}");
}

#[test]
fn bad_options_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("cells.csv");
    std::fs::write(&input, generated_csv()).unwrap();
    for (args, says) in [
        (&["--level", "1.5"][..], "--level"),
        (&["--season", "0"][..], "not a season"),
        (&["--model", "prophet"][..], "not a method"),
        (&["--field", "nope"][..], "`nope`"),
    ] {
        let out = forecast(dir.path(), &input, args);
        assert!(!out.status.success(), "{args:?}");
        assert!(text(&out).contains(says), "{args:?}: {}", text(&out));
    }
}

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

#[test]
fn nyc_taxi_beats_seasonal_naive() {
    let file = shared().join("nab/data/realKnownCause/nyc_taxi.csv");
    if !file.exists() {
        println!("skipped: {} not found", file.display());
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = forecast(dir.path(), &file, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(stdout.contains("48(day)"), "{stdout}");
    // The last windows hold the blizzard of 26–27 January 2015, where seasonal naive's MASE
    // is well above 1 too: the model must beat it on the same windows.
    let (mase, ratio) = scores(&stdout, "nyc_taxi/value");
    assert!(ratio < 1.0, "MASE {mase}, ratio {ratio}: {stdout}");
    assert!(stdout.contains("better than seasonal naive"), "{stdout}");
    let csv = std::fs::read_to_string(dir.path().join("out/forecast.csv")).unwrap();
    assert_eq!(check_bounds(&csv), 48);
}

#[test]
fn bad_input_never_panics_and_names_the_file() {
    let corpus = shared().join("bad-input");
    if !corpus.exists() {
        println!("skipped: {} not found", corpus.display());
        return;
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv" || e == "jsonl"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    for file in files {
        let dir = tempfile::tempdir().unwrap();
        let out = forecast(dir.path(), &file, &["--windows", "1"]);
        let t = text(&out);
        assert!(!t.contains("panicked"), "{}: {t}", file.display());
        assert!(out.status.code().is_some(), "{}: killed", file.display());
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        if !out.status.success() {
            assert!(t.contains(&name), "{name}: the error names the file: {t}");
        }
    }
}

#[test]
fn the_shipped_forecast_intent_runs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new(BIN)
        .args(["run", "intents/traffic-forecast.yaml", "--no-hub"])
        .current_dir(&root)
        .output()
        .expect("the binary runs");
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("max_mase") && t.contains("meets"), "{t}");
    let csv = std::fs::read_to_string(root.join("out/traffic-forecast/forecast.csv")).unwrap();
    assert_eq!(check_bounds(&csv), 3 * 24);
}
