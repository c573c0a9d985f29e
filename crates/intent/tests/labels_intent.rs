//! `labels:` and `evaluate:` in an intent: accepted for a file source, refused with the field
//! at fault elsewhere or when a remote intent's labels leave the working directory.

use ai4ict_intent::{EvaluateMode, MlIntent, Origin};

const FILE: &str = "name: l
use_case: operations
source: { file: { path: data/cells.csv } }
labels: data/labels.csv
";

#[test]
fn a_file_source_takes_labels_and_evaluate_skip() {
    let i = MlIntent::from_yaml(FILE).unwrap();
    assert_eq!(
        i.labels.as_deref(),
        Some(std::path::Path::new("data/labels.csv"))
    );
    assert_eq!(i.evaluate, EvaluateMode::Auto);
    let i = MlIntent::from_yaml(&format!("{FILE}evaluate: skip\n")).unwrap();
    assert_eq!(i.evaluate, EvaluateMode::Skip);
    let e = MlIntent::from_yaml(&format!("{FILE}evaluate: never\n")).unwrap_err();
    assert!(e.to_string().contains("evaluate"), "{e}");
}

#[test]
fn labels_of_a_sandbox_source_or_outside_a_remote_tree_are_refused() {
    let sandbox =
        "name: l\nuse_case: operations\nsource: { sandbox: { cells: 4 } }\nlabels: l.csv\n";
    let e = MlIntent::from_yaml(sandbox).unwrap_err();
    let p = &e.problems()[0];
    assert_eq!(p.field.as_deref(), Some("labels"));
    assert_eq!(p.line, Some(4), "{e}");
    let remote = FILE.replace("data/labels.csv", "../../etc/labels.csv");
    let e = MlIntent::parse(&remote, "<http>", Origin::Remote).unwrap_err();
    assert!(
        e.to_string().contains("leaves the working directory"),
        "{e}"
    );
    assert!(MlIntent::parse(&remote, "<cli>", Origin::Local).is_ok());
}
