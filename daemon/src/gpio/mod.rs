//! GPIO for receiving docks: door sensors (inputs) and light stacks (outputs) on Linux GPIO
//! character devices (`linux-embedded-hal`'s `CdevPin`, GPIO uAPI v1), behind embedded-hal 1.0's
//! `InputPin` / `OutputPin` so the drivers are tested with `embedded-hal-mock`.
//!
//! - [`Debouncer`]: pure debouncing of raw samples with explicit timestamps.
//! - [`input::run_input`]: the debounced poller; sends [`shelfd_core::readlog::Record::Gpio`] into the
//!   record channel, like a reader sends reads.
//! - [`lights::LightStack`] / [`lights::run_lights`]: drives a dock's lamps from the engine's
//!   light states.
//! - [`spawn`]: opens every configured line for `shelfd run` and starts those tasks.
//!
//! This module owns the lines it opens and nothing else: it never interprets a level (the dock
//! book does) and never stops the daemon. A missing `/dev/gpiochip*` or a line that cannot be
//! requested is logged with the gpio's name and path; an input keeps retrying every
//! [`REOPEN_EVERY`], a lamp that cannot be opened is left out. Levels are physical on the wire
//! and logical here: `active_low` is applied by these drivers (lines are requested without the
//! kernel's ACTIVE_LOW flag, which `CdevPin` would undo again).

mod debounce;
pub mod input;
pub mod lights;

pub use debounce::Debouncer;

use crate::config::{Config, GpioConfig, GpioDirection};
use linux_embedded_hal::CdevPin;
use linux_embedded_hal::gpio_cdev::{Chip, LineRequestFlags};
use shelfd_core::dock::Light;
use shelfd_core::readlog::Record;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long an input that could not be opened (or failed) waits before the next attempt.
pub const REOPEN_EVERY: Duration = Duration::from_secs(30);

/// The consumer label shelfd requests lines with (shown by `gpioinfo`).
const CONSUMER: &str = "shelfd";

/// Why a GPIO line could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GpioError {
    /// The chip or the line could not be opened or requested.
    #[error("gpio {gpio:?}: cannot open line {line} of {chip}: {reason}")]
    Open {
        /// The `[[gpio]]` name.
        gpio: String,
        /// The chip path.
        chip: String,
        /// The line offset.
        line: u32,
        /// What failed.
        reason: String,
    },
    /// Reading an input failed.
    #[error("gpio {gpio:?}: read failed: {reason}")]
    Read {
        /// The `[[gpio]]` name.
        gpio: String,
        /// What failed.
        reason: String,
    },
}

/// Opens `g`'s line as an input (`output = false`) or as an output, initially inactive.
pub fn open_line(g: &GpioConfig, output: bool) -> Result<CdevPin, GpioError> {
    let fail = |reason: String| GpioError::Open {
        gpio: g.name.clone(),
        chip: g.chip.display().to_string(),
        line: g.line,
        reason,
    };
    let mut chip = Chip::new(&g.chip).map_err(|e| fail(e.to_string()))?;
    let line = chip.get_line(g.line).map_err(|e| fail(e.to_string()))?;
    let (flags, value) = if output {
        (LineRequestFlags::OUTPUT, u8::from(g.active_low))
    } else {
        (LineRequestFlags::INPUT, 0)
    };
    let handle = line
        .request(flags, value, CONSUMER)
        .map_err(|e| fail(e.to_string()))?;
    CdevPin::new(handle).map_err(|e| fail(e.to_string()))
}

/// Starts, on `tracker`, a poller for every input `[[gpio]]` and a light-stack driver for every
/// dock with `lights`, until `cancel`. Never fails: problems are logged (see the module docs).
pub fn spawn(
    config: &Config,
    sink: &mpsc::Sender<Record>,
    lights: &watch::Receiver<Vec<(String, Light)>>,
    cancel: &CancellationToken,
    tracker: &TaskTracker,
    clock: fn() -> u64,
) {
    for g in config
        .gpios
        .iter()
        .filter(|g| g.direction == GpioDirection::Input)
    {
        tracker.spawn(keep_input(g.clone(), sink.clone(), cancel.clone(), clock));
    }
    for dock in &config.docks {
        let Some(outputs) = &dock.lights else {
            continue;
        };
        let mut stack = lights::LightStack {
            receiving: None,
            complete: None,
            problem: None,
        };
        for (light, name) in outputs.outputs() {
            let Some(g) = config.gpios.iter().find(|g| g.name == name) else {
                continue;
            };
            let lamp = match open_line(g, true) {
                Ok(pin) => lights::Lamp::new(pin, g.active_low),
                Err(e) => {
                    tracing::error!(dock = %dock.id, light, error = %e, "light left out");
                    continue;
                }
            };
            match light {
                "receiving" => stack.receiving = Some(lamp),
                "complete" => stack.complete = Some(lamp),
                _ => stack.problem = Some(lamp),
            }
        }
        if stack.receiving.is_some() || stack.complete.is_some() || stack.problem.is_some() {
            tracker.spawn(lights::run_lights(
                dock.id.clone(),
                stack,
                lights.clone(),
                cancel.clone(),
            ));
        }
    }
}

/// Opens and polls one input until `cancel`, reopening after [`REOPEN_EVERY`] when it cannot
/// be opened or fails.
async fn keep_input(
    g: GpioConfig,
    sink: mpsc::Sender<Record>,
    cancel: CancellationToken,
    clock: fn() -> u64,
) {
    let mut reported = false;
    loop {
        match open_line(&g, false) {
            Ok(pin) => {
                tracing::info!(gpio = %g.name, chip = %g.chip.display(), line = g.line, "gpio input opened");
                reported = false;
                let timing = input::PollTiming::default();
                match input::run_input(
                    pin,
                    &g.name,
                    g.active_low,
                    timing,
                    sink.clone(),
                    cancel.clone(),
                    clock,
                )
                .await
                {
                    Ok(()) => return,
                    Err(e) => tracing::error!(error = %e, "gpio input failed; reopening"),
                }
            }
            Err(e) if !reported => {
                reported = true;
                tracing::error!(
                    error = %e,
                    retry = ?REOPEN_EVERY,
                    "gpio input unavailable; the daemon runs on without it"
                );
            }
            Err(e) => tracing::debug!(error = %e, "gpio input still unavailable"),
        }
        tokio::select! {
            _ = tokio::time::sleep(REOPEN_EVERY) => {}
            _ = cancel.cancelled() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn a_missing_chip_is_an_error_naming_the_gpio_and_path() {
        let g = GpioConfig {
            name: "dock-1-door".into(),
            chip: PathBuf::from("/dev/gpiochip-none-here"),
            line: 17,
            direction: GpioDirection::Input,
            active_low: false,
        };
        let Err(err) = open_line(&g, false) else {
            panic!("opened a chip that does not exist");
        };
        let err = err.to_string();
        assert!(
            err.starts_with(
                "gpio \"dock-1-door\": cannot open line 17 of /dev/gpiochip-none-here: "
            ),
            "{err}"
        );
    }

    #[tokio::test]
    async fn spawn_without_hardware_logs_and_stops_on_cancel() {
        let text = r#"
[gateway]
store = "s"
id = "g"
[[reader]]
id = "r1"
protocol = "replay"
file = "x.jsonl"
antennas = { 1 = "dock-1" }
[[location]]
id = "dock-1"
kind = "dock"
[[dock]]
id = "dock-1"
location = "dock-1"
door_gpio = "door"
lights = { receiving = "amber" }
[[gpio]]
name = "door"
chip = "/dev/gpiochip-none-here"
line = 1
direction = "input"
[[gpio]]
name = "amber"
chip = "/dev/gpiochip-none-here"
line = 2
direction = "output"
"#;
        let config = crate::config::parse(text, std::path::Path::new("t.toml")).expect("config");
        let (tx, _rx) = mpsc::channel(4);
        let (_ltx, lrx) = watch::channel(Vec::new());
        let cancel = CancellationToken::new();
        let tracker = TaskTracker::new();
        spawn(&config, &tx, &lrx, &cancel, &tracker, || 0);
        tracker.close();
        // One input task (retrying), no light task (its only lamp could not be opened).
        assert_eq!(tracker.len(), 1);
        cancel.cancel();
        tracker.wait().await;
    }
}
