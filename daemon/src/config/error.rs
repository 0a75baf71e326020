//! [`ConfigError`] and [`ConfigErrors`]: what `check-config` prints. Every error names the file,
//! the line of the offending value (when there is one) and the field, and carries the offending
//! value in its message. This module only formats; it never decides what is an error.

use std::fmt;
use std::path::PathBuf;

/// One problem in a config file.
///
/// Displays as `file:line: field: message`, e.g.
/// `shelfd.toml:12: reader "r2": protocol: unknown protocol "mercuri" (expected one of mercury,
/// magicrf, r2000, line, replay, shelf-link, llrp)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The config file, as given to [`super::parse`] or [`super::load`].
    pub file: PathBuf,
    /// 1-based line of the offending value (or of the table that lacks a required key); `None`
    /// when the problem has no place in the file (a missing section, an unreadable file).
    pub line: Option<usize>,
    /// The field, with its context: `mqtt.url`, `reader "r2": protocol`,
    /// `location "shelf-a1": planogram #2`. Empty for errors about the whole file (syntax, I/O).
    pub field: String,
    /// What is wrong, naming the offending value.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Every problem found in a config file, in line order. Never empty when returned as an error.
///
/// Displays one error per line (no trailing newline).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    /// The errors, in line order (errors without a line first).
    pub fn iter(&self) -> std::slice::Iter<'_, ConfigError> {
        self.0.iter()
    }

    /// Number of errors.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are no errors (never the case for a returned error).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

impl<'a> IntoIterator for &'a ConfigErrors {
    type Item = &'a ConfigError;
    type IntoIter = std::slice::Iter<'a, ConfigError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_matches_the_documented_shape() {
        let error = ConfigError {
            file: PathBuf::from("shelfd.toml"),
            line: Some(12),
            field: "reader \"r2\": protocol".into(),
            message: "unknown protocol \"mercuri\"".into(),
        };
        assert_eq!(
            error.to_string(),
            "shelfd.toml:12: reader \"r2\": protocol: unknown protocol \"mercuri\""
        );
        let no_line = ConfigError {
            line: None,
            field: String::new(),
            ..error.clone()
        };
        assert_eq!(
            no_line.to_string(),
            "shelfd.toml: unknown protocol \"mercuri\""
        );
        let both = ConfigErrors(vec![error, no_line]);
        assert_eq!(both.to_string().lines().count(), 2);
    }
}
