//! `ai4ict intent …`: the intent format itself.

use ai4ict_intent::MlIntent;

/// Work with the ML intent format.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Print the JSON schema of an intent (for editors and validators).
    Schema,
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        Command::Schema => outln!(
            "{}",
            serde_json::to_string_pretty(&MlIntent::json_schema())?
        ),
    }
    Ok(())
}
