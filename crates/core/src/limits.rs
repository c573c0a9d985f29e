//! The process limits a server sizes itself by.

/// File descriptors kept beyond a server's connections (database, logs, listener, sinks).
pub const SPARE_FDS: usize = 64;

/// Connections a server may hold at once: `wanted` (at least 1), within this process's
/// open-file limit less [`SPARE_FDS`], so that accepting never fails for want of a
/// descriptor. The flag is true when the limit lowered it (the caller should say so).
pub fn connection_slots(wanted: usize) -> (usize, bool) {
    slots_within(wanted, open_file_limit())
}

fn slots_within(wanted: usize, limit: Option<usize>) -> (usize, bool) {
    let wanted = wanted.max(1);
    match limit {
        Some(limit) if wanted > limit.saturating_sub(SPARE_FDS) => {
            (limit.saturating_sub(SPARE_FDS).max(1), true)
        }
        _ => (wanted, false),
    }
}

/// This process's soft limit on open files (from `/proc/self/limits`; `None` where there is
/// no such file or no limit).
pub fn open_file_limit() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files")
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_stay_within_the_open_file_limit() {
        assert_eq!(slots_within(4096, Some(20_000)), (4096, false));
        assert_eq!(slots_within(4096, Some(1024)), (960, true));
        assert_eq!(slots_within(4096, Some(10)), (1, true));
        assert_eq!(slots_within(0, None), (1, false));
        if cfg!(target_os = "linux") {
            assert!(open_file_limit().is_some_and(|l| l > 0));
        }
    }
}
