//! One module per subcommand.
pub mod bench;
pub mod bench_anomaly;
pub mod bench_engine;
pub mod bench_nab;
pub mod bench_sandbox;
pub mod demo;
pub mod detect;
pub mod detectors;
pub mod forecast;
pub mod hub;
pub mod input;
pub mod intent;
pub mod run;
pub mod sandbox;
pub mod validate;
