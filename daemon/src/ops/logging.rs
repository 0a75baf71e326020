//! Logging setup: one `tracing` subscriber for the process, writing to stderr, whose level
//! filter can be replaced while running (`[log] level` on a config reload).
//!
//! - Level: `RUST_LOG` when set (it wins, also over reloads: an operator debugging by hand
//!   keeps their filter), else `[log] level` from the config, else the command's default.
//! - Output: colours and timestamps on a terminal; plain text without colours elsewhere, and
//!   without timestamps under systemd (`JOURNAL_STREAM` is set: the journal stamps each line).
//! - Nothing here logs per tag read: the pipeline logs state changes (links, connections,
//!   drops) at `info`, and per-record detail only at `debug`/`trace`.
//!
//! It never decides *what* is logged; it only routes and filters.

use std::io::IsTerminal;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Registry, reload};

/// Why a level could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The directive list does not parse.
    #[error("bad log level {level:?}: {reason}")]
    BadLevel {
        /// The offending directive list.
        level: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The subscriber is gone (cannot happen while the process runs).
    #[error("the log filter cannot be changed: {0}")]
    Reload(String),
}

/// Changes the running log filter.
#[derive(Clone)]
pub struct LogHandle {
    handle: Option<reload::Handle<EnvFilter, Registry>>,
    env_override: bool,
}

impl std::fmt::Debug for LogHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogHandle")
            .field("env_override", &self.env_override)
            .finish_non_exhaustive()
    }
}

impl LogHandle {
    /// A handle that changes nothing (tests, library use without [`init`]).
    pub fn inert() -> Self {
        LogHandle {
            handle: None,
            env_override: false,
        }
    }

    /// True when `RUST_LOG` set the filter: config levels are then ignored.
    pub fn env_override(&self) -> bool {
        self.env_override
    }

    /// Applies `level` (an EnvFilter directive list such as `"info,shelfd_core::reconcile=debug"`)
    /// unless `RUST_LOG` overrides it; returns whether it was applied.
    pub fn set_level(&self, level: &str) -> Result<bool, LogError> {
        let filter = parse(level)?;
        if self.env_override {
            return Ok(false);
        }
        match &self.handle {
            Some(h) => h
                .reload(filter)
                .map(|()| true)
                .map_err(|e| LogError::Reload(e.to_string())),
            None => Ok(false),
        }
    }
}

fn parse(level: &str) -> Result<EnvFilter, LogError> {
    EnvFilter::builder()
        .parse(level)
        .map_err(|e| LogError::BadLevel {
            level: level.to_owned(),
            reason: e.to_string(),
        })
}

/// How lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogStyle {
    /// Colours and timestamps (stderr is a terminal).
    Terminal,
    /// No colours; timestamps (a file or a pipe).
    Plain,
    /// No colours, no timestamps (systemd's journal stamps lines itself).
    Journal,
}

impl LogStyle {
    /// The style for this process's stderr and environment.
    pub fn detect() -> Self {
        if std::io::stderr().is_terminal() {
            LogStyle::Terminal
        } else if std::env::var_os("JOURNAL_STREAM").is_some() {
            LogStyle::Journal
        } else {
            LogStyle::Plain
        }
    }
}

/// Installs the process's subscriber with `default_level` (unless `RUST_LOG` is set). Call
/// once, first thing in `main`.
pub fn init(default_level: &str) -> LogHandle {
    let env = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty());
    let env_override = env.is_some();
    let filter = env
        .as_deref()
        .and_then(|v| parse(v).ok())
        .or_else(|| parse(default_level).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    let (filter, handle) = reload::Layer::new(filter);
    let fmt = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let registry = tracing_subscriber::registry().with(filter);
    let installed = match LogStyle::detect() {
        LogStyle::Terminal => registry.with(fmt.with_ansi(true)).try_init(),
        LogStyle::Plain => registry.with(fmt.with_ansi(false)).try_init(),
        LogStyle::Journal => registry
            .with(fmt.with_ansi(false).without_time())
            .try_init(),
    };
    LogHandle {
        handle: installed.is_ok().then_some(handle),
        env_override,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_levels_are_named() {
        let err = LogHandle::inert()
            .set_level("info,shelfd=loud")
            .expect_err("bad directive");
        assert!(err.to_string().contains("\"info,shelfd=loud\""), "{err}");
        assert_eq!(LogHandle::inert().set_level("debug").ok(), Some(false));
    }
}
