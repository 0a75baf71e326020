//! HX711 driver against embedded-hal-mock pin and delay scripts: every test states the exact
//! PD_SCK edges, DOUT reads and delays the chip must see, and ends with `done()` on every mock.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use embedded_hal::digital::ErrorKind;
use embedded_hal_mock::eh1::MockError;
use embedded_hal_mock::eh1::delay::{CheckedDelay, NoopDelay, Transaction as Delay};
use embedded_hal_mock::eh1::digital::{Mock as Pin, State, Transaction as T};
use shelf_node::hx711::{BIT_US, Gain, Hx711, Hx711Config, Hx711Error, POWER_DOWN_US, Sample};
use shelf_node::scale::{SensorFault, WeightSensor};

/// DOUT reads of the 24 bits of `value`, MSB first.
fn bits(value: u32) -> Vec<T> {
    (0..24)
        .rev()
        .map(|b| {
            T::get(if value >> b & 1 == 1 {
                State::High
            } else {
                State::Low
            })
        })
        .collect()
}

/// `n` PD_SCK pulses.
fn pulses(n: usize) -> Vec<T> {
    (0..n)
        .flat_map(|_| [T::set(State::High), T::set(State::Low)])
        .collect()
}

/// DOUT reporting ready, then the bits of `value`.
fn ready_then(value: u32) -> Vec<T> {
    let mut script = vec![T::get(State::Low)];
    script.extend(bits(value));
    script
}

fn config(polls: u32) -> Hx711Config {
    Hx711Config {
        ready_polls: polls,
        poll_interval_us: 1_000,
    }
}

#[test]
fn reads_a_positive_sample_at_a128_with_exact_pins_and_timing() {
    let mut sck_script = vec![T::set(State::Low)];
    sck_script.extend(pulses(25));
    let mut sck = Pin::new(&sck_script);
    let mut dout = Pin::new(&ready_then(0x12_3456));
    // Every pulse: 1 µs high, then 1 µs low.
    let delays: Vec<Delay> = (0..50).map(|_| Delay::delay_us(BIT_US)).collect();
    let mut delay = CheckedDelay::new(&delays);

    let mut adc = Hx711::new(sck.clone(), dout.clone(), delay.clone(), config(10)).unwrap();
    assert_eq!(
        adc.read(),
        Ok(Sample {
            counts: 0x12_3456,
            gain: Gain::A128
        })
    );
    sck.done();
    dout.done();
    delay.done();
}

#[test]
fn sign_extends_24_bit_twos_complement() {
    for (raw, counts) in [
        (0xFF_FFFF, -1),
        (0x80_0000, -8_388_608),
        (0x7F_FFFF, 8_388_607),
        (0x00_0000, 0),
        (0xFE_D4C1, -76_607),
    ] {
        let mut sck_script = vec![T::set(State::Low)];
        sck_script.extend(pulses(25));
        let mut sck = Pin::new(&sck_script);
        let mut dout = Pin::new(&ready_then(raw));
        let mut adc = Hx711::new(sck.clone(), dout.clone(), NoopDelay::new(), config(1)).unwrap();
        assert_eq!(adc.read().map(|s| s.counts), Ok(counts), "raw {raw:06x}");
        sck.done();
        dout.done();
    }
}

#[test]
fn gain_selection_takes_25_26_27_pulses_and_applies_to_the_next_conversion() {
    // new; read (B32 asked: 26 pulses, still A128 data); read (B32 data); A64 asked: read with
    // 27 pulses (still B32 data); read (A64 data); back to A128: 25 pulses.
    let mut sck_script = vec![T::set(State::Low)];
    for n in [26, 26, 27, 27, 25] {
        sck_script.extend(pulses(n));
    }
    let mut dout_script = Vec::new();
    for v in [1u32, 2, 3, 4, 5] {
        dout_script.extend(ready_then(v));
    }
    let mut sck = Pin::new(&sck_script);
    let mut dout = Pin::new(&dout_script);
    let mut adc = Hx711::new(sck.clone(), dout.clone(), NoopDelay::new(), config(1)).unwrap();

    adc.set_gain(Gain::B32);
    assert_eq!(adc.read().unwrap().gain, Gain::A128);
    assert_eq!(adc.read().unwrap().gain, Gain::B32);
    adc.set_gain(Gain::A64);
    assert_eq!(adc.read().unwrap().gain, Gain::B32);
    let sample = adc.read().unwrap();
    assert_eq!((sample.counts, sample.gain), (4, Gain::A64));
    adc.set_gain(Gain::A128);
    assert_eq!(adc.read().unwrap().gain, Gain::A64);
    sck.done();
    dout.done();
    assert_eq!(
        [Gain::A128, Gain::B32, Gain::A64].map(Gain::pulses),
        [25, 26, 27]
    );
}

#[test]
fn waiting_for_data_ready_is_bounded_and_then_an_error() {
    // DOUT stays high: 5 checks, 4 pauses of 1 ms between them, no clock pulse at all.
    let mut sck = Pin::new(&[T::set(State::Low)]);
    let mut dout = Pin::new(&vec![T::get(State::High); 5]);
    let delays: Vec<Delay> = (0..4).map(|_| Delay::delay_us(1_000)).collect();
    let mut delay = CheckedDelay::new(&delays);
    let mut adc = Hx711::new(sck.clone(), dout.clone(), delay.clone(), config(5)).unwrap();
    assert_eq!(adc.read(), Err(Hx711Error::NotReady { polls: 5 }));
    sck.done();
    dout.done();
    delay.done();
}

#[test]
fn a_conversion_that_becomes_ready_on_the_third_check_is_read() {
    let mut sck_script = vec![T::set(State::Low)];
    sck_script.extend(pulses(25));
    let mut dout_script = vec![T::get(State::High), T::get(State::High)];
    dout_script.extend(ready_then(0x00_0400));
    let mut sck = Pin::new(&sck_script);
    let mut dout = Pin::new(&dout_script);
    let mut delays: Vec<Delay> = (0..2).map(|_| Delay::delay_us(1_000)).collect();
    delays.extend((0..50).map(|_| Delay::delay_us(BIT_US)));
    let mut delay = CheckedDelay::new(&delays);
    let mut adc = Hx711::new(sck.clone(), dout.clone(), delay.clone(), config(3)).unwrap();
    assert_eq!(adc.read().map(|s| s.counts), Ok(1024));
    sck.done();
    dout.done();
    delay.done();
}

#[test]
fn power_down_holds_pd_sck_high_over_60_us_and_power_up_resets_to_a128() {
    let mut sck_script = vec![
        T::set(State::Low),  // new
        T::set(State::Low),  // power_down: a clean low → high edge
        T::set(State::High), // … held high
        T::set(State::Low),  // power_up
    ];
    // After power-up the chip converts at A128 although B32 was chosen; this read's 26 pulses
    // select B32 for the next one.
    sck_script.extend(pulses(26));
    let mut sck = Pin::new(&sck_script);
    let mut dout = Pin::new(&ready_then(7));
    let mut delays = vec![Delay::delay_us(POWER_DOWN_US)];
    delays.extend((0..52).map(|_| Delay::delay_us(BIT_US)));
    let mut delay = CheckedDelay::new(&delays);
    const { assert!(POWER_DOWN_US > 60, "the datasheet asks for more than 60 µs") };

    let mut adc = Hx711::new(sck.clone(), dout.clone(), delay.clone(), config(1)).unwrap();
    adc.set_gain(Gain::B32);
    adc.power_down().unwrap();
    adc.power_up().unwrap();
    assert_eq!(
        adc.read(),
        Ok(Sample {
            counts: 7,
            gain: Gain::A128
        })
    );
    sck.done();
    dout.done();
    delay.done();
}

#[test]
fn pin_errors_are_reported_not_panicked() {
    let err = MockError::Io(std::io::ErrorKind::BrokenPipe);
    let mut sck = Pin::new(&[T::set(State::Low)]);
    let mut dout = Pin::new(&[T::get(State::Low).with_error(err.clone())]);
    let mut adc = Hx711::new(sck.clone(), dout.clone(), NoopDelay::new(), config(3)).unwrap();
    assert_eq!(adc.read(), Err(Hx711Error::Pin(ErrorKind::Other)));
    sck.done();
    dout.done();

    let mut sck = Pin::new(&[T::set(State::Low).with_error(err)]);
    let mut dout = Pin::new(&[]);
    assert_eq!(
        Hx711::new(sck.clone(), dout.clone(), NoopDelay::new(), config(3)).err(),
        Some(Hx711Error::Pin(ErrorKind::Other))
    );
    sck.done();
    dout.done();
}

#[test]
fn as_a_weight_sensor_it_never_waits_and_drops_samples_of_a_stale_gain() {
    let mut sck_script = vec![T::set(State::Low)];
    sck_script.extend(pulses(26));
    sck_script.extend(pulses(26));
    let mut dout_script = vec![T::get(State::High)]; // not ready: no sample, no wait
    dout_script.extend(ready_then(100)); // converted at A128 before B32 took effect: dropped
    dout_script.extend(ready_then(200)); // B32
    let mut sck = Pin::new(&sck_script);
    let mut dout = Pin::new(&dout_script);
    let mut adc = Hx711::new(sck.clone(), dout.clone(), NoopDelay::new(), config(100)).unwrap();
    adc.set_gain(Gain::B32);
    assert_eq!(adc.poll_sample(), None);
    assert_eq!(adc.poll_sample(), None);
    assert_eq!(adc.poll_sample(), Some(Ok(200)));
    sck.done();
    dout.done();

    let mut sck = Pin::new(&[T::set(State::Low)]);
    let mut dout =
        Pin::new(&[T::get(State::Low).with_error(MockError::Io(std::io::ErrorKind::Other))]);
    let mut adc = Hx711::new(sck.clone(), dout.clone(), NoopDelay::new(), config(1)).unwrap();
    assert_eq!(
        adc.poll_sample(),
        Some(Err(SensorFault::Pin(ErrorKind::Other)))
    );
    sck.done();
    dout.done();
}
