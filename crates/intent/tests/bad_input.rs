//! Every intent in the shared bad-input corpus is refused with its place named, and the
//! shipped intents parse.

use std::path::PathBuf;

use ai4ict_intent::{IntentError, MlIntent, Origin};

fn shared(name: &str) -> Option<String> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/bad-input")
        .join(name);
    match std::fs::read_to_string(&p) {
        Ok(t) => Some(t),
        Err(_) => {
            eprintln!("note: {} not found; test skipped", p.display());
            None
        }
    }
}

fn first_problem(e: &IntentError) -> String {
    e.problems()
        .first()
        .map(|p| p.to_string())
        .unwrap_or_else(|| e.to_string())
}

#[test]
fn unknown_field_names_line_and_suggests() {
    let Some(text) = shared("intent_unknown_field.yaml") else {
        return;
    };
    let e = MlIntent::from_yaml(&text).unwrap_err();
    let p = e.problems()[0].clone();
    assert_eq!(p.line, Some(5), "{e}");
    assert!(p.message.contains("modle"), "{e}");
    assert_eq!(p.hint.as_deref(), Some("did you mean `model`?"), "{e}");
}

#[test]
fn bad_enum_names_the_use_case() {
    let Some(text) = shared("intent_bad_enum.yaml") else {
        return;
    };
    let e = MlIntent::from_yaml(&text).unwrap_err();
    let p = e.problems()[0].clone();
    assert_eq!(p.line, Some(2), "{e}");
    assert_eq!(p.field.as_deref(), Some("use_case"), "{e}");
    assert!(
        p.hint.clone().unwrap_or_default().contains("operations"),
        "{}",
        first_problem(&e)
    );
}

#[test]
fn negative_count_names_cells() {
    let Some(text) = shared("intent_negative_count.yaml") else {
        return;
    };
    let e = MlIntent::from_yaml(&text).unwrap_err();
    let p = e.problems()[0].clone();
    assert_eq!(p.line, Some(4), "{e}");
    assert_eq!(p.field.as_deref(), Some("source.sandbox.cells"), "{e}");
}

#[test]
fn broken_yaml_names_a_line() {
    let Some(text) = shared("intent_broken_yaml.yaml") else {
        return;
    };
    let e = MlIntent::from_yaml(&text).unwrap_err();
    assert!(e.problems()[0].line.is_some(), "{e}");
}

#[test]
fn alias_bomb_is_refused_quickly() {
    let Some(text) = shared("intent_alias_bomb.yaml") else {
        return;
    };
    let e = MlIntent::from_yaml(&text).unwrap_err();
    assert!(!e.to_string().is_empty());
}

#[test]
fn path_escape_refused_remotely_allowed_locally() {
    let Some(text) = shared("intent_path_escape.yaml") else {
        return;
    };
    let e = MlIntent::parse(&text, "http", Origin::Remote).unwrap_err();
    let p = e.problems()[0].clone();
    assert_eq!(p.field.as_deref(), Some("source.file.path"), "{e}");
    assert_eq!(p.line, Some(4), "{e}");
    assert!(MlIntent::parse(&text, "cli", Origin::Local).is_ok());
}

#[test]
fn shipped_intents_parse() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../intents");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") && MlIntent::from_file(&path).is_ok() {
            n += 1;
        }
    }
    assert!(n >= 1);
    MlIntent::from_file(&dir.join("cell-kpi-anomaly.yaml")).unwrap();
}

#[test]
fn semantic_errors_are_located() {
    let text = "name: t\nuse_case: operations\nsource:\n  sandbox: {cells: 10}\ncollect:\n  fields: [prb_util, volume]\npolicy:\n  alert:\n    score_above: 1.5\n";
    let e = MlIntent::from_yaml(text).unwrap_err();
    let problems = e.problems();
    assert_eq!(problems.len(), 2, "{e}");
    assert_eq!(problems[0].field.as_deref(), Some("collect.fields"));
    assert_eq!(problems[0].line, Some(6));
    assert_eq!(
        problems[1].field.as_deref(),
        Some("policy.alert.score_above")
    );
    assert_eq!(problems[1].line, Some(9));
}

#[test]
fn schema_lists_top_level_fields() {
    let s = MlIntent::json_schema().to_string();
    for f in ["use_case", "source", "preprocess", "targets"] {
        assert!(s.contains(f), "{f}");
    }
}

#[test]
fn from_file_refuses_devices_and_oversized_files_without_reading_them() {
    let started = std::time::Instant::now();
    let err = MlIntent::from_file(std::path::Path::new("/dev/zero")).unwrap_err();
    assert!(err.to_string().contains("not a regular file"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    assert!(MlIntent::from_file(dir.path())
        .unwrap_err()
        .to_string()
        .contains("not a regular file"));
    let big = dir.path().join("big.yaml");
    std::fs::write(&big, vec![b'#'; (1 << 20) + 1]).unwrap();
    let err = MlIntent::from_file(&big).unwrap_err();
    assert!(
        err.to_string()
            .contains("is 1048577 bytes; at most 1048576 are accepted"),
        "{err}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn at_once_out_of_range_is_located_and_null_turns_it_off() {
    let text = "name: t\nuse_case: operations\nsource:\n  sandbox: {cells: 10}\npolicy:\n  alert:\n    at_once: 1.5\n";
    let e = MlIntent::from_yaml(text).unwrap_err();
    assert_eq!(e.problems().len(), 1, "{e}");
    assert_eq!(
        e.problems()[0].field.as_deref(),
        Some("policy.alert.at_once")
    );
    let off = MlIntent::from_yaml(&text.replace("1.5", "null")).unwrap();
    let ai4ict_intent::PolicyConfig::Alert(p) = off.policy else {
        panic!("an alert policy");
    };
    assert_eq!(p.at_once, None);
}
