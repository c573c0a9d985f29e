//! Times forecasting many sandbox cells at once (the "10,000 cells in ≤ 30 s on 2 cores"
//! goal): `forecast_cells [cells] [days] [method]`, e.g. `forecast_cells 10000 14 mstl`.
//! Each cell's offered load over `days` (15-minute intervals) is fitted and forecast one
//! day ahead with 80% intervals on the rayon pool (RAYON_NUM_THREADS sets its size).
use std::time::Instant;

use ai4ict_forecast::{forecast_many, ForecasterConfig, Method};
use ai4ict_sandbox::{Network, ScenarioConfig};
use rayon::prelude::*;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let cells: u32 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let days: u32 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(14);
    let method = match args.get(3).map(String::as_str) {
        Some("seasonal_naive") => Method::SeasonalNaive,
        Some("ets") => Method::Ets,
        Some("linear") => Method::Linear,
        Some("auto") => Method::Auto,
        _ => Method::Mstl,
    };
    let net = match Network::new(&ScenarioConfig {
        cells,
        days,
        ..ScenarioConfig::default()
    }) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let series: Vec<Vec<f64>> = (0..net.cells().len())
        .into_par_iter()
        .map(|c| (0..net.steps()).map(|t| net.demand(c, t).dl_mbps).collect())
        .collect();
    let started = Instant::now();
    let out = forecast_many(&ForecasterConfig::with_method(method), &series, 96, 96, 0.8);
    let secs = started.elapsed().as_secs_f64();
    let failed = out.iter().filter(|r| r.is_err()).count();
    println!(
        "{} cells × {} points, method {}, {} threads: {:.2} s ({:.2} ms per series), {} failed",
        series.len(),
        net.steps(),
        method.as_str(),
        rayon::current_num_threads(),
        secs,
        1000.0 * secs / series.len() as f64,
        failed
    );
}
