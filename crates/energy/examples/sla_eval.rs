//! Runs the SLA-breach prediction on the default sandbox scenario and prints its scores.
//! Usage: `sla_eval ['{"latency_limit_ms": 30}']` (an `SlaConfig` in JSON).
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
