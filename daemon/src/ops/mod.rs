//! Operations: how the daemon shows itself to its supervisor and its operators.
//! [`notify`] speaks systemd's notify protocol (READY, WATCHDOG, STATUS, STOPPING);
//! [`logging`] sets up (and reloads) the log filter; [`metrics`] keeps the Prometheus figures
//! and [`metrics_http`] serves them; [`status_view`] is `shelfd status` and its file.

pub mod logging;
pub mod metrics;
pub mod metrics_http;
pub mod notify;
pub mod status_view;
