//! Runs an energy-saving evaluation and prints the per-policy results as JSON lines.
//! Usage: `energy_eval ['{"sandbox": {"cells": 500}, "level": 0.8}' [OUT_DIR]]` (an
//! `EnergyConfig` in JSON; `{}` for the default). With OUT_DIR, also writes `report.json` and
//! one SVG plot per plotted cell there.
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
            if let Some(dir) = std::env::args().nth(2) {
                let dir = std::path::PathBuf::from(dir);
                let written = std::fs::create_dir_all(&dir)
                    .and_then(|_| {
                        std::fs::write(
                            dir.join("report.json"),
                            serde_json::to_vec_pretty(&r).unwrap_or_default(),
                        )
                    })
                    .and_then(|_| {
                        r.plots.iter().try_for_each(|p| {
                            std::fs::write(
                                dir.join(format!("{}.svg", p.cell)),
                                p.svg(
                                    ai4ict_core::Timestamp(r.start_ms),
                                    (r.interval_minutes * 60_000.0) as i64,
                                    1200.0,
                                    320.0,
                                ),
                            )
                        })
                    });
                if let Err(e) = written {
                    eprintln!("cannot write {}: {e}", dir.display());
                }
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
