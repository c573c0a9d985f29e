//! Catalogue benchmark without the CLI:
//! `cargo run -p ai4ict-hub --release --example hub_bench [N] [POSTGRES]` prints the
//! [`ai4ict_hub::bench::BenchReport`] as JSON (`ai4ict hub bench` prints it for people). With a
//! PostgreSQL connection string (and `--features postgres`) the entries are stored there, in
//! schema `ai4ict_bench`, dropped first.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(10_000);
    let store = match std::env::args().nth(2) {
        #[cfg(feature = "postgres")]
        Some(conn) => {
            ai4ict_hub::Store::drop_postgres_schema(&conn, "ai4ict_bench")?;
            ai4ict_hub::Store::open_postgres(&conn, Some("ai4ict_bench"))?
        }
        #[cfg(not(feature = "postgres"))]
        Some(_) => return Err("PostgreSQL needs --features postgres".into()),
        None => ai4ict_hub::Store::in_memory()?,
    };
    let report = ai4ict_hub::bench::run(store, n, 2_000, 42)?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    Ok(())
}
