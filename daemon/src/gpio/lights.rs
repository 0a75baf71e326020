//! The light stack of a dock: up to three outputs (receiving, complete, problem), exactly one
//! lit for the state the dock book reports ([`Light`]), none for [`Light::Off`]. Generic over
//! embedded-hal 1.0's `OutputPin` (a `CdevPin` in the daemon, a mock in tests).
//!
//! Never decides the state (the engine's dock book does) and never lights two lamps at once:
//! lamps are switched off before the new one is switched on. Safe terminal state: every lamp
//! off ([`run_lights`] switches them off when cancelled).

use embedded_hal::digital::OutputPin;
use shelfd_core::dock::Light;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// One output and its polarity.
#[derive(Debug)]
pub struct Lamp<P> {
    pin: P,
    active_low: bool,
}

impl<P: OutputPin> Lamp<P> {
    /// A lamp on `pin`, lit by a low level when `active_low`.
    pub fn new(pin: P, active_low: bool) -> Self {
        Lamp { pin, active_low }
    }

    fn set(&mut self, on: bool) -> Result<(), P::Error> {
        if on != self.active_low {
            self.pin.set_high()
        } else {
            self.pin.set_low()
        }
    }

    /// The pin (tests check their mocks through it).
    pub fn pin_mut(&mut self) -> &mut P {
        &mut self.pin
    }
}

/// The lamps of one dock; any of them may be absent.
#[derive(Debug)]
pub struct LightStack<P> {
    /// Lit while receiving.
    pub receiving: Option<Lamp<P>>,
    /// Lit after a complete receipt.
    pub complete: Option<Lamp<P>>,
    /// Lit after a short, over or mismatched receipt.
    pub problem: Option<Lamp<P>>,
}

impl<P: OutputPin> LightStack<P> {
    /// Shows `light`: every other lamp off first, then the lamp of `light` on. Stops at the
    /// first output that fails.
    pub fn show(&mut self, light: Light) -> Result<(), P::Error> {
        let lamps = [
            (Light::Receiving, &mut self.receiving),
            (Light::Complete, &mut self.complete),
            (Light::Problem, &mut self.problem),
        ];
        let mut lit = None;
        for (state, lamp) in lamps {
            let Some(lamp) = lamp else { continue };
            if state == light {
                lit = Some(lamp);
            } else {
                lamp.set(false)?;
            }
        }
        match lit {
            Some(lamp) => lamp.set(true),
            None => Ok(()),
        }
    }
}

/// Drives `stack` for dock `dock` from the engine's light states until `cancel`, then switches
/// every lamp off. An output that fails is logged; the next state change tries again.
pub async fn run_lights<P: OutputPin>(
    dock: String,
    mut stack: LightStack<P>,
    mut lights: watch::Receiver<Vec<(String, Light)>>,
    cancel: CancellationToken,
) {
    let current = |lights: &watch::Receiver<Vec<(String, Light)>>| {
        lights
            .borrow()
            .iter()
            .find(|(id, _)| *id == dock)
            .map_or(Light::Off, |(_, l)| *l)
    };
    let mut shown = None;
    loop {
        let want = current(&lights);
        if shown != Some(want) {
            match stack.show(want) {
                Ok(()) => shown = Some(want),
                Err(e) => {
                    tracing::warn!(dock = %dock, light = ?want, error = ?e, "cannot set the light stack");
                    shown = None;
                }
            }
        }
        tokio::select! {
            changed = lights.changed() => if changed.is_err() { break },
            _ = cancel.cancelled() => break,
        }
    }
    if let Err(e) = stack.show(Light::Off) {
        tracing::warn!(dock = %dock, error = ?e, "cannot switch the light stack off");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_hal_mock::eh1::digital::{Mock, State, Transaction as T};

    fn stack(r: &[T], c: &[T], p: &[T], active_low: bool) -> LightStack<Mock> {
        LightStack {
            receiving: Some(Lamp::new(Mock::new(r), active_low)),
            complete: Some(Lamp::new(Mock::new(c), active_low)),
            problem: Some(Lamp::new(Mock::new(p), active_low)),
        }
    }

    fn done(s: &mut LightStack<Mock>) {
        for lamp in [&mut s.receiving, &mut s.complete, &mut s.problem]
            .into_iter()
            .flatten()
        {
            lamp.pin_mut().done();
        }
    }

    #[test]
    fn one_lamp_at_a_time_others_first() {
        let (lo, hi) = (T::set(State::Low), T::set(State::High));
        let mut s = stack(
            &[hi.clone(), lo.clone(), lo.clone(), lo.clone()],
            &[lo.clone(), hi.clone(), lo.clone(), lo.clone()],
            &[lo.clone(), lo.clone(), hi.clone(), lo.clone()],
            false,
        );
        s.show(Light::Receiving).expect("receiving");
        s.show(Light::Complete).expect("complete");
        s.show(Light::Problem).expect("problem");
        s.show(Light::Off).expect("off");
        done(&mut s);
    }

    #[test]
    fn active_low_lamps_are_lit_by_a_low_level() {
        let (lo, hi) = (T::set(State::Low), T::set(State::High));
        let mut s = stack(
            std::slice::from_ref(&lo),
            std::slice::from_ref(&hi),
            std::slice::from_ref(&hi),
            true,
        );
        s.show(Light::Receiving).expect("receiving");
        done(&mut s);
    }

    #[test]
    fn absent_lamps_are_skipped_and_errors_reported() {
        let err = embedded_hal_mock::eh1::MockError::Io(std::io::ErrorKind::BrokenPipe);
        let mut problem = Mock::new(&[T::set(State::High).with_error(err)]);
        let mut s = LightStack {
            receiving: None,
            complete: None,
            problem: Some(Lamp::new(problem.clone(), false)),
        };
        assert!(s.show(Light::Problem).is_err());
        problem.done();
    }

    #[tokio::test]
    async fn the_driver_follows_the_engine_and_ends_dark() {
        let (lo, hi) = (T::set(State::Low), T::set(State::High));
        let mut receiving = Mock::new(&[lo.clone(), hi.clone(), lo.clone(), lo.clone()]);
        let mut complete = Mock::new(&[lo.clone(), lo.clone(), hi.clone(), lo.clone()]);
        let s = LightStack {
            receiving: Some(Lamp::new(receiving.clone(), false)),
            complete: Some(Lamp::new(complete.clone(), false)),
            problem: None,
        };
        let (tx, rx) = watch::channel(vec![("d1".to_string(), Light::Off)]);
        let cancel = CancellationToken::new();
        let task = tokio::spawn(run_lights("d1".into(), s, rx, cancel.clone()));
        let step = |light: Light| {
            tx.send_replace(vec![
                ("d0".to_string(), Light::Problem),
                ("d1".to_string(), light),
            ]);
        };
        // Let the driver take each state before the next (a watch keeps only the latest).
        tokio::task::yield_now().await;
        step(Light::Receiving);
        tokio::task::yield_now().await;
        step(Light::Complete);
        tokio::task::yield_now().await;
        cancel.cancel();
        task.await.expect("join");
        receiving.done();
        complete.done();
    }
}
