//! `ai4ict tap PIPELINE NODE`: records passing a node of a pipeline an `ai4ict serve` runs,
//! sampled while they pass, printed as JSON lines (like `vector tap`).

use ai4ict_server::client::Client;

/// Print records passing a node of a running pipeline as JSON lines.
///
/// NODE is one of the pipeline's Y.3172 nodes: SRC (rows read), PP (rows preprocessed), M
/// (rows with their score), P (alerts raised) or SINK (alerts delivered). Records are sampled
/// (a few per batch) only while the tap waits; it ends after --limit records, or fails when
/// none passed within --timeout seconds.
#[derive(clap::Args)]
pub struct Args {
    /// The pipeline (its intent's name).
    pub pipeline: String,
    /// The node: SRC, PP, M, P or SINK.
    pub node: String,
    /// Records to print (1 to 1000).
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    /// Seconds to wait for them (1 to 60).
    #[arg(long, default_value_t = 10)]
    pub timeout: u64,
    /// The server.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
}

/// Taps the node and prints what passed.
pub fn run(args: Args) -> anyhow::Result<()> {
    let client = Client::new(&args.url)?;
    let records = client.tap(&args.pipeline, &args.node, args.limit, args.timeout)?;
    anyhow::ensure!(
        !records.is_empty(),
        "nothing passed node {} of pipeline `{}` within {} s",
        args.node,
        args.pipeline,
        args.timeout
    );
    for r in records {
        outln!("{r}");
    }
    Ok(())
}
