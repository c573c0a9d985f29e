use std::fmt;

/// One problem found in an intent, with its place in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// Dotted path or key of the offending field (`source.sandbox.cells`), when known.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "line {l}, column {c}: ")?,
            (Some(l), None) => write!(f, "line {l}: ")?,
            _ => {}
        }
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " (hint: {hint})")?;
        }
        Ok(())
    }
}

/// Why an intent was refused.
#[derive(Debug, thiserror::Error)]
pub enum IntentError {
    /// The intent file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The text is not a well-formed intent (YAML syntax, unknown field, wrong type).
    #[error("{origin}: {problem}")]
    Syntax {
        /// Where the text came from (a path, or `<input>`).
        origin: String,
        /// The problem.
        problem: Box<Problem>,
    },
    /// The intent is well-formed but asks for something invalid; every problem is listed.
    #[error("{origin}: {}", .problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid {
        /// Where the text came from.
        origin: String,
        /// The problems, in order of appearance.
        problems: Vec<Problem>,
    },
}

impl IntentError {
    /// The problems this error carries (one for syntax errors).
    pub fn problems(&self) -> Vec<&Problem> {
        match self {
            Self::Io { .. } => Vec::new(),
            Self::Syntax { problem, .. } => vec![&**problem],
            Self::Invalid { problems, .. } => problems.iter().collect(),
        }
    }
}
