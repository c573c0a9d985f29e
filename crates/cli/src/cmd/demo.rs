//! `ai4ict demo`: the shipped cell-KPI anomaly intent on the default sandbox network.

use ai4ict_intent::{MlIntent, Origin};

use super::run::{run_intent, Runtime};

const INTENT: &str = include_str!("../../../../intents/cell-kpi-anomaly.yaml");

/// Run the shipped `intents/cell-kpi-anomaly.yaml` on the default sandbox network and print
/// the report (the quickest way to see ai4ict work).
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    runtime: Runtime,
}

/// Runs the demo intent.
pub fn run(args: Args) -> anyhow::Result<()> {
    let intent = MlIntent::parse(INTENT, "intents/cell-kpi-anomaly.yaml", Origin::Local)?;
    run_intent(intent, &args.runtime)
}
