//! The reference central in the demo: `shelfd-central` run in-process on the demo's broker,
//! with its SQLite database and a customer token in the demo's temp dir, so the one-inventory
//! API can be tried while the store plays ([`DemoCentral::curl_line`]).
//!
//! It owns only starting and stopping that central; the central itself is the
//! `shelfd-central` crate, unchanged.

use shelfd_central::auth::{Role, new_token};
use shelfd_central::config::CentralConfig;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Why the demo's central did not start.
#[derive(Debug, thiserror::Error)]
#[error("the demo's central: {0}")]
pub struct CentralError(String);

/// A running in-process central.
pub struct DemoCentral {
    /// Where its API listens.
    pub addr: SocketAddr,
    /// A customer token for it.
    pub token: String,
    cancel: CancellationToken,
    task: JoinHandle<anyhow::Result<()>>,
}

impl DemoCentral {
    /// Starts central on the broker at 127.0.0.1:`broker_port` with its files in `dir`.
    pub async fn start(dir: &Path, broker_port: u16, prefix: &str) -> Result<Self, CentralError> {
        let fail = |e: &dyn std::fmt::Display| CentralError(e.to_string());
        let (token, entry) =
            new_token("demo-customer", Role::Customer, &[]).map_err(|e| fail(&e))?;
        let tokens = dir.join("central-tokens.toml");
        std::fs::write(&tokens, entry).map_err(|e| fail(&e))?;
        let text = format!(
            "[mqtt]\nhost = \"127.0.0.1\"\nport = {broker_port}\nclient_id = \"shelfd-demo-inventory\"\n\
             topic_prefix = {prefix}\n[database]\nurl = {db}\n[api]\nlisten = \"127.0.0.1:0\"\n\
             tokens_file = {tokens}\n",
            prefix = toml::Value::from(prefix),
            db = toml::Value::from(format!("sqlite:{}", dir.join("central.db").display())),
            tokens = toml::Value::from(tokens.display().to_string()),
        );
        let config =
            CentralConfig::parse(&text, &dir.join("central.toml")).map_err(|e| fail(&e))?;
        let cancel = CancellationToken::new();
        let (ready_tx, ready) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(shelfd_central::run::run_reporting(
            config,
            cancel.clone(),
            move |addr| {
                let _ = ready_tx.send(addr);
            },
        ));
        match tokio::time::timeout(Duration::from_secs(30), ready).await {
            Ok(Ok(addr)) => Ok(DemoCentral {
                addr,
                token,
                cancel,
                task,
            }),
            _ => {
                cancel.cancel();
                let why = match task.await {
                    Ok(Err(e)) => format!("{e:#}"),
                    _ => "it did not start serving".into(),
                };
                Err(CentralError(why))
            }
        }
    }

    /// A ready-to-paste `curl` asking the availability of `gtin` in `store`.
    pub fn curl_line(&self, gtin: &str, store: &str) -> String {
        format!(
            "central: shelfd-central on http://{addr} (SQLite in the demo dir); try:\n  curl -H 'Authorization: Bearer {token}' 'http://{addr}/v1/availability/{gtin}?store={store}'",
            addr = self.addr,
            token = self.token,
        )
    }

    /// Stops it and waits for it.
    pub async fn stop(self) {
        self.cancel.cancel();
        match self.task.await {
            Ok(Err(e)) => tracing::warn!(error = %e, "the demo's central stopped with an error"),
            Err(e) => tracing::warn!(error = %e, "the demo's central task failed"),
            Ok(Ok(())) => {}
        }
    }
}
