//! Operations: how the daemon talks to its supervisor. [`notify`] speaks systemd's notify
//! protocol (READY, WATCHDOG, STATUS, STOPPING). Metrics and `shelfd status` will live here too.

pub mod notify;
