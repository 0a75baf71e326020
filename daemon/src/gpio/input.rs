//! The debounced input poller: samples an [`InputPin`] every `poll`, debounces it
//! ([`Debouncer`]) and sends every stable change as a [`Record::Gpio`] (logical level, after
//! `active_low`) into the record channel the readers use, stamped with the gateway clock. The
//! first stable level is sent too, so the engine learns the door's state at start-up.
//!
//! Generic over embedded-hal 1.0's `InputPin`, so it runs on a `CdevPin` in the daemon and on
//! a mock in tests. It never interprets the level (that is the dock book's job).
//! Safe terminal state: nothing held but the pin, which is released when the task returns.

use super::GpioError;
use super::debounce::Debouncer;
use embedded_hal::digital::InputPin;
use shelfd_core::readlog::Record;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_util::sync::CancellationToken;

/// How an input is sampled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollTiming {
    /// Sampling period.
    pub poll: Duration,
    /// How long a level must hold before it counts.
    pub debounce: Duration,
}

impl Default for PollTiming {
    /// 10 ms sampling, 50 ms debounce: a reed switch settles well within it, and a door is
    /// never opened and closed faster.
    fn default() -> Self {
        PollTiming {
            poll: Duration::from_millis(10),
            debounce: Duration::from_millis(50),
        }
    }
}

/// Polls `pin` (the `[[gpio]]` named `name`) until `cancel`, the record channel closes (both
/// `Ok`), or the pin fails to read (`Err`, naming the gpio).
pub async fn run_input<P: InputPin>(
    mut pin: P,
    name: &str,
    active_low: bool,
    timing: PollTiming,
    sink: mpsc::Sender<Record>,
    cancel: CancellationToken,
    clock: impl Fn() -> u64,
) -> Result<(), GpioError> {
    let start = Instant::now();
    let hold = u64::try_from(timing.debounce.as_millis()).unwrap_or(u64::MAX);
    let mut debouncer = Debouncer::new(hold);
    let mut tick = tokio::time::interval(timing.poll);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = cancel.cancelled() => return Ok(()),
        }
        let high = pin.is_high().map_err(|e| GpioError::Read {
            gpio: name.to_owned(),
            reason: format!("{e:?}"),
        })?;
        let elapsed = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
        if let Some(level) = debouncer.sample(elapsed, high != active_low) {
            tracing::debug!(gpio = %name, level, "gpio input changed");
            let record = Record::Gpio {
                t: clock(),
                gpio: name.to_owned(),
                level,
            };
            if sink.send(record).await.is_err() {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_hal_mock::eh1::MockError;
    use embedded_hal_mock::eh1::digital::{Mock, State, Transaction};

    fn gets(states: &[(State, usize)]) -> Vec<Transaction> {
        states
            .iter()
            .flat_map(|(s, n)| std::iter::repeat_n(Transaction::get(*s), *n))
            .collect()
    }

    /// Runs the poller over a scripted pin that fails after the script, and returns what it
    /// sent as `(ms since start, level)`.
    async fn run(script: Vec<Transaction>, active_low: bool) -> Vec<(u64, bool)> {
        let mut script = script;
        script.push(
            Transaction::get(State::Low).with_error(MockError::Io(std::io::ErrorKind::NotFound)),
        );
        let mut pin = Mock::new(&script);
        let (tx, mut rx) = mpsc::channel(16);
        let start = Instant::now();
        let clock = move || u64::try_from(start.elapsed().as_millis()).unwrap_or(0);
        let timing = PollTiming {
            poll: Duration::from_millis(10),
            debounce: Duration::from_millis(30),
        };
        let result = run_input(
            pin.clone(),
            "door",
            active_low,
            timing,
            tx,
            CancellationToken::new(),
            clock,
        )
        .await;
        let err = result.expect_err("the script ends with a read error");
        assert!(
            err.to_string().starts_with("gpio \"door\": read failed"),
            "{err}"
        );
        pin.done();
        let mut out = Vec::new();
        while let Ok(Record::Gpio { t, gpio, level }) = rx.try_recv() {
            assert_eq!(gpio, "door");
            out.push((t, level));
        }
        out
    }

    #[tokio::test(start_paused = true)]
    async fn stable_levels_are_sent_and_bounces_are_not() {
        let script = gets(&[
            (State::Low, 4),  // 0..=30 ms: closed, reported at 30 ms
            (State::High, 2), // 40, 50: a bounce
            (State::Low, 2),  // 60, 70
            (State::High, 5), // 80..=120: open, reported at 110 ms
            (State::Low, 1),  // 130: a bounce
            (State::High, 2), // 140, 150
        ]);
        assert_eq!(run(script, false).await, [(30, false), (110, true)]);
    }

    #[tokio::test(start_paused = true)]
    async fn active_low_inverts_the_level() {
        let script = gets(&[(State::Low, 4), (State::High, 4)]);
        assert_eq!(run(script, true).await, [(30, true), (70, false)]);
    }

    #[tokio::test(start_paused = true)]
    async fn cancellation_stops_the_poller() {
        let mut pin = Mock::new(&gets(&[(State::High, 1)]));
        let (tx, _rx) = mpsc::channel(16);
        let cancel = CancellationToken::new();
        let task = tokio::spawn({
            let (pin, cancel) = (pin.clone(), cancel.clone());
            async move { run_input(pin, "door", false, PollTiming::default(), tx, cancel, || 0).await }
        });
        // The first sample is taken at once; then the poller waits for its next tick.
        tokio::task::yield_now().await;
        cancel.cancel();
        task.await.expect("join").expect("a clean stop");
        pin.done();
    }
}
