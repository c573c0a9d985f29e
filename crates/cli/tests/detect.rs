//! End-to-end tests of `ai4ict detect`: outputs on a generated file, a NAB-style file without an
//! entity column, and the shared bad-input corpus (errors must name file and line, and the
//! program must never panic).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_ai4ict");

fn detect(dir: &Path, input: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "detect".to_string(),
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

/// Three cells of 15-minute data over ten days with a daily cycle; `cell-b` has a spike on the
/// second Tuesday.
fn generated_csv() -> String {
    let mut s = String::from("cell,time,load,errors\n");
    for step in 0..(10 * 96) {
        let t = 1_704_067_200 + step * 900;
        for (c, cell) in ["cell-a", "cell-b", "cell-c"].iter().enumerate() {
            let phase = (step % 96) as f64 / 96.0;
            let wobble = ((step * 7 + c as i64 * 13) % 11) as f64 / 11.0;
            let mut load =
                40.0 + 10.0 * c as f64 + 15.0 * (std::f64::consts::TAU * phase).sin() + wobble;
            if *cell == "cell-b" && (820..824).contains(&step) {
                load += 200.0;
            }
            s.push_str(&format!("{cell},{t},{load:.3},{}\n", (step + c as i64) % 3));
        }
    }
    s
}

#[test]
fn writes_scores_alerts_and_plot_for_every_entity() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("cells.csv");
    std::fs::write(&input, generated_csv()).unwrap();
    let out = detect(dir.path(), &input, &["--threshold", "0.9", "--for", "1"]);
    assert!(out.status.success(), "{}", text(&out));
    let o = dir.path().join("out");
    let scores = std::fs::read_to_string(o.join("scores.csv")).unwrap();
    assert!(scores.starts_with("entity,time,score,field\n"));
    assert_eq!(scores.lines().count(), 1 + 3 * 10 * 96);
    let alerts = std::fs::read_to_string(o.join("alerts.csv")).unwrap();
    assert!(alerts.starts_with("time,entity,"), "{alerts}");
    assert!(
        alerts.lines().skip(1).any(|l| l.contains("cell-b")),
        "the spike on cell-b raises an alert: {alerts}"
    );
    let html = std::fs::read_to_string(o.join("plot.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 3);
    assert!(!html.contains("<script"));
    let t = text(&out);
    assert!(
        t.contains("3 entities") && t.contains("interval 15m"),
        "{t}"
    );
    // `auto` says what it chose: a daily wave is a daily rhythm.
    assert!(
        t.contains(
            "auto chose: robust_seasonal (daily rhythm), resonance corroborated for 3 entities"
        ),
        "{t}"
    );
    assert!(!t.contains("note: `auto` scores nothing"), "{t}");
}

/// A file shorter than `auto`'s two-day probe: it scored nothing there, and `detect` says so
/// and what to use instead; another detector needs no such note.
#[test]
fn a_file_shorter_than_autos_probe_says_what_to_use_instead() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("day.csv");
    let csv = generated_csv();
    let day: Vec<&str> = csv.lines().take(1 + 3 * 96).collect();
    std::fs::write(&input, day.join("\n") + "\n").unwrap();
    let out = detect(dir.path(), &input, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("auto chose: deciding (under two days of data) for 3 entities"),
        "{t}"
    );
    assert!(
        t.contains("note: `auto` scores nothing") && t.contains("--detector ewma"),
        "{t}"
    );
    let out = detect(dir.path(), &input, &["--detector", "ewma", "--force"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains("note: `auto`"), "{}", text(&out));
}

#[test]
fn a_file_that_ends_soon_after_autos_choice_says_how_little_its_profile_scored() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("days.csv");
    let csv = generated_csv();
    // Three and a half days of three cells with a daily rhythm, from a Monday's midnight: the
    // choice on Wednesday's, the profile scoring from Thursday's.
    let rows: Vec<&str> = csv.lines().take(1 + 3 * (3 * 96 + 48)).collect();
    std::fs::write(&input, rows.join("\n") + "\n").unwrap();
    let out = detect(dir.path(), &input, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("robust_seasonal (daily rhythm)"), "{t}");
    assert!(
        t.contains("from 2024-01-04T00:00:00Z, at most the last 11.8 hours")
            && t.contains("--detector robust_seasonal"),
        "{t}"
    );
    // Ten days: no note.
    std::fs::write(&input, csv).unwrap();
    let out = detect(dir.path(), &input, &["--force"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains("note: on an entity"), "{}", text(&out));
}

#[test]
fn a_file_newest_first_or_by_entity_alerts_as_in_time_order() {
    let dir = tempfile::tempdir().unwrap();
    let csv = generated_csv();
    let (header, rows) = csv.split_once('\n').unwrap();
    let rows: Vec<&str> = rows.lines().collect();
    let mut newest_first = rows.clone();
    newest_first.reverse();
    let mut by_entity = rows.clone();
    by_entity.sort_by_key(|r| r.split(',').next().unwrap().to_string());
    let alerts = |name: &str, rows: &[&str]| {
        let sub = dir.path().join(name);
        std::fs::create_dir(&sub).unwrap();
        let input = sub.join("cells.csv");
        std::fs::write(&input, format!("{header}\n{}\n", rows.join("\n"))).unwrap();
        let out = detect(&sub, &input, &[]);
        assert!(out.status.success(), "{}", text(&out));
        let alerts = std::fs::read_to_string(sub.join("out/alerts.csv")).unwrap();
        (alerts, text(&out))
    };
    let (in_order, _) = alerts("in-order", &rows);
    assert!(in_order.contains("cell-b"), "{in_order}");
    let (reversed, said) = alerts("newest-first", &newest_first);
    assert_eq!(reversed, in_order);
    assert!(said.contains("scored in time order"), "{said}");
    // Series one after the other: each in order, the file not; no source was silent.
    let (grouped, _) = alerts("by-entity", &by_entity);
    assert_eq!(grouped, in_order);
    assert!(!grouped.contains("no readings"), "{grouped}");
}

#[test]
fn a_file_without_entity_column_is_one_entity_named_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("machine_temp.csv");
    let mut s = String::from("timestamp,value\n");
    for i in 0..600 {
        s.push_str(&format!(
            "2014-01-01 {:02}:{:02}:00,{}\n",
            (i / 12) % 24,
            (i % 12) * 5,
            20 + i % 3
        ));
        if i == 300 {
            s.push_str("2014-01-02 01:00:00,oops\n");
        }
    }
    std::fs::write(&input, s).unwrap();
    let out = detect(dir.path(), &input, &[]);
    assert!(out.status.success(), "{}", text(&out));
    let t = text(&out);
    assert!(t.contains("`machine_temp`"), "{t}");
    // The bad value is on line 303 of the user's file (header, 301 rows, then it), named
    // with the user's path, not a temporary copy's.
    assert!(t.contains(&format!("{}:303:", input.display())), "{t}");
    let scores = std::fs::read_to_string(dir.path().join("out/scores.csv")).unwrap();
    assert!(scores.lines().nth(1).unwrap().starts_with("machine_temp,"));

    // A bad value among the first rows must not make the value column pass for an entity.
    let early = dir.path().join("early.csv");
    std::fs::write(
        &early,
        "timestamp,value\n2024-01-01 00:00:00,1\n2024-01-01 00:05:00,x\n2024-01-01 00:10:00,2\n",
    )
    .unwrap();
    let out = detect(dir.path(), &early, &[]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains(&format!("{}:3:", early.display())) && t.contains("`early`"),
        "{t}"
    );
}

fn bad_input_dir() -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/bad-input");
    d.is_dir().then_some(d)
}

#[test]
fn bad_input_never_panics_and_names_the_line() {
    let Some(bad) = bad_input_dir() else {
        eprintln!("note: ../shared/data/bad-input is absent; test skipped");
        return;
    };
    // file → a line that must be named (None: the file is valid or has no line to blame).
    let cases: &[(&str, Option<u32>, bool)] = &[
        ("csv_missing_field.csv", Some(3), true),
        ("csv_extra_field.csv", Some(2), false),
        ("csv_unterminated_quote.csv", Some(2), false),
        ("csv_bad_time.csv", Some(3), false),
        ("csv_bad_numbers.csv", Some(2), false),
        ("csv_invalid_utf8.csv", Some(2), false),
        ("csv_huge_line.csv", Some(2), false),
        ("jsonl_mixed_errors.jsonl", Some(2), true),
        ("jsonl_deep_nesting.jsonl", Some(1), false),
        ("csv_bom_crlf_valid.csv", None, true),
        ("csv_mixed_time_formats_valid.csv", None, true),
        ("csv_out_of_order_duplicates.csv", None, true),
        ("csv_no_entity_column.csv", None, true),
        ("csv_empty.csv", None, false),
        ("csv_header_only.csv", None, false),
    ];
    for &(name, line, ok) in cases {
        let path = bad.join(name);
        if !path.is_file() {
            eprintln!("note: {name} is absent; skipped");
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let out = detect(dir.path(), &path, &[]);
        let t = text(&out);
        assert!(!t.contains("panicked"), "{name}: {t}");
        assert!(out.status.code().is_some(), "{name}: killed by a signal");
        assert_eq!(out.status.success(), ok, "{name}: {t}");
        if let Some(line) = line {
            let want = format!("{name}:{line}:");
            assert!(t.contains(&want), "{name}: expected `{want}` in\n{t}");
        }
        if ok {
            for f in ["scores.csv", "alerts.csv", "plot.html"] {
                assert!(dir.path().join("out").join(f).is_file(), "{name}: {f}");
            }
        }
    }
}
