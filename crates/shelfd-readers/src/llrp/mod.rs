//! LLRP (EPCglobal Low Level Reader Protocol 1.0.1, TCP port 5084): fixed readers on Ethernet
//! (Impinj Speedway/R700, Zebra FX7500/FX9600).
//!
//! ## Layout
//! - [`codec`]: the byte grammar (message header, TLV/TV parameters, the stream decoder with
//!   its maximum message size, writers). Pure, never panics.
//! - [`params`] and [`message`]: the typed parameters and messages shelfd reads and writes,
//!   each with its encoder and decoder; Impinj's extensions in [`message::impinj`].
//! - [`client`]: the client session on the one link lifecycle, and the plan of what shelfd
//!   sets on a reader.
//! - [`decoder`]: captures of both directions as a [`crate::FrameDecoder`] (`shelfd decode`).
//! - [`probe`]: `shelfd llrp probe`, the installer's look at a reader.
//! - [`simulator`]: a simulated reader on a loopback TCP port with Impinj-style and
//!   Zebra-style quirks and faults (tests, demo, benchmarks).
//!
//! Facts come from the LTK definition (`llrp-1x1-def.xml`, read through llrpjs's generated
//! `def-td.ts`), recorded traffic of real readers (sllurp's and mchesser/llrp-rs's tests) and
//! EdgeX device-rfid-llrp-go; the tests name their source.

pub mod client;
pub mod codec;
pub mod decoder;
pub mod message;
pub mod params;
pub mod probe;
#[cfg(test)]
mod session_tests;
pub mod simulator;
#[cfg(test)]
mod tests;

/// The IANA-registered LLRP port.
pub const DEFAULT_PORT: u16 = 5084;
