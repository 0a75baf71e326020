//! Shelf-node firmware core: the code that runs on the small boards under a smart shelf's lanes,
//! and the wire protocol they share with `shelfd`.
//!
//! A shelf node weighs each lane with a load cell on an HX711, turns settled weight changes into
//! picks and put-backs of whole items, and answers the gateway (`shelfd`) on an RS-485
//! multi-drop bus in shelf-link v1. This crate owns all of that as hardware-independent code:
//! it is `#![no_std]`, needs no allocator, and reaches hardware only through embedded-hal 1.0
//! (pins, delays) and embedded-io (the UART) traits that the board crate implements. It never
//! touches registers, interrupts, clocks or flash itself, and never panics on bus input. The
//! board crate (HAL, entry point, panic handler, a millisecond clock) wires it up; see
//! `examples/node_image.rs` for the smallest such wiring, which is also what the footprint
//! figures in `BENCHMARKS.md` measure.
//!
//! # Layout
//!
//! - [`link`]: shelf-link v1, the wire protocol (COBS framing, CRC-16, messages, the streaming
//!   [`link::FrameAccumulator`] and the gateway's [`link::NodeSession`]). Documented there byte
//!   by byte; `shelfd` decodes with this very module.
//! - [`hx711`]: the HX711 load-cell ADC driver (gain/channel, power down, bounded wait).
//! - [`scale`]: one lane's scale logic: tare, calibration, filtering, stability, pick/put
//!   detection, drift.
//! - [`node`]: the node state machine: lanes, the queue of unacknowledged events, commands, the
//!   bus side.
//! - [`sim`]: simulated scales and a whole simulated node, for host tests and `shelfd`'s node
//!   simulator (deterministic from a seed).
//!
//! # Features
//!
//! - `std` (off by default; the firmware never turns it on): host helpers that return `Vec`s.
//!   `shelfd` enables it.
//!
//! # Targets
//!
//! The crate builds for `thumbv7em-none-eabihf` (Cortex-M4F/M7F), which CI checks
//! (`tests/run-all.sh`); its tests run on the host.
#![no_std]
#![deny(unsafe_code, missing_docs)]

#[cfg(feature = "std")]
extern crate std;

pub mod hx711;
pub mod link;
pub mod node;
pub mod scale;
pub mod sim;
