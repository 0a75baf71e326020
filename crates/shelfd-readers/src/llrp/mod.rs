//! LLRP (EPCglobal Low Level Reader Protocol 1.0.1, TCP port 5084): fixed readers on Ethernet
//! (Impinj Speedway/R700, Zebra FX7500/FX9600).
//!
//! ## Layout
//! - [`codec`]: the byte grammar (message header, TLV/TV parameters, the stream decoder with
//!   its maximum message size, writers). Pure, never panics.
//! - [`params`] and [`message`]: the typed parameters and messages shelfd reads and writes,
//!   each with its encoder and decoder; Impinj's extensions in [`message::impinj`].
//!
//! Facts come from the LTK definition (`llrp-1x1-def.xml`, read through llrpjs's generated
//! `def-td.ts`), recorded traffic of real readers (sllurp's and mchesser/llrp-rs's tests) and
//! EdgeX device-rfid-llrp-go; the tests name their source.

pub mod codec;
pub mod message;
pub mod params;
#[cfg(test)]
mod tests;

/// The IANA-registered LLRP port.
pub const DEFAULT_PORT: u16 = 5084;
