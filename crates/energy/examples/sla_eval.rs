//! Runs the SLA-breach prediction on the default sandbox scenario and prints its scores.
//! Usage: `sla_eval ['{"sandbox": {"days": 28, "seed": 11}, "policy": {…}}']` (an
//! `SlaConfig` in JSON; a `sandbox` block replaces the default 28-day scenario as a whole).
fn main() {
    let config: ai4ict_energy::SlaConfig = match std::env::args().nth(1) {
        Some(json) => match serde_json::from_str(&json) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("bad config: {e}");
                std::process::exit(2);
            }
        },
        None => ai4ict_energy::SlaConfig::default(),
    };
    match ai4ict_energy::evaluate_sla(&config) {
        Ok(scores) => {
            for s in scores {
                println!("{}", serde_json::to_string(&s).unwrap_or_default());
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
