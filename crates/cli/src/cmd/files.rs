//! Checks on the files named on the command line, so that a wrong path is reported as a wrong
//! path ("no such file", "is a directory") rather than as bad content; and generated text
//! written to standard output.

use std::io::Write;
use std::path::Path;

use anyhow::bail;

/// Fails with a message that says what is wrong with `path` unless it names a regular file
/// (symbolic links are followed): it does not exist, it is a directory, or it is a special
/// file (a FIFO, a socket, a device), which could block or never end when read.
pub fn regular_file(path: &Path) -> anyhow::Result<()> {
    let shown = path.display();
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!("{shown}: no such file"),
        Err(e) => bail!("{shown}: {e}"),
    };
    let kind = meta.file_type();
    if kind.is_file() {
        return Ok(());
    }
    if kind.is_dir() {
        bail!("{shown} is a directory; name a file in it");
    }
    bail!("{shown} is {}, not a regular file", special_kind(&kind))
}

/// Writes `bytes` to standard output; a reader that went away (`ai4ict man | head`) is not an
/// error.
pub fn to_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

/// What kind of special file this is, with its article.
#[cfg(unix)]
fn special_kind(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_fifo() {
        "a FIFO (named pipe)"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else {
        "a special file"
    }
}

/// What kind of special file this is, with its article.
#[cfg(not(unix))]
fn special_kind(_kind: &std::fs::FileType) -> &'static str {
    "a special file"
}

#[cfg(test)]
mod tests {
    use super::regular_file;

    fn message(path: &std::path::Path) -> String {
        format!("{:#}", regular_file(path).unwrap_err())
    }

    #[test]
    fn names_what_is_wrong_with_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.yaml");
        assert!(message(&missing).ends_with("nope.yaml: no such file"));
        assert!(message(dir.path()).contains("is a directory"));
        let file = dir.path().join("ok.yaml");
        std::fs::write(&file, "name: x\n").unwrap();
        assert!(regular_file(&file).is_ok());
        #[cfg(unix)]
        assert_eq!(
            message(std::path::Path::new("/dev/null")),
            "/dev/null is a character device, not a regular file"
        );
    }
}
