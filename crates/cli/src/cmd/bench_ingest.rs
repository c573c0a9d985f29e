//! `ai4ict bench ingest`: the HTTP push source under twice the load its pipeline sustains.
//!
//! One process runs a pipeline (HTTP source, `auto` detector, alert policy) and client
//! threads that push JSON lines to it. First the clients push as fast as the pipeline takes
//! rows (a 503 is retried), which measures the sustainable rate; then they offer `--factor`
//! times that rate for `--seconds`, dropping a request answered 503 as a sender that gives up
//! would. The bench prints the answers, the peak memory of the process, and checks that every
//! row of every accepted request was scored: it fails when one was lost, when an answer was
//! neither 202 nor 503, or when the pipeline did not end cleanly.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ai4ict_engine::{Mlfo, RunOptions};
use ai4ict_intent::MlIntent;
use anyhow::{bail, Context};

use super::bench::{free_loopback, proc_memory_mib};

/// Variable the pipeline reads its token from, and the token the bench's clients send (not a
/// secret: the source listens on loopback for the bench's lifetime).
const TOKEN_VAR: &str = "AI4ICT_BENCH_INGEST_TOKEN";
const TOKEN: &str = "ai4ict-bench-ingest-token";
/// KPIs per row.
const FIELDS: usize = 8;
/// Seconds of event time between an entity's rows (the pipeline's interval).
const INTERVAL_S: i64 = 60;

/// Options of `bench ingest`.
#[derive(clap::Args)]
pub struct Args {
    /// Seconds of overload.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Seconds of pushing as fast as the pipeline takes rows, to measure its sustainable rate.
    #[arg(long, default_value_t = 10)]
    calibrate: u64,
    /// Offered rate during the overload, as a multiple of the sustainable rate.
    #[arg(long, default_value_t = 2.0)]
    factor: f64,
    /// Entities pushing rows of 8 KPIs.
    #[arg(long, default_value_t = 1000)]
    entities: usize,
    /// Rows per request.
    #[arg(long, default_value_t = 500)]
    rows_per_request: usize,
    /// Client threads.
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// The source's buffer, in requests.
    #[arg(long, default_value_t = 64)]
    buffer: usize,
}

/// What the clients have seen, summed over all of them.
#[derive(Default)]
struct Answers {
    /// Requests and rows answered 202.
    accepted: AtomicU64,
    accepted_rows: AtomicU64,
    /// Requests answered 503.
    refused: AtomicU64,
    /// Bytes of the bodies sent.
    bytes: AtomicU64,
    /// Requests answered otherwise, or not at all.
    other: AtomicU64,
}

/// How the clients push.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// As fast as accepted; a 503 is retried after a millisecond.
    Closed,
    /// At this many requests per second per client; a request answered 503 is dropped.
    Open(f64),
}

/// Rows of one client's entities (`client`, `client + clients`, …) round after round, as
/// JSON-lines bodies of `per_request` rows; each entity's times only grow.
struct Bodies {
    entities: Vec<usize>,
    per_request: usize,
    next: usize,
    round: i64,
}

impl Bodies {
    fn new(client: usize, clients: usize, entities: usize, per_request: usize) -> Self {
        Self {
            entities: (client..entities).step_by(clients).collect(),
            per_request: per_request.max(1),
            next: 0,
            round: 0,
        }
    }

    /// The next body and its number of rows.
    fn next_body(&mut self) -> (String, u64) {
        use std::fmt::Write as _;
        let mut body = String::with_capacity(self.per_request * 120);
        for _ in 0..self.per_request {
            let e = self.entities[self.next];
            let t = 1_704_067_200 + self.round * INTERVAL_S;
            // A daily wave per entity with a little noise, the same in every run.
            let phase = (self.round % 1440) as f64 / 1440.0 * std::f64::consts::TAU;
            let _ = write!(body, r#"{{"entity":"cell-{e}","time":{t}"#);
            for k in 0..FIELDS {
                let noise = unit_hash((e * FIELDS + k) as u64, self.round as u64);
                let v = 50.0 + 20.0 * (phase + k as f64).sin() + noise;
                let _ = write!(body, r#","k{k}":{v:.3}"#);
            }
            body.push_str("}\n");
            self.next += 1;
            if self.next == self.entities.len() {
                self.next = 0;
                self.round += 1;
            }
        }
        (body, self.per_request as u64)
    }
}

/// A number in [0, 1) from `a` and `b` (splitmix64's finaliser).
fn unit_hash(a: u64, b: u64) -> f64 {
    let mut z = a.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ b.wrapping_add(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (z ^ (z >> 31)) as f64 / 2f64.powi(64)
}

/// Pushes `bodies` to `url` in `mode` until `stop`.
fn push(url: &str, bodies: &mut Bodies, mode: Mode, stop: &AtomicBool, seen: &Answers) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let auth = format!("Bearer {TOKEN}");
    let started = Instant::now();
    let mut sent = 0u64;
    let mut pending = None;
    while !stop.load(Ordering::Relaxed) {
        if let Mode::Open(per_second) = mode {
            let due = started + Duration::from_secs_f64(sent as f64 / per_second);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait.min(Duration::from_millis(100)));
                continue;
            }
        }
        let (body, rows) = pending.take().unwrap_or_else(|| bodies.next_body());
        sent += 1;
        seen.bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
        let status = agent
            .post(url)
            .header("Authorization", &auth)
            .send(body.as_str())
            .map(|r| r.status().as_u16());
        match status {
            Ok(202) => {
                seen.accepted.fetch_add(1, Ordering::Relaxed);
                seen.accepted_rows.fetch_add(rows, Ordering::Relaxed);
            }
            Ok(503) => {
                seen.refused.fetch_add(1, Ordering::Relaxed);
                if mode == Mode::Closed {
                    pending = Some((body, rows));
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            _ => {
                seen.other.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Runs one client per `bodies` in `mode` for `seconds`; returns what they saw.
fn phase(url: &str, bodies: &mut [Bodies], mode: Mode, seconds: u64, peak: &Peak) -> Answers {
    let seen = Answers::default();
    let stop = AtomicBool::new(false);
    std::thread::scope(|s| {
        for b in bodies.iter_mut() {
            let (seen, stop) = (&seen, &stop);
            s.spawn(move || push(url, b, mode, stop, seen));
        }
        let end = Instant::now() + Duration::from_secs(seconds);
        while Instant::now() < end {
            peak.sample();
            std::thread::sleep(Duration::from_millis(100));
        }
        stop.store(true, Ordering::Relaxed);
    });
    seen
}

/// Peak resident memory of this process, MiB, sampled.
#[derive(Default)]
struct Peak(std::sync::Mutex<f64>);

impl Peak {
    fn sample(&self) {
        if let Some(now) = proc_memory_mib("self", "VmRSS") {
            let mut peak = self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            *peak = peak.max(now);
        }
    }
    fn mib(&self) -> f64 {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Runs the benchmark; fails when a row of an accepted request was not scored.
pub fn run(a: Args) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!(
            "note: this is a debug build; measure with `cargo run --release -- bench ingest`"
        );
    }
    if a.clients == 0 || a.entities < a.clients || a.factor.is_nan() || a.factor <= 0.0 {
        bail!("--clients must be at least 1, --entities at least --clients, --factor above 0");
    }
    let port = free_loopback()?.port();
    std::env::set_var(TOKEN_VAR, TOKEN);
    let sink = tempfile::tempdir().context("a temporary folder for the alerts")?;
    let alerts = sink.path().join("alerts.jsonl");
    let fields = (0..FIELDS)
        .map(|k| format!("k{k}"))
        .collect::<Vec<_>>()
        .join(", ");
    let yaml = format!(
        "name: bench-ingest
use_case: operations
source:
  http: {{ listen: \"127.0.0.1:{port}\", token_env: {TOKEN_VAR}, buffer: {buffer}, until_idle: 3s }}
collect: {{ fields: [{fields}], interval: {INTERVAL_S}s }}
preprocess: [ {{ fill_gaps: none }} ]
model:
  anomaly: {{ detector: auto }}
policy:
  alert: {{ score_above: 0.9, for: 2 }}
distribute:
  - file: {{ path: {alerts:?} }}
evaluate: skip
",
        buffer = a.buffer
    );
    let intent = MlIntent::from_yaml(&yaml).context("the bench's own intent")?;
    let options = RunOptions::default();
    let progress = Arc::clone(&options.progress);
    let mlfo = Mlfo::new(intent, options);
    let pipeline = std::thread::spawn(move || mlfo.run());
    let url = format!("http://127.0.0.1:{port}/ingest");
    wait_listening(port)?;
    let peak = Peak::default();
    let before = proc_memory_mib("self", "VmRSS").unwrap_or(0.0);
    eprintln!(
        "bench ingest: {} entities × {FIELDS} KPIs, {} rows per request, {} clients, source buffer {} requests",
        a.entities, a.rows_per_request, a.clients, a.buffer
    );

    let mut bodies: Vec<Bodies> = (0..a.clients)
        .map(|c| Bodies::new(c, a.clients, a.entities, a.rows_per_request))
        .collect();
    let rows0 = progress.rows.load(Ordering::Relaxed);
    let t0 = Instant::now();
    let calibration = phase(&url, &mut bodies, Mode::Closed, a.calibrate, &peak);
    let sustained =
        (progress.rows.load(Ordering::Relaxed) - rows0) as f64 / t0.elapsed().as_secs_f64();
    if sustained <= 0.0 {
        bail!(
            "the pipeline took no rows in {} s of pushing ({} requests answered 202, {} 503, {} otherwise)",
            a.calibrate,
            calibration.accepted.load(Ordering::Relaxed),
            calibration.refused.load(Ordering::Relaxed),
            calibration.other.load(Ordering::Relaxed)
        );
    }
    let offered = sustained * a.factor;
    let per_client = offered / a.rows_per_request as f64 / a.clients as f64;
    eprintln!(
        "  sustainable: {sustained:.0} rows/s ({:.0} KPI values/s), pushing as fast as accepted for {} s",
        sustained * FIELDS as f64,
        a.calibrate
    );
    let t1 = Instant::now();
    let overload = phase(&url, &mut bodies, Mode::Open(per_client), a.seconds, &peak);
    let elapsed = t1.elapsed().as_secs_f64();

    // The source ends 3 s after the last request; the pipeline drains what it accepted.
    let outcome = pipeline
        .join()
        .map_err(|_| anyhow::anyhow!("the pipeline thread panicked"))?
        .context("the pipeline failed")?;
    peak.sample();
    let stats = outcome.deployment.context("the pipeline did not deploy")?;
    let accepted = calibration.accepted_rows.load(Ordering::Relaxed)
        + overload.accepted_rows.load(Ordering::Relaxed);
    // Rows that reached the model, before PP dropped late ones and filled gaps.
    let scored = (stats.rows + stats.late).saturating_sub(stats.filled);
    let lost = accepted.saturating_sub(scored);
    let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
    let (ok, refused, other) = (
        load(&overload.accepted),
        load(&overload.refused),
        load(&overload.other),
    );
    let other_all = other + load(&calibration.other);
    let requests = ok + refused + other;
    let body_mib = load(&overload.bytes) as f64 / requests.max(1) as f64 / (1 << 20) as f64;
    println!(
        "overload ×{:.1} for {elapsed:.0} s: offered {:.0} rows/s in {requests} requests; {ok} answered 202, {refused} answered 503 (the sender backs off), {other} other",
        a.factor,
        requests as f64 * a.rows_per_request as f64 / elapsed,
    );
    println!(
        "accepted {accepted} rows in both phases; the pipeline scored {} (late {}, filled {}): {lost} lost",
        stats.rows, stats.late, stats.filled
    );
    println!(
        "memory: {before:.0} MiB before the push, peak {:.0} MiB; the source holds at most {} requests of about {body_mib:.2} MiB",
        peak.mib(),
        a.buffer
    );
    if !stats.errors.is_empty() {
        bail!("the pipeline reported errors: {}", stats.errors.join("; "));
    }
    if lost > 0 || other_all > 0 {
        bail!("FAILED: {lost} accepted rows were not scored, {other_all} answers were neither 202 nor 503");
    }
    if refused == 0 {
        println!(
            "passed: every accepted row was scored; the pipeline kept up, no request was refused"
        );
    } else {
        println!("passed: every accepted row was scored; what the pipeline could not take was refused with 503");
    }
    Ok(())
}

/// Waits until the source accepts connections on `port` (at most 10 s).
fn wait_listening(port: u16) -> anyhow::Result<()> {
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    bail!("the HTTP source did not listen on 127.0.0.1:{port} within 10 s")
}
