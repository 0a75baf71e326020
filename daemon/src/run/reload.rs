//! Live reload of a running pipeline ([`Reloader`]): a new, valid config's hot keys are applied
//! at once (the log filter here, the engine's knobs and location rules on the engine thread
//! through a `watch` channel), and every key that needs a restart is reported. See
//! [`crate::config::reload`] for which keys are hot.
//!
//! It never validates files (the caller loads them) and never touches the store.

use crate::config::Config;
use crate::config::reload::{ReloadPlan, hot_applied, plan};
use crate::ops::logging::LogHandle;
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::watch;

/// Applies reloaded configs to a running pipeline; shared by the signal handler and the run.
#[derive(Debug)]
pub struct Reloader {
    running: Mutex<Config>,
    hot: watch::Sender<Arc<Config>>,
    log: LogHandle,
}

/// What a reload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReloadOutcome {
    /// What changed: hot keys (applied) and keys that wait for a restart.
    pub plan: ReloadPlan,
    /// The new log level could not be applied because `RUST_LOG` overrides it.
    pub log_level_overridden: bool,
}

impl Reloader {
    /// A reloader for a pipeline started with `config`; `log` changes the log filter.
    pub fn new(config: &Config, log: LogHandle) -> Arc<Self> {
        let (hot, _) = watch::channel(Arc::new(config.clone()));
        Arc::new(Reloader {
            running: Mutex::new(config.clone()),
            hot,
            log,
        })
    }

    /// The hot config as it changes (the engine thread watches it).
    pub fn subscribe(&self) -> watch::Receiver<Arc<Config>> {
        self.hot.subscribe()
    }

    /// The config the pipeline runs with now.
    pub fn running(&self) -> Config {
        self.lock().clone()
    }

    /// Applies `new` (already validated): hot keys now, the rest reported. Logs the outcome.
    pub fn reload(&self, new: &Config) -> ReloadOutcome {
        let mut running = self.lock();
        let plan = plan(&running, new);
        let next = hot_applied(&running, new);
        let mut log_level_overridden = false;
        if next.log != running.log {
            match self.log.set_level(&next.log.level) {
                Ok(applied) => log_level_overridden = !applied && self.log.env_override(),
                Err(e) => tracing::error!(error = %e, "reload: log level not applied"),
            }
        }
        if next != *running {
            *running = next.clone();
            self.hot.send_replace(Arc::new(next));
        }
        let outcome = ReloadOutcome {
            plan,
            log_level_overridden,
        };
        log_outcome(&outcome);
        tracing::debug!(running = ?*running, "reload: the running config");
        outcome
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Config> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn log_outcome(o: &ReloadOutcome) {
    if o.plan.is_empty() {
        tracing::info!("reload: the config file is valid and unchanged");
        return;
    }
    if !o.plan.hot.is_empty() {
        tracing::info!(applied = %o.plan.hot.join(", "), "reload: applied");
    }
    if o.log_level_overridden {
        tracing::warn!("reload: RUST_LOG is set and overrides [log] level");
    }
    if !o.plan.restart.is_empty() {
        tracing::warn!(
            needs_restart = %o.plan.restart.join(", "),
            "reload: these changes apply at the next restart; the running values stay until then"
        );
    }
}
