//! HX711 load-cell ADC driver over embedded-hal 1.0: PD_SCK on an [`OutputPin`], DOUT on an
//! [`InputPin`], timing through [`DelayNs`]. Owns the chip's serial protocol (24 data bits,
//! then 1..=3 pulses that pick the next conversion's channel and gain), power down/up, and a
//! bounded wait for data-ready. It never waits without bound and never interprets counts
//! (that is [`crate::scale`]).
//!
//! Protocol facts (from the chip's datasheet): DOUT goes low when a conversion is ready; each
//! rising edge of PD_SCK shifts out one bit, MSB first, valid while PD_SCK is high; after the
//! 24 bits, the total number of pulses selects the *next* conversion: 25 = channel A gain 128,
//! 26 = channel B gain 32, 27 = channel A gain 64. PD_SCK held high for more than 60 µs powers
//! the chip down; bringing it low powers it up again, back at channel A gain 128.
//!
//! Interrupts: a read keeps PD_SCK high for about a microsecond per bit. An interrupt that holds
//! it high for more than 60 µs mid-read powers the chip down and garbles that sample. On a
//! board with long interrupt handlers, call [`Hx711::read`] inside a critical section (this
//! driver is generic and cannot mask interrupts itself).

use crate::scale::{SensorFault, WeightSensor};
use embedded_hal::delay::DelayNs;
use embedded_hal::digital::{ErrorKind, InputPin, OutputPin};

/// Channel and gain of a conversion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Gain {
    /// Channel A, gain 128 (±20 mV full scale at 5 V); the chip's state after power-up.
    #[default]
    A128,
    /// Channel B, gain 32 (±80 mV).
    B32,
    /// Channel A, gain 64 (±40 mV).
    A64,
}

impl Gain {
    /// PD_SCK pulses of a read that selects this gain for the next conversion (24 data bits
    /// included).
    pub const fn pulses(self) -> u8 {
        match self {
            Gain::A128 => 25,
            Gain::B32 => 26,
            Gain::A64 => 27,
        }
    }
}

/// How long PD_SCK stays high to power the chip down, in µs (the datasheet asks for > 60).
pub const POWER_DOWN_US: u32 = 80;

/// PD_SCK high and low time around each bit, in µs (the datasheet allows 0.2..=50 high).
pub const BIT_US: u32 = 1;

/// Bounds of the wait for data-ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hx711Config {
    /// DOUT checks before giving up (at least 1).
    pub ready_polls: u32,
    /// Pause between two checks, in µs.
    pub poll_interval_us: u32,
}

impl Default for Hx711Config {
    /// 600 checks 1 ms apart: longer than one conversion at 10 samples/s (100 ms) and the
    /// settling after power-up (400 ms), so only a dead or unpowered chip times out.
    fn default() -> Self {
        Hx711Config {
            ready_polls: 600,
            poll_interval_us: 1_000,
        }
    }
}

/// What went wrong talking to the chip.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hx711Error {
    /// DOUT never went low (no conversion ready) within the configured checks.
    NotReady {
        /// Checks made.
        polls: u32,
    },
    /// A pin operation failed.
    Pin(ErrorKind),
}

impl core::fmt::Display for Hx711Error {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Hx711Error::NotReady { polls } => {
                write!(f, "HX711 not ready after {polls} checks of DOUT")
            }
            Hx711Error::Pin(kind) => write!(f, "HX711 pin error: {kind:?}"),
        }
    }
}

impl core::error::Error for Hx711Error {}

/// One conversion result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// The 24-bit two's-complement reading, sign-extended (−8 388 608..=8 388 607).
    pub counts: i32,
    /// The channel and gain this conversion ran with.
    pub gain: Gain,
}

/// The HX711 on two pins.
///
/// ```
/// # use embedded_hal_mock::eh1::digital::{Mock as Pin, State, Transaction as T};
/// # use embedded_hal_mock::eh1::delay::NoopDelay;
/// use shelf_node::hx711::{Gain, Hx711, Hx711Config};
///
/// // DOUT: ready, then the bits of 0x800001 (the most negative reading + 1).
/// let mut dout_script = vec![T::get(State::Low), T::get(State::High)];
/// dout_script.extend((0..22).map(|_| T::get(State::Low)));
/// dout_script.push(T::get(State::High));
/// // PD_SCK: low at start, then 25 pulses (24 bits + one for A128).
/// let mut sck_script = vec![T::set(State::Low)];
/// for _ in 0..25 { sck_script.extend([T::set(State::High), T::set(State::Low)]); }
/// let (mut sck, mut dout) = (Pin::new(&sck_script), Pin::new(&dout_script));
///
/// let mut adc = Hx711::new(sck.clone(), dout.clone(), NoopDelay::new(), Hx711Config::default()).unwrap();
/// let sample = adc.read().unwrap();
/// assert_eq!((sample.counts, sample.gain), (-8_388_607, Gain::A128));
/// sck.done();
/// dout.done();
/// ```
#[derive(Debug)]
pub struct Hx711<SCK, DOUT, D> {
    sck: SCK,
    dout: DOUT,
    delay: D,
    config: Hx711Config,
    /// The gain the trailing pulses of the next read select.
    gain: Gain,
    /// The gain of the conversion running now.
    running: Gain,
}

fn pin<E: embedded_hal::digital::Error>(e: E) -> Hx711Error {
    Hx711Error::Pin(e.kind())
}

impl<SCK, DOUT, D> Hx711<SCK, DOUT, D>
where
    SCK: OutputPin,
    DOUT: InputPin,
    D: DelayNs,
{
    /// Takes the pins and drives PD_SCK low (chip powered, channel A gain 128).
    pub fn new(
        mut sck: SCK,
        dout: DOUT,
        delay: D,
        config: Hx711Config,
    ) -> Result<Self, Hx711Error> {
        sck.set_low().map_err(pin)?;
        Ok(Hx711 {
            sck,
            dout,
            delay,
            config,
            gain: Gain::A128,
            running: Gain::A128,
        })
    }

    /// Gives the pins and the delay back.
    pub fn release(self) -> (SCK, DOUT, D) {
        (self.sck, self.dout, self.delay)
    }

    /// Selects channel and gain. The chip applies it to the conversion that starts after the
    /// next read, so the next read still returns the old gain ([`Sample::gain`] says which).
    pub fn set_gain(&mut self, gain: Gain) {
        self.gain = gain;
    }

    /// True when a conversion is ready (DOUT low).
    pub fn is_ready(&mut self) -> Result<bool, Hx711Error> {
        self.dout.is_low().map_err(pin)
    }

    /// Waits for data-ready: at most [`Hx711Config::ready_polls`] checks of DOUT with
    /// [`Hx711Config::poll_interval_us`] between them, then [`Hx711Error::NotReady`].
    pub fn wait_ready(&mut self) -> Result<(), Hx711Error> {
        let polls = self.config.ready_polls.max(1);
        for poll in 1..=polls {
            if self.is_ready()? {
                return Ok(());
            }
            if poll < polls {
                self.delay.delay_us(self.config.poll_interval_us);
            }
        }
        Err(Hx711Error::NotReady { polls })
    }

    /// Waits (bounded) for a conversion and reads it.
    pub fn read(&mut self) -> Result<Sample, Hx711Error> {
        self.wait_ready()?;
        self.shift_in()
    }

    /// Reads a conversion if one is ready, without waiting.
    pub fn try_read(&mut self) -> Result<Option<Sample>, Hx711Error> {
        if self.is_ready()? {
            self.shift_in().map(Some)
        } else {
            Ok(None)
        }
    }

    /// Powers the chip down: PD_SCK low, then high for [`POWER_DOWN_US`].
    pub fn power_down(&mut self) -> Result<(), Hx711Error> {
        self.sck.set_low().map_err(pin)?;
        self.sck.set_high().map_err(pin)?;
        self.delay.delay_us(POWER_DOWN_US);
        Ok(())
    }

    /// Powers the chip up: PD_SCK low. The chip restarts at channel A gain 128; a gain chosen
    /// with [`Hx711::set_gain`] applies again after the next read.
    pub fn power_up(&mut self) -> Result<(), Hx711Error> {
        self.sck.set_low().map_err(pin)?;
        self.running = Gain::A128;
        Ok(())
    }

    fn pulse(&mut self) -> Result<bool, Hx711Error> {
        self.sck.set_high().map_err(pin)?;
        self.delay.delay_us(BIT_US);
        let bit = self.dout.is_high().map_err(pin)?;
        self.sck.set_low().map_err(pin)?;
        self.delay.delay_us(BIT_US);
        Ok(bit)
    }

    fn shift_in(&mut self) -> Result<Sample, Hx711Error> {
        let mut raw: u32 = 0;
        for _ in 0..24 {
            raw = (raw << 1) | u32::from(self.pulse()?);
        }
        for _ in 24..self.gain.pulses() {
            self.sck.set_high().map_err(pin)?;
            self.delay.delay_us(BIT_US);
            self.sck.set_low().map_err(pin)?;
            self.delay.delay_us(BIT_US);
        }
        let gain = self.running;
        self.running = self.gain;
        Ok(Sample {
            // Sign-extend bit 23 by shifting it into bit 31 and back.
            counts: ((raw << 8) as i32) >> 8,
            gain,
        })
    }
}

impl<SCK, DOUT, D> WeightSensor for Hx711<SCK, DOUT, D>
where
    SCK: OutputPin,
    DOUT: InputPin,
    D: DelayNs,
{
    /// A ready conversion at the configured gain; conversions still at another gain (the one
    /// right after a gain change or a power-up) are read and dropped.
    fn poll_sample(&mut self) -> Option<Result<i32, SensorFault>> {
        match self.try_read() {
            Ok(Some(sample)) if sample.gain == self.gain => Some(Ok(sample.counts)),
            Ok(_) => None,
            Err(Hx711Error::NotReady { polls }) => Some(Err(SensorFault::Timeout { polls })),
            Err(Hx711Error::Pin(kind)) => Some(Err(SensorFault::Pin(kind))),
        }
    }
}
