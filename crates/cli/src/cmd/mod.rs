//! One module per subcommand.
pub mod bench;
pub mod bench_anomaly;
pub mod bench_nab;
pub mod bench_sandbox;
pub mod completions;
pub mod demo;
pub mod detect;
pub mod detectors;
pub mod files;
pub mod hub;
pub mod intent;
pub mod man;
pub mod run;
pub mod sandbox;
pub mod validate;
