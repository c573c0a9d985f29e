//! The detectors, sources and sinks the registries hold are the ones the docs and the CLI
//! offer: adding one is one file and one registry line, and nothing else can fall out of step
//! silently.

use std::collections::BTreeSet;
use std::process::Command;

use ai4ict_anomaly::DetectorKind;
use ai4ict_connectors::SinkConfig;
use ai4ict_intent::SourceConfig;

fn registry() -> BTreeSet<String> {
    DetectorKind::ALL
        .iter()
        .map(|k| k.name().to_string())
        .collect()
}

/// The row of the intent reference's table for the key `key`.
fn docs_row(key: &str) -> String {
    let docs = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/intents.md"
    ))
    .unwrap();
    let start = format!("| `{key}` |");
    docs.lines()
        .find(|l| l.starts_with(&start))
        .unwrap_or_else(|| panic!("docs/intents.md has the {key} row"))
        .to_string()
}

/// The names `x` of the `{x: {` configs in the intent reference's row for `key`.
fn configs_in_docs(key: &str) -> BTreeSet<String> {
    let row = docs_row(key);
    row.split('{')
        .filter_map(|part| part.strip_suffix(": "))
        .map(|name| name.trim().to_string())
        .collect()
}

/// Names between `detector:` and the next `,` of the intent reference's model row.
fn in_docs() -> BTreeSet<String> {
    let row = docs_row("model");
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

#[test]
fn registries_and_docs_list_the_same_sources_and_sinks() {
    let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    assert_eq!(
        configs_in_docs("source"),
        names(SourceConfig::NAMES),
        "source row"
    );
    assert_eq!(
        configs_in_docs("distribute"),
        names(SinkConfig::NAMES),
        "distribute row"
    );
}
