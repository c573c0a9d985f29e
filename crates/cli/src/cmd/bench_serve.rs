//! `ai4ict bench serve`: the hub server against hostile clients and large models. A child
//! process serves a fresh hub; the bench holds `--half-open` connections that never finish
//! their headers while it probes `GET /health`, then streams a 1 GiB artifact in and out
//! (`PUT` and `GET /models/{name}/{version}/artifact`), pushes the largest model the JSON body
//! limit takes and an oversized 1 GiB JSON body, and reads the server's peak memory (VmHWM)
//! from /proc after each. It fails when the server dies, `/health` does not answer or a push
//! under a limit is refused; the figures against the goals are printed, not enforced.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ai4ict_hub::ModelMetadata;
use ai4ict_server::client::Client;
use ai4ict_server::Token;
use anyhow::{bail, Context};

use super::bench::{free_loopback, proc_memory_mib};

/// The write token of the bench's hub (not a secret: it lives in a temporary folder).
const TOKEN: &str = "bench-serve-token-0123456789";

/// Options of `bench serve`.
#[derive(clap::Args)]
pub struct Args {
    /// Connections that send part of a request's headers and then nothing.
    #[arg(long, default_value_t = 2000)]
    half_open: usize,
    /// `GET /health` requests made while they are held, 100 ms apart.
    #[arg(long, default_value_t = 20)]
    probes: usize,
    /// The oversized push, GiB (announced by `Content-Length`, sent until refused).
    #[arg(long, default_value_t = 1.0)]
    push_gib: f64,
    /// The hub's body limit, MiB (`hub serve --max-body-mib`).
    #[arg(long, default_value_t = 64)]
    max_body_mib: u64,
    /// The streamed push and pull, GiB.
    #[arg(long, default_value_t = 1.0)]
    artifact_gib: f64,
    /// The hub's artifact limit, MiB (`hub serve --max-artifact-mib`).
    #[arg(long, default_value_t = 2048)]
    max_artifact_mib: u64,
}

/// The goal for the server's peak memory through a streamed push and pull, MiB.
const STREAM_GOAL_MIB: f64 = 256.0;

/// The hub server child, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Server {
    /// `ai4ict hub serve` on `addr` with a fresh database in `dir`.
    fn start(dir: &Path, addr: SocketAddr, a: &Args) -> anyhow::Result<Self> {
        let token = dir.join("token");
        std::fs::write(&token, TOKEN)?;
        let child = Command::new(std::env::current_exe()?)
            .args([
                "hub",
                "serve",
                "--addr",
                &addr.to_string(),
                "--max-body-mib",
            ])
            .arg(a.max_body_mib.to_string())
            .arg("--max-artifact-mib")
            .arg(a.max_artifact_mib.to_string())
            // Uploads of any size within the bench.
            .args(["--request-timeout", "3600", "--spool-dir"])
            .arg(dir)
            .arg("--db")
            .arg(dir.join("hub.db"))
            .arg("--token-file")
            .arg(&token)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting `ai4ict hub serve`")?;
        Ok(Self(child))
    }

    /// Fails when the server has exited.
    fn alive(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.0.try_wait()? {
            bail!("the server exited: {status}");
        }
        Ok(())
    }

    /// A memory line of its `/proc/PID/status` (e.g. `VmHWM`), in MiB.
    fn memory_mib(&self, key: &str) -> Option<f64> {
        proc_memory_mib(&self.0.id().to_string(), key)
    }
}

/// Runs the bench; prints the figures.
pub fn run(a: Args) -> anyhow::Result<()> {
    if cfg!(debug_assertions) {
        eprintln!("note: this is a debug build; measure with `cargo run --release -- bench serve`");
    }
    let dir = tempfile::tempdir()?;
    let addr = free_loopback()?;
    let mut server = Server::start(dir.path(), addr, &a)?;
    let base = format!("http://{addr}");
    let client = Client::new(&base)?.with_token(Some(Token::new(TOKEN)?));
    let ready = Instant::now() + Duration::from_secs(20);
    while client.health().is_err() {
        server.alive()?;
        if Instant::now() > ready {
            bail!("the server did not answer /health within 20 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mib = |v: Option<f64>| v.map_or("?".into(), |m| format!("{m:.0} MiB"));
    println!(
        "server at {base}: {} resident at start",
        mib(server.memory_mib("VmRSS"))
    );

    // Half-open connections, held while /health is probed.
    let t = Instant::now();
    let mut held = Vec::with_capacity(a.half_open);
    for _ in 0..a.half_open {
        let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
            break;
        };
        if s.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            .is_err()
        {
            break;
        }
        held.push(s);
    }
    let opened = (held.len(), t.elapsed().as_secs_f64());
    let mut times = Vec::new();
    let mut failed = 0;
    for _ in 0..a.probes {
        let t = Instant::now();
        match health(addr) {
            Ok(()) => times.push(t.elapsed().as_secs_f64() * 1000.0),
            Err(_) => failed += 1,
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| {
        times
            .get(((times.len() as f64 - 1.0) * q).round() as usize)
            .copied()
    };
    let ms = |v: Option<f64>| v.map_or("-".into(), |m| format!("{m:.1} ms"));
    println!(
        "{} half-open connections (opened in {:.1} s): /health answered {} of {} probes, median {}, slowest {} (goal: within 100 ms); server {} resident",
        opened.0,
        opened.1,
        times.len(),
        a.probes,
        ms(at(0.5)),
        ms(at(1.0)),
        mib(server.memory_mib("VmRSS"))
    );
    drop(held);
    server.alive()?;

    // A large artifact streamed in and out: the server's memory stays bounded.
    let size = (a.artifact_gib * (1u64 << 30) as f64) as u64;
    let meta = ModelMetadata::new("bench-serve-stream", "1", "ai4ict bench", "CC0-1.0");
    let t = Instant::now();
    let streamed = client
        .push_from(&meta, std::io::repeat(7).take(size), size)
        .map(|_| ());
    let gib = size as f64 / (1u64 << 30) as f64;
    let peak = server.memory_mib("VmHWM");
    println!(
        "streamed push of a {gib:.2} GiB artifact: {} in {:.1} s; server peak {} (goal: under {STREAM_GOAL_MIB:.0} MiB)",
        streamed.as_ref().map_or_else(|e| format!("failed ({e})"), |()| "stored".into()),
        t.elapsed().as_secs_f64(),
        mib(peak)
    );
    if streamed.is_ok() {
        let t = Instant::now();
        let pulled = pull_to_sink(addr, &meta);
        println!(
            "streamed pull of it: {} in {:.1} s; server peak {}",
            pulled.as_ref().map_or_else(
                |e| format!("failed ({e})"),
                |n| format!("{:.2} GiB read", *n as f64 / (1u64 << 30) as f64)
            ),
            t.elapsed().as_secs_f64(),
            mib(server.memory_mib("VmHWM"))
        );
    }
    server.alive()?;

    // The largest JSON push the hub takes: base64 makes the artifact a third larger in the body.
    let limit = a.max_body_mib * 1024 * 1024;
    let artifact = vec![7u8; (limit as usize / 4 * 3).saturating_sub(1 << 20)];
    let meta = ModelMetadata::new("bench-serve-large", "1", "ai4ict bench", "CC0-1.0");
    let t = Instant::now();
    let pushed = client.push_json(&meta, &artifact).map(|_| ());
    println!(
        "JSON push of a {:.0} MiB artifact (POST /models, the largest under the {} MiB body limit): {} in {:.1} s; server peak {}",
        artifact.len() as f64 / (1 << 20) as f64,
        a.max_body_mib,
        pushed.as_ref().map_or_else(|e| format!("failed ({e})"), |()| "stored".into()),
        t.elapsed().as_secs_f64(),
        mib(server.memory_mib("VmHWM"))
    );
    drop(artifact);
    server.alive()?;

    // An oversized push, announced by Content-Length and sent until the server stops reading.
    let size = (a.push_gib * (1u64 << 30) as f64) as u64;
    let (status, sent) = oversized_push(addr, size)?;
    println!(
        "push announcing {:.2} GiB: answered {status} after {:.1} MiB sent; server peak {}",
        size as f64 / (1u64 << 30) as f64,
        sent as f64 / (1 << 20) as f64,
        mib(server.memory_mib("VmHWM"))
    );
    server.alive()?;
    if failed > 0 {
        bail!(
            "FAILED: /health did not answer {failed} of {} probes",
            a.probes
        );
    }
    if let Err(e) = pushed {
        bail!("FAILED: a push under the body limit was refused: {e}");
    }
    if let Err(e) = streamed {
        bail!("FAILED: a streamed push under the artifact limit was refused: {e}");
    }
    Ok(())
}

/// `GET /health` on a fresh connection, within 5 s.
fn health(addr: SocketAddr) -> anyhow::Result<()> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    agent.get(format!("http://{addr}/health")).call()?;
    Ok(())
}

/// Reads the artifact of `meta` from the hub into nothing; returns the bytes read.
fn pull_to_sink(addr: SocketAddr, meta: &ModelMetadata) -> anyhow::Result<u64> {
    let url = format!(
        "http://{addr}/models/{}/{}/artifact",
        meta.name, meta.version
    );
    let mut resp = ureq::get(&url).call()?;
    let n = std::io::copy(
        &mut resp.body_mut().with_config().reader(),
        &mut std::io::sink(),
    )?;
    Ok(n)
}

/// Announces a `size`-byte push and sends zeros until the server answers or stops reading;
/// returns the answer's status line and the bytes sent.
fn oversized_push(addr: SocketAddr, size: u64) -> anyhow::Result<(String, u64)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_write_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "POST /models HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n"
    )?;
    // A server that checks Content-Length answers before the body: read that first, as
    // sending into a closed connection would reset it and lose the answer.
    s.set_read_timeout(Some(Duration::from_secs(1)))?;
    let mut answer = [0u8; 256];
    let mut n = s.read(&mut answer).unwrap_or(0);
    let mut sent = 0u64;
    if n == 0 {
        let chunk = vec![b'0'; 1 << 20];
        while sent < size {
            let len = chunk.len().min((size - sent) as usize);
            if s.write_all(&chunk[..len]).is_err() {
                break;
            }
            sent += len as u64;
        }
        s.set_read_timeout(Some(Duration::from_secs(10)))?;
        n = s.read(&mut answer).unwrap_or(0);
    }
    let text = String::from_utf8_lossy(&answer[..n]);
    let status = text.lines().next().unwrap_or("no answer").to_string();
    Ok((status, sent))
}
