//! Waiting on a condition with a bound: what tests do instead of sleeping. Polls every 20 ms
//! and panics with what it waited for (and, with [`wait_until_or`], a detail such as a
//! daemon's log) when the timeout passes.

use std::time::{Duration, Instant};

/// How often a condition is polled.
const POLL: Duration = Duration::from_millis(20);

/// Waits until `cond` holds; panics with `what` after `timeout`.
pub fn wait_until(what: &str, timeout: Duration, cond: impl FnMut() -> bool) {
    wait_until_or(what, timeout, cond, String::new);
}

/// [`wait_until`], with `detail()` (a daemon's log, say) in the failure message.
pub fn wait_until_or(
    what: &str,
    timeout: Duration,
    mut cond: impl FnMut() -> bool,
    detail: impl Fn() -> String,
) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}\n{}",
            detail()
        );
        std::thread::sleep(POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_once_the_condition_holds() {
        let mut calls = 0;
        wait_until("three calls", Duration::from_secs(10), || {
            calls += 1;
            calls == 3
        });
        assert_eq!(calls, 3);
    }

    #[test]
    #[should_panic(expected = "timed out after 0ns waiting for never\nthe detail")]
    fn panics_with_what_and_the_detail() {
        wait_until_or("never", Duration::ZERO, || false, || "the detail".into());
    }
}
