//! Harness of the MQTT end-to-end tests: a real Mosquitto ([`broker`]), a collecting subscriber
//! ([`subscriber`]) and `shelfd run` as a child process with generated configs and read logs
//! ([`daemon`]). Each test file uses a part of it.
#![allow(dead_code)]

pub mod broker;
pub mod daemon;
pub mod pty_readers;
pub mod subscriber;
