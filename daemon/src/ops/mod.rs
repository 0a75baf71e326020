//! Operations: how the daemon shows itself to its supervisor and its operators.
//! [`notify`] speaks systemd's notify protocol (READY, WATCHDOG, STATUS, STOPPING);
//! [`logging`] sets up (and reloads) the log filter; [`metrics`] keeps the Prometheus figures
//! and [`metrics_http`] serves them; [`status_view`] is `shelfd status` and its file; [`observers`] keeps that file written
//! and serves the metrics, both from the pipeline's shared figures ([`crate::health`]).
//!
//! Operations only read what the pipeline shares: it never names `run` or `publish`.

pub mod logging;
pub mod metrics;
pub mod metrics_http;
pub mod notify;
pub mod observers;
pub mod status_view;
