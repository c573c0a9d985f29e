//! Flow intents: the two shipped ones validate, and a flow source, a classifier and a flow
//! alert policy that do not fit together are refused with the field at fault.

use ai4ict_intent::{MlIntent, ModelConfig, Origin, PolicyConfig, SourceConfig};

const BASE: &str = "name: f
use_case: security
source: { flows: { sandbox: { flows: 1000 } } }
model: { classify: { rounds: 10 } }
policy: { flow_alert: {} }
";

#[test]
fn the_shipped_intents_and_a_minimal_one_validate() {
    for name in ["intrusion-detection", "traffic-classification"] {
        let path = format!("{}/../../intents/{name}.yaml", env!("CARGO_MANIFEST_DIR"));
        let i = MlIntent::from_file(std::path::Path::new(&path)).unwrap();
        assert!(matches!(i.source, SourceConfig::Flows(_)), "{name}");
        assert!(matches!(i.model, ModelConfig::Classify(_)), "{name}");
        assert!(i.targets.macro_f1.is_some(), "{name}");
    }
    let i = MlIntent::from_yaml(BASE).unwrap();
    let (ModelConfig::Classify(m), PolicyConfig::FlowAlert(p)) = (i.model, i.policy) else {
        panic!("a classifier and a flow alert policy");
    };
    assert_eq!((m.rounds, m.test_fraction, m.seed), (10, 0.3, 7));
    assert_eq!((p.min_flows, p.alert_classes), (3, None));
    assert!(
        p.behaviour.is_some(),
        "the behaviour watch is on by default"
    );
}

#[test]
fn mismatches_and_bad_values_are_refused_naming_the_field() {
    for (from, to, field) in [
        (
            "model: { classify: { rounds: 10 } }",
            "model: { anomaly: { detector: auto } }",
            "model",
        ),
        (
            "source: { flows: { sandbox: { flows: 1000 } } }",
            "source: { sandbox: { cells: 3 } }",
            "model",
        ),
        (
            "policy: { flow_alert: {} }",
            "policy: { alert: {} }",
            "model",
        ),
        ("rounds: 10", "rounds: 0", "model.classify.rounds"),
        ("rounds: 10", "max_depth: 0", "model.classify.max_depth"),
        ("rounds: 10", "max_depth: 65", "model.classify.max_depth"),
        (
            "rounds: 10",
            "test_fraction: 1.0",
            "model.classify.test_fraction",
        ),
        (
            "rounds: 10",
            "train: { netflow: { listen: '127.0.0.1:2055' } }",
            "model.classify.train",
        ),
        (
            "rounds: 10",
            "train: { sandbox: { attack_share: 2 } }",
            "model.classify.train.sandbox.attack_share",
        ),
        (
            "source: { flows: { sandbox: { flows: 1000 } } }",
            "source: { flows: { netflow: { listen: '127.0.0.1:2055' } } }",
            "model.classify.directions",
        ),
        (
            "source: { flows: { sandbox: { flows: 1000 } } }",
            "source: { flows: { sandbox: { flows: 0 } } }",
            "source.flows.flows",
        ),
        (
            "flow_alert: {}",
            "flow_alert: { min_flows: 0 }",
            "policy.flow_alert.min_flows",
        ),
        (
            "flow_alert: {}",
            "flow_alert: { behaviour: { score_above: 1.0 } }",
            "policy.flow_alert.behaviour.score_above",
        ),
        ("flow_alert: {}", "flow_alert: { colour: red }", "colour"),
    ] {
        let text = BASE.replace(from, to);
        assert_ne!(text, BASE, "{from}");
        let e = MlIntent::from_yaml(&text).unwrap_err().to_string();
        assert!(e.contains(field), "{to}: {e}");
    }
    let live = BASE
        .replace(
            "sandbox: { flows: 1000 }",
            "netflow: { listen: '127.0.0.1:2055' }",
        )
        .replace("rounds: 10", "directions: forward");
    MlIntent::from_yaml(&live).unwrap();
    // A remote submitter may not open a collector port, nor read files outside the
    // working directory.
    let e = MlIntent::parse(&live, "http", Origin::Remote)
        .unwrap_err()
        .to_string();
    assert!(e.contains("source.flows.listen"), "{e}");
    let file = BASE.replace("sandbox: { flows: 1000 }", "file: { path: /etc/passwd }");
    let e = MlIntent::parse(&file, "http", Origin::Remote)
        .unwrap_err()
        .to_string();
    assert!(e.contains("source.flows.path"), "{e}");
}
