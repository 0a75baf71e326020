//! Reader drivers: one module per wire protocol, all with the same small shape (a
//! [`frame::FrameDecoder`] that cuts checked frames out of bytes, [`frame::HostCommands`] that
//! say what the host sends and when, and a [`frame::ReaderSimulator`] that speaks the reader's
//! side byte for byte), plus the protocol-independent parts: [`wire`] picks a protocol's parts
//! from the config. [`shelf_link`] is the odd one out: the gateway is the bus master there, so
//! it has its own poll loop (on the same port handling and counters as [`serial`]). Decoders
//! never panic on any input and never trust a length they have not bound-checked; nothing here
//! touches the engine's state.

pub mod frame;
pub mod gen2;
pub mod line;
pub mod magicrf;
pub mod mercury;
pub mod pty_sim;
pub mod r2000;
pub(crate) mod scan;
pub mod serial;
pub mod shelf_link;
pub mod wire;

pub use frame::{
    Decoded, DecoderStats, FrameDecoder, FrameRole, HostCommands, ReaderSimulator, TagReport,
};
pub use wire::WireOptions;
