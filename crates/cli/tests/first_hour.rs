//! What a new user meets first: completion scripts and man pages for installing, and messages
//! that say what is wrong with a path or a missing answer instead of a misleading one.

use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_ai4ict");

fn ai4ict(dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("AI4ICT_HUB", dir.join("hub.db"))
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn completions_for_every_shell() {
    let dir = tempfile::tempdir().unwrap();
    for (shell, marker) in [
        ("bash", "complete -F _ai4ict"),
        ("zsh", "#compdef ai4ict"),
        ("fish", "complete -c ai4ict"),
        ("elvish", "ai4ict"),
        ("powershell", "ai4ict"),
    ] {
        let out = ai4ict(dir.path(), &["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        let script = String::from_utf8_lossy(&out.stdout);
        assert!(script.contains(marker), "{shell}: {script}");
        assert!(script.contains("sandbox"), "{shell} completes subcommands");
    }
    let out = ai4ict(dir.path(), &["completions", "tcsh"]);
    assert!(!out.status.success());
}

#[test]
fn man_pages_to_stdout_or_one_per_subcommand_without_overwriting() {
    let dir = tempfile::tempdir().unwrap();
    let out = ai4ict(dir.path(), &["man"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(page.contains(".TH ai4ict 1"), "{page}");
    assert!(
        page.contains("ai4ict\\-run(1)"),
        "the subcommands are listed: {page}"
    );

    let man = dir.path().join("man1");
    let out = ai4ict(dir.path(), &["man", "--out", "man1"]);
    assert!(out.status.success(), "{}", stderr(&out));
    for name in [
        "ai4ict.1",
        "ai4ict-run.1",
        "ai4ict-hub-guidance.1",
        "ai4ict-man.1",
    ] {
        let text = std::fs::read_to_string(man.join(name)).unwrap();
        assert!(
            text.starts_with(".ie") || text.contains(".TH"),
            "{name}: {text}"
        );
    }
    let run_page = std::fs::read_to_string(man.join("ai4ict-run.1")).unwrap();
    assert!(run_page.contains("workers"), "{run_page}");

    std::fs::write(man.join("ai4ict-run.1"), "mine").unwrap();
    let out = ai4ict(dir.path(), &["man", "--out", "man1"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("pass --force"), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(man.join("ai4ict-run.1")).unwrap(),
        "mine",
        "kept without --force"
    );
    let out = ai4ict(dir.path(), &["man", "--out", "man1", "--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(man.join("ai4ict-run.1")).unwrap(),
        run_page
    );
}

#[test]
fn a_wrong_path_is_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("intents")).unwrap();
    for args in [
        &["run", "missing.yaml"][..],
        &["validate", "missing.yaml"],
        &["detect", "--input", "missing.yaml"],
    ] {
        let out = ai4ict(dir.path(), args);
        assert!(!out.status.success(), "{args:?}");
        let err = stderr(&out);
        assert!(
            err.contains("missing.yaml: no such file"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("not a valid intent"), "{args:?}: {err}");
    }
    for args in [
        &["run", "intents"][..],
        &["validate", "intents"],
        &["detect", "--input", "intents"],
    ] {
        let err = stderr(&ai4ict(dir.path(), args));
        assert!(err.contains("intents is a directory"), "{args:?}: {err}");
    }
    #[cfg(unix)]
    for args in [
        &["run", "/dev/null"][..],
        &["validate", "/dev/null"],
        &["detect", "--input", "/dev/null"],
    ] {
        let err = stderr(&ai4ict(dir.path(), args));
        assert!(
            err.contains("/dev/null is a character device, not a regular file"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn guidance_without_ratings_refuses_off_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let out = ai4ict(dir.path(), &["hub", "guidance"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    for flag in [
        "--file",
        "--open-data",
        "--research",
        "--deployment",
        "--standards",
        "--open-source",
        "--sandbox",
    ] {
        assert!(err.contains(flag), "{flag}: {err}");
    }
    assert!(out.stdout.is_empty(), "no report rated all zeros");
    let out = ai4ict(dir.path(), &["hub", "guidance", "--open-data", "3"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!out.stdout.is_empty());
}
