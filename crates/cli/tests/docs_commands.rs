//! Every shell command in README.md and docs/*.md runs: each line of a ```sh block is run by
//! bash, in order, in one scratch folder (so a command may use the files an earlier one
//! wrote), with `ai4ict` on the PATH being the binary under test, HOME and the hub database
//! in the scratch folder, and the repository's `intents/`, `scripts/`, `data/` and `docs/` linked in.
//! A command fails the test when it exits non-zero or runs past `TIMEOUT`. Only commands in
//! `SKIPPED` are not run, each with its reason printed; an entry that matches no command fails
//! the test, so the list stays short and true.
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ai4ict");

/// Longest a single command may run (a debug build: the slowest one run, `detect` on the
/// generated network, takes about 15 s on a loaded 2-core machine).
const TIMEOUT: Duration = Duration::from_secs(120);

/// Repository folders the documented commands read, linked into the scratch folder.
const LINKED: &[&str] = &["intents", "scripts", "data", "docs"];

/// Commands that are not run: (start of the command as written, why).
const SKIPPED: &[(&str, &str)] = &[
    (
        "cargo run --release -- demo",
        "a release build; CI builds and tests the workspace, and the demo is the shipped intent",
    ),
    ("cargo test", "the test command itself"),
    (
        "cargo install",
        "a release build into ~/.cargo/bin; this test runs the binary cargo just built",
    ),
    (
        "ai4ict run intents/",
        "the shipped intents simulate 200 cells over 21 days: 45 s to 5 min each in this \
         debug build (whose batch latency is far above a release build's); tests/cli.rs runs \
         `run` on small networks",
    ),
    (
        "ai4ict hub serve",
        "a server: it runs until stopped (crates/server has its tests)",
    ),
    (
        "ai4ict serve",
        "a server running pipelines until stopped (tests/serve.rs runs it end to end)",
    ),
    (
        "ai4ict top",
        "watches a running `ai4ict serve` until interrupted (tests/serve.rs runs it)",
    ),
    (
        "ai4ict tap",
        "taps a pipeline of a running `ai4ict serve` (tests/serve.rs runs it)",
    ),
    (
        "ai4ict bench ",
        "a long benchmark (minutes in a release build)",
    ),
    (
        "ai4ict hub bench",
        "a benchmark on 10,000 generated standards",
    ),
    ("git clone", "downloads NAB's data from outside"),
    (
        "ai4ict sandbox publish",
        "needs an MQTT broker (tests/iot.rs publishes to Mosquitto when one is given)",
    ),
];

/// One command of a document.
struct Documented {
    /// `file:line` where it starts.
    at: String,
    /// The command line, comments removed, continuation lines joined.
    text: String,
}

/// `line` without its shell comment (a `#` at the start or after a blank, outside quotes).
fn strip_comment(line: &str) -> &str {
    let (mut quote, mut prev_blank) = (None, true);
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '#') if prev_blank => return &line[..i],
            _ => {}
        }
        prev_blank = c.is_whitespace();
    }
    line
}

/// The commands of the ```sh (or bash, shell) blocks of a Markdown text.
fn commands(file: &str, markdown: &str) -> Vec<Documented> {
    let mut found = Vec::new();
    let (mut in_block, mut pending): (bool, Option<Documented>) = (false, None);
    for (n, raw) in markdown.lines().enumerate() {
        let fence = raw.trim_start();
        if let Some(info) = fence.strip_prefix("```") {
            in_block = !in_block && matches!(info.trim(), "sh" | "bash" | "shell");
            continue;
        }
        if !in_block {
            continue;
        }
        let line = strip_comment(raw).trim();
        let (line, continued) = match line.strip_suffix('\\') {
            Some(l) => (l.trim_end(), true),
            None => (line, false),
        };
        let mut cmd = pending.take().unwrap_or(Documented {
            at: format!("{file}:{}", n + 1),
            text: String::new(),
        });
        if !line.is_empty() {
            if !cmd.text.is_empty() {
                cmd.text.push(' ');
            }
            cmd.text.push_str(line);
        }
        if continued {
            pending = Some(cmd);
        } else if !cmd.text.is_empty() {
            found.push(cmd);
        }
    }
    found
}

/// The documents: README.md, then docs/*.md by name.
fn documents(root: &Path) -> Vec<PathBuf> {
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    docs.retain(|p| p.extension().is_some_and(|e| e == "md"));
    docs.sort();
    docs.insert(0, root.join("README.md"));
    docs
}

/// Runs `cmd` with bash in `dir`; `Err` carries what went wrong and the output's end.
fn run(cmd: &str, dir: &Path, bin: &Path) -> Result<(), String> {
    let log = dir.join(".command.log");
    let file = std::fs::File::create(&log).map_err(|e| e.to_string())?;
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut paths = vec![bin.to_path_buf()];
    paths.extend(std::env::split_paths(&path));
    let mut child = Command::new("bash")
        .args(["-o", "pipefail", "-c", cmd])
        .current_dir(dir)
        .env(
            "PATH",
            std::env::join_paths(paths).map_err(|e| e.to_string())?,
        )
        .env("HOME", dir.join("home"))
        .env("AI4ICT_HUB", dir.join("hub.db"))
        .env_remove("XDG_DATA_HOME")
        .stdin(Stdio::null())
        .stdout(file.try_clone().map_err(|e| e.to_string())?)
        .stderr(file)
        .spawn()
        .map_err(|e| format!("bash does not start: {e}"))?;
    let began = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break Some(status);
        }
        if began.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    let tail: String = {
        let lines: Vec<&str> = output.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    };
    match status {
        Some(s) if s.success() => Ok(()),
        Some(s) => Err(format!("{s}\n{tail}")),
        None => Err(format!("still running after {TIMEOUT:?}\n{tail}")),
    }
}

#[test]
fn every_documented_command_runs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path();
    let bin = dir.join(".bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(BIN, bin.join("ai4ict")).unwrap();
    std::fs::create_dir_all(dir.join("home")).unwrap();
    for name in LINKED {
        std::os::unix::fs::symlink(root.join(name).canonicalize().unwrap(), dir.join(name))
            .unwrap();
    }

    let began = Instant::now();
    let (mut ran, mut used, mut failures) = (0, vec![false; SKIPPED.len()], Vec::new());
    for doc in documents(&root) {
        let name = doc
            .strip_prefix(&root)
            .unwrap_or(&doc)
            .display()
            .to_string();
        let text = std::fs::read_to_string(&doc).unwrap();
        for cmd in commands(&name, &text) {
            if let Some(i) = SKIPPED.iter().position(|(s, _)| cmd.text.starts_with(s)) {
                used[i] = true;
                println!("skipped {}: `{}`: {}", cmd.at, cmd.text, SKIPPED[i].1);
                continue;
            }
            if cmd.text.ends_with('&') && !cmd.text.ends_with("&&") {
                failures.push(format!(
                    "{}: `{}` runs in the background, which this test does not follow; \
                     skip it with a reason",
                    cmd.at, cmd.text
                ));
                continue;
            }
            let t = Instant::now();
            let result = run(&cmd.text, dir, &bin);
            println!(
                "ran {} in {:.1} s: `{}`",
                cmd.at,
                t.elapsed().as_secs_f64(),
                cmd.text
            );
            ran += 1;
            if let Err(why) = result {
                failures.push(format!("{}: `{}` failed: {why}", cmd.at, cmd.text));
            }
        }
    }
    println!(
        "{ran} documented commands ran in {:.1} s",
        began.elapsed().as_secs_f64()
    );
    for (i, (start, _)) in SKIPPED.iter().enumerate() {
        if !used[i] {
            failures.push(format!(
                "SKIPPED entry `{start}` matches no documented command: remove it"
            ));
        }
    }
    assert!(
        ran >= 10,
        "only {ran} documented commands found to run: is the extraction broken?"
    );
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

#[test]
fn commands_are_taken_from_shell_blocks_only() {
    let md = "text `ai4ict nope`\n\
              ```sh\n\
              ai4ict a --x \"# kept\"   # comment\n\
              # only a comment\n\
              ai4ict b \\\n  --y 1\n\
              ```\n\
              ```yaml\nname: x\n```\n\
              ```\nai4ict c\n```\n";
    let found: Vec<(String, String)> = commands("f.md", md)
        .into_iter()
        .map(|c| (c.at, c.text))
        .collect();
    assert_eq!(
        found,
        [
            ("f.md:3".to_string(), "ai4ict a --x \"# kept\"".to_string()),
            ("f.md:5".to_string(), "ai4ict b --y 1".to_string()),
        ]
    );
}
