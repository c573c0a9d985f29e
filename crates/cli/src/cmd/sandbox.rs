//! `ai4ict sandbox …`: the simulated underlay of the ML sandbox (ITU-T Y.3181, crate
//! `ai4ict-sandbox`) as files that any tool can read.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ai4ict_core::{Interval, Timestamp};
use ai4ict_sandbox::{IotConfig, Network, Scenario, ScenarioConfig, SensorField};
use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};
use rumqttc::{Client, Event, MqttOptions, Packet, QoS, RecvTimeoutError};

/// The ML sandbox's simulated network (ITU-T Y.3181): seeded cells with KPIs and ground truth.
#[derive(Parser, Debug)]
pub struct Args {
    #[command(subcommand)]
    command: SandboxCommand,
}

#[derive(Subcommand, Debug)]
enum SandboxCommand {
    /// Simulate a radio access network and write its telemetry, ground-truth incidents
    /// (labels.json) and topology (topology.json) to a folder.
    Generate(GenerateArgs),
    /// Write labelled flow records (normal traffic classes and attacks, with ground truth)
    /// carried by the simulated network's cells, as CSV, for `ai4ict bench classify`.
    Flows(FlowsArgs),
    /// Simulate a field of IoT sensors (temperature, humidity, battery) with stuck, drifting
    /// and dead sensors, and write its telemetry.csv and ground truth (labels.json).
    Iot(IotArgs),
    /// Publish the IoT sensor field's readings to an MQTT broker, one JSON line per reading
    /// on TOPIC/<sensor>, at a bounded rate.
    Publish(PublishArgs),
}

/// The IoT sensor field (crate `ai4ict-sandbox`, `IotConfig`).
#[derive(Parser, Debug)]
struct FieldArgs {
    /// Number of sensors, 1 to 100000.
    #[arg(long, default_value_t = 30)]
    sensors: u32,
    /// Days to simulate, 1 to 366.
    #[arg(long, default_value_t = 4)]
    days: u32,
    /// Random seed: the same seed gives the same readings and faults.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Reporting interval, 1m to 1h.
    #[arg(long, default_value = "5m")]
    interval: Interval,
    /// First reporting time, RFC 3339 [default: 2024-01-01T00:00:00Z].
    #[arg(long)]
    start: Option<Timestamp>,
    /// Days at the start without faults (the detectors' warm-up).
    #[arg(long, default_value_t = 1)]
    quiet_days: u32,
    /// Share of sensors that develop one fault (stuck, drifting or dead), 0 to 1.
    #[arg(long, default_value_t = 0.3)]
    faulty_share: f64,
}

impl FieldArgs {
    fn field(&self) -> anyhow::Result<SensorField> {
        let d = IotConfig::default();
        Ok(SensorField::new(&IotConfig {
            sensors: self.sensors,
            days: self.days,
            seed: self.seed,
            interval: self.interval,
            start: self.start.unwrap_or(d.start),
            quiet_days: self.quiet_days,
            faulty_share: self.faulty_share,
        })?)
    }
}

#[derive(Parser, Debug)]
struct IotArgs {
    #[command(flatten)]
    field: FieldArgs,
    /// Folder to write telemetry.csv and labels.json into (created if needed).
    #[arg(long)]
    out: PathBuf,
    /// Replace files already in `--out` (by default they are refused, never overwritten).
    #[arg(long)]
    force: bool,
}

#[derive(Parser, Debug)]
struct PublishArgs {
    #[command(flatten)]
    field: FieldArgs,
    /// The broker, mqtt://host:port (port 1883 when left out).
    #[arg(long)]
    mqtt: String,
    /// Topic prefix: each reading goes to TOPIC/<sensor>.
    #[arg(long, default_value = "iot/sensors")]
    topic: String,
    /// Readings published per second at most, 1 to 100000.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    rate: u32,
    /// The user to log in as, with --password-env.
    #[arg(long, requires = "password_env")]
    user: Option<String>,
    /// The environment variable holding the user's password.
    #[arg(long, requires = "user")]
    password_env: Option<String>,
    /// With an mqtts:// broker: a PEM file of the authorities that sign its certificate
    /// [default: Mozilla's].
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// With an mqtts:// broker that checks its clients: the client's PEM certificate (with
    /// --key-file).
    #[arg(long, value_name = "FILE", requires = "key_file")]
    cert_file: Option<PathBuf>,
    /// The PEM private key of --cert-file.
    #[arg(long, value_name = "FILE", requires = "cert_file")]
    key_file: Option<PathBuf>,
}

#[derive(Parser, Debug)]
struct FlowsArgs {
    /// Number of flows.
    #[arg(long, default_value_t = 100_000)]
    flows: usize,
    /// Share of attack flows, 0 to 1.
    #[arg(long, default_value_t = 0.2)]
    attack_share: f64,
    /// Cells of the network carrying the flows.
    #[arg(long, default_value_t = 50)]
    cells: u32,
    /// Days the flows are spread over.
    #[arg(long, default_value_t = 1)]
    days: u32,
    /// Random seed: the same seed gives the same file.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// CSV file to write.
    #[arg(long)]
    out: PathBuf,
    /// Replace `--out` if it exists (by default it is refused, never overwritten).
    #[arg(long)]
    force: bool,
}

#[derive(Parser, Debug)]
struct GenerateArgs {
    /// Territory type [default: urban].
    #[arg(long, value_enum)]
    scenario: Option<ScenarioArg>,
    /// Number of cells, 1 to 100000 [default: 200].
    #[arg(long)]
    cells: Option<u32>,
    /// Days to simulate, 1 to 366 [default: 14].
    #[arg(long)]
    days: Option<u32>,
    /// Random seed: the same seed gives the same files [default: 7].
    #[arg(long)]
    seed: Option<u64>,
    /// Reporting interval, e.g. 5m, 15m, 1h [default: 15m].
    #[arg(long)]
    interval: Option<Interval>,
    /// First reporting time, RFC 3339 [default: 2024-01-01T00:00:00Z].
    #[arg(long)]
    start: Option<Timestamp>,
    /// Days at the start without incidents or telemetry faults [default: 0: incidents from the
    /// first day, as in an operator's history].
    #[arg(long)]
    quiet_days: Option<u32>,
    /// Incidents per cell per week [default: 0.5].
    #[arg(long)]
    incident_rate: Option<f64>,
    /// Fraction of missing readings [default: 0.002].
    #[arg(long)]
    gap_rate: Option<f64>,
    /// Telemetry faults (flatlines, drops to zero, level shifts, variance bursts, slow
    /// drifts, missing data) per cell per week [default: 0.25].
    #[arg(long)]
    telemetry_fault_rate: Option<f64>,
    /// Folder to write into (created if needed).
    #[arg(long)]
    out: PathBuf,
    /// Telemetry file format.
    #[arg(long, value_enum, default_value_t = Format::Csv)]
    format: Format,
    /// No progress display (it is shown on stderr only when stderr is a terminal).
    #[arg(long)]
    quiet: bool,
    /// Replace files already in `--out` (by default they are refused, never overwritten).
    #[arg(long)]
    force: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ScenarioArg {
    Urban,
    Suburban,
    Rural,
    Mixed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// telemetry.csv
    Csv,
    /// telemetry.jsonl
    Jsonl,
    /// Both files.
    Both,
}

/// Runs `ai4ict sandbox …`.
pub fn run(args: Args) -> anyhow::Result<()> {
    match args.command {
        SandboxCommand::Generate(a) => generate(a),
        SandboxCommand::Flows(a) => flows(a),
        SandboxCommand::Iot(a) => iot(a),
        SandboxCommand::Publish(a) => publish(a),
    }
}

fn iot(a: IotArgs) -> anyhow::Result<()> {
    let existing: Vec<String> = ["telemetry.csv", "labels.json"]
        .iter()
        .map(|n| a.out.join(n))
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if !a.force && !existing.is_empty() {
        anyhow::bail!(
            "{} exist(s) already: choose another --out, or --force to replace",
            existing.join(", ")
        );
    }
    let field = a.field.field()?;
    let rows = ai4ict_sandbox::write_iot(&field, &a.out).context("writing the IoT sensors")?;
    outln!(
        "wrote {}: {rows} rows of {} sensors × {} intervals of {}, seed {}",
        a.out.join("telemetry.csv").display(),
        field.sensors(),
        field.steps(),
        a.field.interval,
        a.field.seed
    );
    outln!(
        "wrote {}: {} faults ({})",
        a.out.join("labels.json").display(),
        field.incidents().len(),
        fault_counts(&field)
    );
    Ok(())
}

fn fault_counts(field: &SensorField) -> String {
    let mut by_kind: BTreeMap<_, usize> = BTreeMap::new();
    for i in field.incidents() {
        *by_kind.entry(i.kind).or_default() += 1;
    }
    let kinds: Vec<String> = by_kind.iter().map(|(k, n)| format!("{k} {n}")).collect();
    if kinds.is_empty() {
        "none".into()
    } else {
        kinds.join(", ")
    }
}

/// How long the broker may take to accept the connection and acknowledge the last reading.
const BROKER_TIMEOUT: Duration = Duration::from_secs(10);

fn publish(a: PublishArgs) -> anyhow::Result<()> {
    let field = a.field.field()?;
    let secure = a.mqtt.starts_with("mqtts://");
    let (host, port) = ai4ict_connectors::host_port(
        &a.mqtt,
        &["mqtt", "tcp", "mqtts"],
        if secure { 8883 } else { 1883 },
    )
    .map_err(anyhow::Error::msg)?;
    let mut opts = MqttOptions::new(format!("ai4ict-publish-{}", std::process::id()), host, port);
    opts.set_keep_alive(Duration::from_secs(30));
    let tls = ai4ict_connectors::ClientTls {
        ca_file: a.ca_file.clone(),
        cert_file: a.cert_file.clone(),
        key_file: a.key_file.clone(),
    };
    if secure {
        let config = tls.rustls_config().map_err(anyhow::Error::msg)?;
        opts.set_transport(rumqttc::Transport::tls_with_config(
            rumqttc::TlsConfiguration::Rustls(config),
        ));
    } else if tls != ai4ict_connectors::ClientTls::default() {
        anyhow::bail!("--ca-file, --cert-file and --key-file need an mqtts:// broker");
    }
    if let (Some(user), Some(var)) = (&a.user, &a.password_env) {
        let password = std::env::var(var)
            .map_err(|_| anyhow::anyhow!("--password-env: the variable `{var}` is not set"))?;
        opts.set_credentials(user.clone(), password);
    }
    let (client, mut conn) = Client::new(opts, 256);
    let unreachable =
        |why: String| anyhow::anyhow!("cannot reach the MQTT broker {}: {why}", a.mqtt);
    let refused = |code: rumqttc::ConnectReturnCode| {
        let hint = if a.user.is_some() {
            "check --user and --password-env"
        } else {
            "does it take users only (--user, --password-env)?"
        };
        unreachable(format!("connection refused ({code:?}); {hint}"))
    };
    let until = Instant::now() + BROKER_TIMEOUT;
    loop {
        match conn.recv_timeout(until.saturating_duration_since(Instant::now())) {
            Ok(Ok(Event::Incoming(Packet::ConnAck(ack)))) => {
                if ack.code != rumqttc::ConnectReturnCode::Success {
                    return Err(refused(ack.code));
                }
                break;
            }
            Ok(Ok(_)) => {}
            Ok(Err(rumqttc::ConnectionError::ConnectionRefused(code))) => {
                return Err(refused(code))
            }
            Ok(Err(e)) => return Err(unreachable(e.to_string())),
            Err(_) => return Err(unreachable("no answer".into())),
        }
    }
    // A thread drives the connection and counts the broker's acknowledgements.
    let acked = Arc::new(AtomicU64::new(0));
    let trouble = Arc::new(Mutex::new(None::<String>));
    let (thread_acked, thread_trouble) = (Arc::clone(&acked), Arc::clone(&trouble));
    let driver = std::thread::spawn(move || loop {
        match conn.recv_timeout(Duration::from_millis(100)) {
            Ok(Ok(Event::Incoming(Packet::PubAck(_)))) => {
                thread_acked.fetch_add(1, Ordering::Relaxed);
            }
            Ok(Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect)))
            | Err(RecvTimeoutError::Disconnected) => break,
            Ok(Err(e)) => {
                if let Ok(mut t) = thread_trouble.lock() {
                    *t = Some(e.to_string());
                }
                break;
            }
            Ok(Ok(_)) | Err(RecvTimeoutError::Timeout) => {}
        }
    });
    let began = Instant::now();
    let per = 1.0 / f64::from(a.rate);
    let mut sent = 0u64;
    let failed = || trouble.lock().ok().and_then(|t| t.clone());
    for step in 0..field.steps() {
        for s in 0..field.sensors() {
            let Some(line) = field.json_line(s, step) else {
                continue;
            };
            if let Some(why) = failed() {
                anyhow::bail!("the MQTT broker {} dropped the connection: {why}", a.mqtt);
            }
            let due = began + Duration::from_secs_f64(sent as f64 * per);
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            client
                .publish(
                    format!("{}/{}", a.topic, field.name(s)),
                    QoS::AtLeastOnce,
                    false,
                    line,
                )
                .context("publishing a reading")?;
            sent += 1;
        }
    }
    let until = Instant::now() + BROKER_TIMEOUT;
    while acked.load(Ordering::Relaxed) < sent && Instant::now() < until && failed().is_none() {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = client.disconnect();
    let _ = driver.join();
    let got = acked.load(Ordering::Relaxed);
    if got < sent {
        anyhow::bail!(
            "the MQTT broker {} acknowledged {got} of {sent} readings{}",
            a.mqtt,
            failed().map(|w| format!(": {w}")).unwrap_or_default()
        );
    }
    outln!(
        "published {sent} readings of {} sensors to {} {}/<sensor> in {:.1} s ({} faults: {})",
        field.sensors(),
        a.mqtt,
        a.topic,
        began.elapsed().as_secs_f64(),
        field.incidents().len(),
        fault_counts(&field)
    );
    Ok(())
}

fn flows(a: FlowsArgs) -> anyhow::Result<()> {
    if !a.force && a.out.exists() {
        anyhow::bail!(
            "{} exists already: choose another --out, or --force to replace",
            a.out.display()
        );
    }
    let began = Instant::now();
    let net = Network::new(&ScenarioConfig {
        cells: a.cells,
        days: a.days,
        seed: a.seed,
        ..ScenarioConfig::default()
    })?;
    let flows = net.flows(&ai4ict_sandbox::FlowConfig {
        flows: a.flows,
        attack_share: a.attack_share,
        seed: a.seed,
    })?;
    ai4ict_sandbox::write_flows_csv(&a.out, &flows).context("writing the flows")?;
    let mut by_class: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &flows {
        *by_class.entry(f.label.name()).or_default() += 1;
    }
    let classes: Vec<String> = by_class.iter().map(|(k, n)| format!("{k} {n}")).collect();
    outln!(
        "wrote {}: {} flows over {} cells, seed {} ({})",
        a.out.display(),
        flows.len(),
        net.cells().len(),
        a.seed,
        classes.join(", ")
    );
    outln!("done in {:.1} s", began.elapsed().as_secs_f64());
    Ok(())
}

/// Refuses, before simulating anything, to replace files of an earlier run unless `--force`.
fn refuse_existing(a: &GenerateArgs) -> anyhow::Result<()> {
    if a.force {
        return Ok(());
    }
    let mut names = vec!["labels.json", "topology.json"];
    if matches!(a.format, Format::Csv | Format::Both) {
        names.push("telemetry.csv");
    }
    if matches!(a.format, Format::Jsonl | Format::Both) {
        names.push("telemetry.jsonl");
    }
    let existing: Vec<String> = names
        .iter()
        .map(|n| a.out.join(n))
        .filter(|p| p.exists())
        .map(|p| p.display().to_string())
        .collect();
    if !existing.is_empty() {
        anyhow::bail!(
            "{} exist(s) already: choose another --out, or --force to replace",
            existing.join(", ")
        );
    }
    Ok(())
}

fn generate(a: GenerateArgs) -> anyhow::Result<()> {
    let d = ScenarioConfig::default();
    let config = ScenarioConfig {
        scenario: a.scenario.map_or(d.scenario, |s| match s {
            ScenarioArg::Urban => Scenario::Urban,
            ScenarioArg::Suburban => Scenario::Suburban,
            ScenarioArg::Rural => Scenario::Rural,
            ScenarioArg::Mixed => Scenario::Mixed,
        }),
        cells: a.cells.unwrap_or(d.cells),
        days: a.days.unwrap_or(d.days),
        seed: a.seed.unwrap_or(d.seed),
        interval: a.interval.unwrap_or(d.interval),
        start: a.start.unwrap_or(d.start),
        quiet_days: a.quiet_days.unwrap_or(d.quiet_days),
        history_days: None,
        incident_rate: a.incident_rate.unwrap_or(d.incident_rate),
        gap_rate: a.gap_rate.unwrap_or(d.gap_rate),
        telemetry_fault_rate: a.telemetry_fault_rate.unwrap_or(d.telemetry_fault_rate),
    };
    refuse_existing(&a)?;
    let began = Instant::now();
    let progress = crate::progress::Progress::new(a.quiet);
    progress.step(
        format!(
            "simulating {} cells over {} days",
            config.cells, config.days
        ),
        None,
    );
    let net = Network::new(&config)?;
    let out = &a.out;
    let mut rows = 0;
    if matches!(a.format, Format::Csv | Format::Both) {
        let path = out.join("telemetry.csv");
        progress.step(format!("writing {}", path.display()), Some(path.clone()));
        let n = ai4ict_sandbox::write_csv(&net, out).context("writing the CSV telemetry")?;
        progress.suspend(|| outln!("wrote {}: {n} rows", path.display()));
        rows = n;
    }
    if matches!(a.format, Format::Jsonl | Format::Both) {
        let path = out.join("telemetry.jsonl");
        progress.step(format!("writing {}", path.display()), Some(path.clone()));
        let n =
            ai4ict_sandbox::write_jsonl(&net, out).context("writing the JSON-lines telemetry")?;
        progress.suspend(|| outln!("wrote {}: {n} rows", path.display()));
        rows = n;
    }
    progress.step("writing labels and topology".into(), None);
    ai4ict_sandbox::write_labels(&net, out).context("writing labels and topology")?;
    drop(progress);
    let mut by_kind: BTreeMap<_, usize> = BTreeMap::new();
    for i in net.incidents() {
        *by_kind.entry(i.kind).or_default() += 1;
    }
    let kinds: Vec<String> = by_kind.iter().map(|(k, n)| format!("{k} {n}")).collect();
    outln!(
        "wrote {}: {} incidents ({})",
        out.join("labels.json").display(),
        net.incidents().len(),
        if kinds.is_empty() {
            "none".to_string()
        } else {
            kinds.join(", ")
        }
    );
    outln!(
        "wrote {}: {} cells, {} sites, {} links",
        out.join("topology.json").display(),
        net.cells().len(),
        net.sites().len(),
        net.links().len()
    );
    let possible = (net.cells().len() * net.steps()) as u64;
    let missing = 100.0 * possible.saturating_sub(rows) as f64 / possible.max(1) as f64;
    outln!(
        "{} network, {} cells × {} intervals of {} from {}, seed {}: {missing:.2}% readings missing",
        config.scenario,
        net.cells().len(),
        net.steps(),
        config.interval,
        config.start,
        config.seed
    );
    outln!("done in {:.1} s", began.elapsed().as_secs_f64());
    Ok(())
}
