//! The closed vocabularies of the config: [`GpioDirection`] here; the reader [`Protocol`],
//! [`MagicRfFraming`] and baud rates are the readers' (`shelfd_readers::kinds`), and
//! [`LocationKind`] and [`UndecodedPolicy`] the engine's (`shelfd_core::kinds`). Each parses from exactly one spelling and rejects
//! anything else with a message that lists the accepted spellings.

pub use shelfd_core::kinds::{LocationKind, UndecodedPolicy, UnknownName};
use shelfd_core::string_enum;
pub use shelfd_readers::kinds::{
    DEFAULT_BAUD, MagicRfFraming, Protocol, STANDARD_BAUD_RATES, SearchMode,
};

string_enum! {
    /// Whether a `[[gpio]]` line is read or driven.
    pub enum GpioDirection ("gpio direction") {
        /// A sensor, e.g. a door contact.
        Input = "input",
        /// An actuator, e.g. a light stack.
        Output = "output",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        for d in GpioDirection::ALL {
            assert_eq!(d.as_str().parse::<GpioDirection>(), Ok(*d));
        }
    }
}
