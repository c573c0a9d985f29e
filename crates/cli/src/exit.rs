//! Ends of a command that are not plain errors and have their own exit status (listed in
//! `ai4ict --help` and the README).

use std::fmt;

/// Exit status when the evaluation (in the sandbox or on the file's labels) missed a target, or a
/// pipeline that could not be evaluated was not deployed.
pub const TARGETS_MISSED: u8 = 3;
/// Exit status of a run stopped by SIGINT or SIGTERM (128 + SIGINT, as shells report it).
pub const INTERRUPTED: u8 = 130;

/// How a run ended when it did not succeed but did not fail with an error either.
#[derive(Debug)]
pub enum Verdict {
    /// The evaluation ran to the end and missed a target; the text says which.
    TargetsMissed(String),
    /// The operator stopped the run; the partial report is written, nothing was published.
    Interrupted,
}

impl Verdict {
    /// The process exit status.
    pub fn code(&self) -> u8 {
        match self {
            Self::TargetsMissed(_) => TARGETS_MISSED,
            Self::Interrupted => INTERRUPTED,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TargetsMissed(detail) => write!(f, "targets missed: {detail}"),
            Self::Interrupted => f.write_str(
                "interrupted: the report covers what ran; nothing was published, aliased or \
                 recorded as evidence in the hub",
            ),
        }
    }
}

impl std::error::Error for Verdict {}
