//! The forecast policy and sink: the shipped intent validates, and mismatched sinks, sources
//! and settings are refused with the field at fault.

use ai4ict_intent::{MlIntent, PolicyConfig};

const BASE: &str = "name: f
use_case: operations
source: { file: { path: data/cell-traffic.csv } }
model: { forecast: { method: auto } }
policy: { forecast: { horizon: 24 } }
distribute: [ { forecast: { path: out/f.csv } } ]
";

#[test]
fn the_shipped_intent_and_a_minimal_one_validate() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../intents/traffic-forecast.yaml"
    );
    let shipped = MlIntent::from_file(std::path::Path::new(path)).unwrap();
    assert!(matches!(shipped.policy, PolicyConfig::Forecast(_)));
    let i = MlIntent::from_yaml(BASE).unwrap();
    let PolicyConfig::Forecast(p) = i.policy else {
        panic!("a forecast policy");
    };
    assert_eq!(
        (p.horizon, p.level, p.season, p.backtest_windows),
        (24, 0.9, None, 4)
    );
}

#[test]
fn mismatches_are_refused_naming_the_field() {
    for (from, to, field) in [
        (
            "distribute: [ { forecast: { path: out/f.csv } } ]",
            "distribute: [ { file: { path: out/f.csv } } ]",
            "distribute.0.file",
        ),
        (
            "source: { file: { path: data/cell-traffic.csv } }",
            "source: { sandbox: { cells: 3 } }",
            "source",
        ),
        (
            "horizon: 24",
            "horizon: 24, level: 1.5",
            "policy.forecast.level",
        ),
        ("horizon: 24", "season: 0", "policy.forecast.season"),
        (
            "horizon: 24",
            "backtest_windows: 0",
            "policy.forecast.backtest_windows",
        ),
        (
            "model: { forecast: { method: auto } }",
            "model: { anomaly: { detector: auto } }",
            "policy",
        ),
    ] {
        let text = BASE.replace(from, to);
        let e = MlIntent::from_yaml(&text).unwrap_err().to_string();
        assert!(e.contains(field), "{to}: {e}");
    }
    let alerts = "name: a
use_case: operations
source: { file: { path: x.csv } }
distribute: [ { forecast: { path: f.csv } } ]
";
    let e = MlIntent::from_yaml(alerts).unwrap_err().to_string();
    assert!(e.contains("distribute.0.forecast"), "{e}");
}
