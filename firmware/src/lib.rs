//! x
#![no_std]
#![deny(unsafe_code, missing_docs)]

#[cfg(feature = "std")]
extern crate std;

pub mod hx711;
pub mod link;
pub mod node;
pub mod scale;
pub mod sim;
