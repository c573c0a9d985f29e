//! Runs an energy-saving evaluation and prints the per-policy results as JSON lines.
//! Usage: `energy_eval ['{"sandbox": {"cells": 500}, "level": 0.8}']` (an `EnergyConfig` in JSON).
fn main() {
    let config: ai4ict_energy::EnergyConfig = match std::env::args().nth(1) {
        Some(json) => match serde_json::from_str(&json) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("bad config: {e}");
                std::process::exit(2);
            }
        },
        None => ai4ict_energy::EnergyConfig::default(),
    };
    match ai4ict_energy::evaluate(&config) {
        Ok(r) => {
            for p in &r.policies {
                println!("{}", serde_json::to_string(p).unwrap_or_default());
            }
            println!(
                "saved_vs_oracle={:.3} coverage={:.3} rel_mae={:.3} failures={} forecast_s={:.2} cells={} small={}",
                r.saved_vs_oracle,
                r.forecast_coverage,
                r.forecast_rel_mae,
                r.forecast_failures,
                r.forecast_seconds,
                r.cells,
                r.small_cells
            );
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
