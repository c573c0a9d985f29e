//! Prints the forecast benchmark (what `ai4ict bench forecast` shows). Run from the
//! repository root so that `scripts/` and `../shared/data` resolve.
fn main() {
    let config = ai4ict_energy::BenchConfig::default();
    match ai4ict_energy::bench_forecast(&config) {
        Ok(r) => print!("{r}"),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
