//! The detectors the registry holds are the ones the docs and the CLI offer: adding a detector
//! is one file and one registry line, and nothing else can fall out of step silently.

use std::collections::BTreeSet;
use std::process::Command;

use ai4ict_anomaly::DetectorKind;

fn registry() -> BTreeSet<String> {
    DetectorKind::ALL
        .iter()
        .map(|k| k.name().to_string())
        .collect()
}

/// Names between `detector:` and the next `,` of the intent reference's model row.
fn in_docs() -> BTreeSet<String> {
    let docs = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/intents.md"
    ))
    .unwrap();
    let row = docs
        .lines()
        .find(|l| l.starts_with("| `model` |"))
        .expect("docs/intents.md has the model row");
    let list = row
        .split("detector:")
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap();
    list.split("\\|").map(|n| n.trim().to_string()).collect()
}

/// The `[possible values: …]` of `ai4ict <args> --help` for `--detector`.
fn in_help(args: &[&str]) -> BTreeSet<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_ai4ict"))
        .args(args)
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout).replace('\n', " ");
    let at = help.find("--detector").expect("--detector in help");
    let values = help[at..].split("[possible values: ").nth(1).unwrap();
    let values = &values[..values.find(']').unwrap()];
    values
        .split(',')
        .map(|v| v.trim().to_string())
        .filter(|v| v != "all")
        .collect()
}

#[test]
fn registry_docs_and_cli_list_the_same_detectors() {
    let registry = registry();
    assert!(registry.len() >= 11);
    assert_eq!(in_docs(), registry, "docs/intents.md");
    assert_eq!(in_help(&["detect"]), registry, "detect --help");
    for bench in ["anomaly", "nab", "sandbox"] {
        assert_eq!(in_help(&["bench", bench]), registry, "bench {bench} --help");
    }
}
