//! Reading back what a pipeline sent to the real Alertmanager of the tests.

use serde_json::Value;

/// The alerts Alertmanager at `am` holds for the intent `intent` (its `GET /api/v2/alerts`,
/// filtered by the `intent` label).
pub fn alerts(am: &str, intent: &str) -> Vec<Value> {
    let text = ureq::get(format!("{am}/api/v2/alerts?filter=intent%3D%22{intent}%22"))
        .call()
        .unwrap()
        .body_mut()
        .read_to_string()
        .unwrap();
    match serde_json::from_str(&text).unwrap() {
        Value::Array(all) => all,
        other => panic!("Alertmanager answered an alert list that is not a list: {other}"),
    }
}
