//! `ai4ict hub serve`: the write token made once on loopback and used by `hub models push`,
//! and a read-only hub beyond loopback without a token.
#![cfg(unix)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ai4ict");

/// A running `hub serve`; killed when dropped.
struct Server {
    child: Child,
    stderr: Receiver<String>,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(dir: &Path, ip: &str) -> Server {
        let port = TcpListener::bind((ip, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(BIN)
            .args(["hub", "serve", "--addr", &format!("{ip}:{port}")])
            .current_dir(dir)
            .env("AI4ICT_HUB", dir.join("hub.db"))
            .env_remove("AI4ICT_HUB_TOKEN")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, stderr) = channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let server = Server {
            child,
            stderr,
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while server.request("GET", "/health", None, "").0 != 200 {
            assert!(Instant::now() < deadline, "the server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    /// What it has written to stderr so far (until it has been quiet for half a second).
    fn said(&self) -> String {
        let mut lines = Vec::new();
        while let Ok(l) = self.stderr.recv_timeout(Duration::from_millis(500)) {
            lines.push(l);
        }
        lines.join("\n")
    }

    fn request(&self, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return (0, String::new());
        };
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
        let _ = write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{auth}\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let mut answer = String::new();
        let _ = s.read_to_string(&mut answer);
        let status = answer
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        (status, answer)
    }
}

const PUSH: &str = r#"{"metadata": {"name": "m", "version": "1", "author": "a", "licence": "MIT"}, "artifact_base64": "eA=="}"#;

#[test]
fn loopback_serve_makes_a_private_token_once_and_push_uses_it() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), "127.0.0.1");
    let said = server.said();
    let token = said
        .lines()
        .find_map(|l| {
            l.split_once("mode 0600): ")
                .map(|(_, t)| t.trim().to_string())
        })
        .unwrap_or_else(|| panic!("no token printed in:\n{said}"));
    let file = dir.path().join("hub.db.token");
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert_eq!(server.request("POST", "/models", None, PUSH).0, 401);

    // Push from another hub with the token in the environment.
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(
        other.join("meta.json"),
        r#"{"name": "m", "version": "2", "author": "a", "licence": "MIT", "metrics": {"f1": 0.7}}"#,
    )
    .unwrap();
    std::fs::write(other.join("model.bin"), b"weights").unwrap();
    let cli = |args: &[&str], token: Option<&str>| {
        let mut c = Command::new(BIN);
        c.args(args)
            .current_dir(&other)
            .env("AI4ICT_HUB", other.join("hub.db"))
            .env_remove("AI4ICT_HUB_TOKEN");
        if let Some(t) = token {
            c.env("AI4ICT_HUB_TOKEN", t);
        }
        c.output().unwrap()
    };
    let out = cli(
        &[
            "hub",
            "models",
            "publish",
            "--meta",
            "meta.json",
            "--artifact",
            "model.bin",
        ],
        None,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let url = format!("http://127.0.0.1:{}", server.port);
    let push = ["hub", "models", "push", "--to", &url, "m", "2"];
    let out = cli(&push, None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("401"));
    let out = cli(&push, Some(&token));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let audit = std::fs::read_to_string(dir.path().join("hub.db.audit.jsonl")).unwrap();
    assert_eq!(audit.lines().count(), 3, "{audit}");
    // Pulled back, streamed, into a third hub and a file.
    let pull = [
        "hub",
        "--db",
        "third.db",
        "models",
        "pull",
        "--from",
        &url,
        "m",
        "2",
        "--out",
        "pulled.bin",
    ];
    let out = cli(&pull, None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(other.join("pulled.bin")).unwrap(), b"weights");
    drop(server);

    // A second start reuses the token and does not print it again.
    let again = Server::start(dir.path(), "127.0.0.1");
    assert!(!again.said().contains(&token));
    assert_eq!(again.request("POST", "/models", Some(&token), PUSH).0, 201);
}

#[test]
fn serve_beyond_loopback_without_a_token_is_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), "0.0.0.0");
    let said = server.said();
    assert!(said.contains("WARNING: read-only"), "{said}");
    let (status, answer) = server.request("POST", "/models", Some("any-token-0123456789"), PUSH);
    assert_eq!(status, 403, "{answer}");
    assert!(!dir.path().join("hub.db.token").exists());
}
