//! Prints a detector's single-core throughput and state size as JSON.
//!
//! ```text
//! cargo run --release -p ai4ict-anomaly --example bench -- [POINTS] [ENTITIES] [KIND]
//! ```
//! `KIND` is a detector name such as `ewma` (default `auto`).

use ai4ict_anomaly::{bench_throughput, DetectorKind};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let points = args.next().map_or(Ok(5_000_000), |a| a.parse())?;
    let entities = args.next().map_or(Ok(1000), |a| a.parse())?;
    let kind: DetectorKind = match args.next() {
        Some(k) => serde_json::from_value(serde_json::Value::String(k))?,
        None => DetectorKind::Auto,
    };
    let result = bench_throughput(kind, points, entities)?;
    println!("{}", serde_json::to_string_pretty(&result)?);
    Ok(())
}
