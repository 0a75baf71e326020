//! Exponential reconnect backoff with jitter: each failure doubles the wait up to a cap, a
//! random ±20 % spreads a fleet of gateways reconnecting after the same broker restart, and a
//! success resets it. Pure: the caller sleeps.

use std::time::Duration;

/// Reconnect delays.
#[derive(Debug, Clone)]
pub struct Backoff {
    initial: Duration,
    max: Duration,
    next: Duration,
    state: u64,
}

impl Backoff {
    /// Starts at `initial`, doubles per failure, never exceeds `max` (before jitter).
    pub fn new(initial: Duration, max: Duration) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9e37_79b9, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id());
        Backoff {
            initial,
            max,
            next: initial,
            state: seed | 1,
        }
    }

    /// The wait before the next attempt; doubles the following one.
    pub fn next_delay(&mut self) -> Duration {
        let base = self.next;
        self.next = (self.next * 2).min(self.max);
        // xorshift64: jitter only, not security.
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        let permille = 800 + self.state % 401; // 0.8 ..= 1.2
        base * u32::try_from(permille).unwrap_or(1000) / 1000
    }

    /// A connection succeeded: the next failure waits `initial` again.
    pub fn reset(&mut self) {
        self.next = self.initial;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_with_jitter_caps_and_resets() {
        let mut b = Backoff::new(Duration::from_millis(500), Duration::from_secs(60));
        let delays: Vec<Duration> = (0..12).map(|_| b.next_delay()).collect();
        for (i, d) in delays.iter().enumerate() {
            let base = (500u64 << i.min(7)).min(60_000);
            let ms = d.as_millis() as u64;
            assert!(
                ms >= base * 8 / 10 && ms <= base * 12 / 10,
                "{i}: {ms} vs {base}"
            );
        }
        b.reset();
        assert!(b.next_delay() <= Duration::from_millis(600));
    }
}
