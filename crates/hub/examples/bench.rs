//! Catalogue benchmark without the CLI: `cargo run -p ai4ict-hub --release --example bench [N]`
//! prints the [`ai4ict_hub::bench::BenchReport`] as JSON (`ai4ict hub bench` prints it for
//! people).

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(10_000);
    let report = ai4ict_hub::bench::run(ai4ict_hub::Store::in_memory()?, n, 2_000, 42)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
