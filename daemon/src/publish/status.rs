//! The retained presence document on `status`: `online` with what a central engineer needs to
//! recognise this daemon run (version, boot id, start time, outbox health), and the `offline`
//! document used both as the MQTT last will and on a clean stop. One type builds both, so they
//! cannot drift apart.

use crate::health::OutboxHealth;
use serde::Serialize;

/// Presence state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Presence {
    /// Connected and publishing.
    Online,
    /// Stopped cleanly, or gone (last will).
    Offline,
}

/// The `status` document.
///
/// ```
/// use shelfd::publish::status::{Presence, StatusDoc};
/// let doc = StatusDoc::new("s1", "gw-1", "0a1b", 1_795_341_600_000);
/// assert_eq!(doc.to_json(Presence::Offline), concat!(
///     r#"{"v":1,"type":"status","store":"s1","gateway":"gw-1","state":"offline","#,
///     r#""version":""#, env!("CARGO_PKG_VERSION"), r#"","boot_id":"0a1b","#,
///     r#""started_at":"2026-11-22T10:00:00.000Z"}"#));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusDoc {
    store: String,
    gateway: String,
    boot_id: String,
    started_at_ms: u64,
    /// Latest outbox figures (only `online` documents carry them).
    pub outbox: OutboxHealth,
}

#[derive(Serialize)]
struct Wire<'a> {
    v: u8,
    #[serde(rename = "type")]
    kind: &'static str,
    store: &'a str,
    gateway: &'a str,
    state: Presence,
    version: &'static str,
    boot_id: &'a str,
    started_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    outbox: Option<OutboxHealth>,
}

impl StatusDoc {
    /// The document of a daemon run that started at `started_at_ms` with `boot_id`.
    pub fn new(store: &str, gateway: &str, boot_id: &str, started_at_ms: u64) -> Self {
        StatusDoc {
            store: store.to_owned(),
            gateway: gateway.to_owned(),
            boot_id: boot_id.to_owned(),
            started_at_ms,
            outbox: OutboxHealth::default(),
        }
    }

    /// The JSON payload in `state`.
    pub fn to_json(&self, state: Presence) -> String {
        let wire = Wire {
            v: 1,
            kind: "status",
            store: &self.store,
            gateway: &self.gateway,
            state,
            version: env!("CARGO_PKG_VERSION"),
            boot_id: &self.boot_id,
            started_at: shelfd_core::timefmt::rfc3339_ms(self.started_at_ms),
            outbox: (state == Presence::Online).then_some(self.outbox),
        };
        serde_json::to_string(&wire).expect("invariant: status always serializes")
    }
}

/// A fresh random boot id (128 bits, hex) from the kernel, or from the clock and pid when the
/// kernel's uuid file is unavailable.
pub fn new_boot_id() -> String {
    match std::fs::read_to_string("/proc/sys/kernel/random/uuid") {
        Ok(uuid) => uuid.trim().replace('-', ""),
        Err(_) => format!(
            "{:016x}{:08x}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64),
            std::process::id()
        ),
    }
}
