//! `ai4ict bench bus`: KPI values per second from a NATS JetStream stream through the shipped
//! anomaly intent's chain (C, M `auto`, P, D, a file sink), with one process and with a
//! cluster, as a user runs it: the bench writes the sandbox's telemetry to a fresh stream on
//! the server given, partitioned by entity as docs/intents.md says (`<subject>.<k>`, one
//! partition per process of the cluster), then runs `ai4ict run` on it once per cluster size,
//! each run with its own durable consumers reading the whole stream (`until_caught_up`): each
//! process reads the partitions of the cells it scores. It prints each run's deployment rate
//! (rows over the deploy stage's time: start-up, training on the sandbox's history and the
//! consumers' creation are left out) and the cluster's ratio to one process. It fails when a
//! run fails or scores fewer rows than were published.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use ai4ict_core::Entity;
use ai4ict_sandbox::{Network, ScenarioConfig, KPIS};
use anyhow::{bail, Context};

/// Options of `bench bus`.
#[derive(clap::Args)]
pub struct Args {
    /// The NATS server with JetStream, `nats://host:port`.
    #[arg(long)]
    nats: String,
    /// Sandbox cells whose telemetry is published.
    #[arg(long, default_value_t = 1000)]
    cells: u32,
    /// Days of 15-minute readings.
    #[arg(long, default_value_t = 3)]
    days: u32,
    /// Processes of the cluster run (beside the one-process run), 2 to 8.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(2..=8))]
    processes: u16,
}

/// Runs the benchmark.
pub fn run(a: Args) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!("note: this is a debug build; time it with `cargo run --release --features nats -- bench bus`");
    }
    let dir = tempfile::tempdir()?;
    let net = Network::new(&ScenarioConfig {
        cells: a.cells,
        days: a.days,
        ..ScenarioConfig::default()
    })?;
    let rows = ai4ict_sandbox::write_jsonl(&net, dir.path())?;
    let text = std::fs::read_to_string(dir.path().join("telemetry.jsonl"))?;
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let stream = format!("AI4ICT_BENCH_BUS_{}_{nanos}", std::process::id());
    let t = Instant::now();
    let partitions = u32::from(a.processes);
    publish(&a.nats, &stream, &text, partitions)?;
    outln!(
        "bench bus: {rows} rows × {} KPIs ({} cells × {} days) published to {} stream {stream} \
         in {partitions} partitions in {:.1} s ({:.0} rows/s, each acknowledged by JetStream)",
        KPIS.len(),
        a.cells,
        a.days,
        a.nats,
        t.elapsed().as_secs_f64(),
        rows as f64 / t.elapsed().as_secs_f64().max(1e-9)
    );
    let result = (|| {
        let run =
            |processes| run_cluster(dir.path(), &a.nats, &stream, partitions, processes, rows);
        let one = run(1)?;
        let many = run(usize::from(a.processes))?;
        outln!(
            "  {} processes / 1 process = {:.2} (goal ≥ 1.7 for 2); one process: {:.2} M KPI \
             values/s (goal ≥ 1 M on one core)",
            a.processes,
            many / one,
            one * KPIS.len() as f64 / 1e6
        );
        // One process keeps about a core busy: the cluster needs one each, and the server one.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        if cores <= usize::from(a.processes) {
            outln!(
                "  note: this machine has {cores} cores for {} processes and a NATS server on \
                 the same host: the ratio shows the cores, not the cluster",
                a.processes
            );
        }
        Ok(())
    })();
    // The stream is the bench's own: remove it whatever happened.
    if let Err(e) = delete_stream(&a.nats, &stream) {
        eprintln!("note: could not delete stream {stream}: {e:#}");
    }
    result
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

async fn jetstream(url: &str) -> anyhow::Result<async_nats::jetstream::Context> {
    let client = async_nats::connect(url.trim_start_matches("nats://"))
        .await
        .with_context(|| format!("cannot reach the NATS server {url}"))?;
    Ok(async_nats::jetstream::new(client))
}

/// The prefix of the stream's partitions' subjects.
fn subject(stream: &str) -> String {
    format!("{}.kpi", stream.to_lowercase())
}

/// Creates `stream` and publishes every line of `text` to it, each to the subject of its
/// entity's partition (of `partitions`), in chunks whose acknowledgements are awaited
/// together.
fn publish(url: &str, stream: &str, text: &str, partitions: u32) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        let js = jetstream(url).await?;
        let prefix = subject(stream);
        js.create_stream(async_nats::jetstream::stream::Config {
            name: stream.to_string(),
            subjects: vec![format!("{prefix}.*")],
            ..Default::default()
        })
        .await
        .with_context(|| format!("creating stream {stream} on {url}"))?;
        let lines: Vec<&str> = text.lines().collect();
        for chunk in lines.chunks(2000) {
            let mut acks = Vec::with_capacity(chunk.len());
            for line in chunk {
                let row: serde_json::Value =
                    serde_json::from_str(line).context("a row of the sandbox's telemetry")?;
                let entity = Entity::new(row["entity"].as_str().unwrap_or_default());
                let k = entity.owner(partitions as usize);
                acks.push(
                    js.publish(format!("{prefix}.{k}"), line.to_string().into())
                        .await
                        .context("publishing a row")?,
                );
            }
            for ack in acks {
                ack.await.context("JetStream's acknowledgement of a row")?;
            }
        }
        Ok(())
    })
}

fn delete_stream(url: &str, stream: &str) -> anyhow::Result<()> {
    runtime()?.block_on(async {
        jetstream(url).await?.delete_stream(stream).await?;
        Ok(())
    })
}

/// Runs the intent on `stream` (in `partitions`) with a cluster of `processes` and returns
/// its deployment rate in rows/s.
fn run_cluster(
    dir: &Path,
    url: &str,
    stream: &str,
    partitions: u32,
    processes: usize,
    rows: u64,
) -> anyhow::Result<f64> {
    let name = format!("bench-bus-{processes}");
    let intent = format!(
        "name: {name}
use_case: operations
source:
  nats: {{ url: \"{url}\", stream: {stream}, subject: {subject}, partitions: {partitions}, durable: {name}, until_caught_up: true }}
collect:
  fields: [{fields}]
  interval: 15m
preprocess:
  - fill_gaps: linear
model:
  anomaly: {{ detector: auto }}
policy:
  alert: {{ score_above: 0.9, for: 2, suppress: 2h }}
distribute:
  - file: {{ path: {name}.jsonl, mode: overwrite }}
",
        fields = KPIS.join(", "),
        subject = subject(stream),
    );
    let file = format!("{name}.yaml");
    std::fs::write(dir.join(&file), intent)?;
    let port = free_ports(processes)?.to_string();
    let exe = std::env::current_exe()?;
    let children = (0..processes)
        .map(|i| {
            let mut cmd = Command::new(&exe);
            cmd.args(["run", &file, "--quiet", "--no-hub", "--force"]);
            if processes > 1 {
                cmd.args(["--processes", &processes.to_string()])
                    .args(["--process", &i.to_string(), "--base-port", &port])
                    .args(["--connect-timeout", "30"]);
            }
            cmd.current_dir(dir)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .context("starting `ai4ict run`")
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut leader = String::new();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output()?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            bail!(
                "process {i} of {processes} failed ({}): {}{}",
                out.status,
                text.lines().rev().take(5).collect::<Vec<_>>().join("\n"),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        if i == 0 {
            leader = text;
        }
    }
    let (scored, secs) = deployment(&leader).with_context(|| {
        format!("no `deployment run:` line in the output of process 0:\n{leader}")
    })?;
    if scored < rows {
        bail!("{processes} process(es) scored {scored} of the {rows} rows published");
    }
    let rate = scored as f64 / secs.max(1e-9);
    outln!(
        "  {processes} process(es): {scored} rows deployed in {secs:.2} s: {:.0} rows/s, {:.2} M \
         KPI values/s",
        rate,
        rate * KPIS.len() as f64 / 1e6
    );
    Ok(rate)
}

/// Rows and seconds of `ai4ict run`'s line `deployment run: N rows from M entities in S s`.
fn deployment(output: &str) -> Option<(u64, f64)> {
    let line = output
        .lines()
        .find_map(|l| l.strip_prefix("deployment run: "))?;
    let rows = line.split_whitespace().next()?.parse().ok()?;
    let secs = line
        .split(" in ")
        .nth(1)?
        .split_whitespace()
        .next()?
        .strip_suffix('s')?
        .parse()
        .ok()?;
    Some((rows, secs))
}

/// A port on 127.0.0.1 from which `n` consecutive ones are free now.
fn free_ports(n: usize) -> anyhow::Result<u16> {
    for _ in 0..50 {
        let first = super::bench::free_loopback()?.port();
        let all_free = (1..n).all(|k| {
            u16::try_from(usize::from(first) + k)
                .is_ok_and(|p| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok())
        });
        if all_free {
            return Ok(first);
        }
    }
    bail!("no {n} consecutive free ports on 127.0.0.1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deployment_line_is_read() {
        let out = "report: x\ndeployment run: 268286 rows from 200 entities in 0.70s \
                   (382460 rows/s), batch latency p50 2.00 ms\n";
        assert_eq!(deployment(out), Some((268_286, 0.70)));
        assert_eq!(deployment("deployment run: many rows"), None);
        assert_eq!(deployment(""), None);
    }
}
