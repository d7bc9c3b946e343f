//! A configuration problem that a technician can fix without a developer: file, line, what, fix.

use std::fmt;

/// One problem in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub file: String,
    /// 1-based line, when the problem is tied to one.
    pub line: Option<usize>,
    pub what: String,
    pub fix: String,
}

impl ConfigProblem {
    pub fn at(file: &str, text: &str, byte_offset: usize, what: impl Into<String>, fix: impl Into<String>) -> Self {
        ConfigProblem { file: file.to_string(), line: Some(line_of(text, byte_offset)), what: what.into(), fix: fix.into() }
    }

    pub fn whole_file(file: impl Into<String>, what: impl Into<String>, fix: impl Into<String>) -> Self {
        ConfigProblem { file: file.into(), line: None, what: what.into(), fix: fix.into() }
    }

    /// Turns a TOML parse or type error into a problem on the line it points at.
    pub fn from_toml(file: &str, text: &str, err: &toml::de::Error, fix: &str) -> Self {
        let line = err.span().map(|span| line_of(text, span.start));
        // The toml crate's message repeats the source excerpt; keep only its first sentence.
        let message = err.message().lines().next().unwrap_or("invalid TOML").to_string();
        ConfigProblem { file: file.to_string(), line, what: message, fix: fix.to_string() }
    }
}

/// 1-based line number of a byte offset.
pub fn line_of(text: &str, byte_offset: usize) -> usize {
    let end = byte_offset.min(text.len());
    text.as_bytes()[..end].iter().filter(|b| **b == b'\n').count() + 1
}

impl fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {} (fix: {})", self.file, line, self.what, self.fix),
            None => write!(f, "{}: {} (fix: {})", self.file, self.what, self.fix),
        }
    }
}

/// Every problem found in one load, in file order.
#[derive(Debug, Clone, Default)]
pub struct ConfigProblems(pub Vec<ConfigProblem>);

impl From<ConfigProblem> for ConfigProblems {
    fn from(p: ConfigProblem) -> Self {
        ConfigProblems(vec![p])
    }
}

impl fmt::Display for ConfigProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.0 {
            writeln!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigProblems {}
