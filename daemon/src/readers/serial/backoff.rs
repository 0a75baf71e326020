//! Reopen pacing for a serial port: exponential backoff with jitter ([`Backoff`]) under a
//! [`BackoffPolicy`]. Owns only the arithmetic of the next delay and when to start over; it
//! never sleeps, opens a port or reads the clock (the caller says how long a connection lasted),
//! so it is deterministic for a given seed.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// How a disconnected port is retried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BackoffPolicy {
    /// Nominal delay before the first reopen after a disconnect.
    pub initial: Duration,
    /// Ceiling of every delay (jitter included): the nominal delay doubles up to it.
    pub max: Duration,
    /// A connection that stayed open at least this long was healthy: the next disconnect
    /// starts again from [`BackoffPolicy::initial`].
    pub healthy_after: Duration,
    /// Relative jitter, 0.0..=1.0: each delay is the nominal one times a uniform factor in
    /// `1 - jitter .. 1 + jitter` (then capped at [`BackoffPolicy::max`]). Readers on one USB
    /// hub that drop together so do not retry in lock step.
    pub jitter: f64,
}

impl Default for BackoffPolicy {
    /// 250 ms doubling to 30 s, ±25 % jitter, reset after a healthy minute.
    fn default() -> Self {
        BackoffPolicy {
            initial: Duration::from_millis(250),
            max: Duration::from_secs(30),
            healthy_after: Duration::from_secs(60),
            jitter: 0.25,
        }
    }
}

/// Exponential backoff with jitter.
///
/// ```
/// use shelfd::readers::serial::backoff::{Backoff, BackoffPolicy};
/// use std::time::Duration;
/// let mut b = Backoff::with_seed(BackoffPolicy { jitter: 0.0, ..BackoffPolicy::default() }, 1);
/// let ms: Vec<u128> = (0..9).map(|_| b.next_delay().as_millis()).collect();
/// assert_eq!(ms, [250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
/// b.connection_ended(Duration::from_secs(61)); // a healthy minute: start over
/// assert_eq!(b.next_delay(), Duration::from_millis(250));
/// ```
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: BackoffPolicy,
    nominal: Duration,
    rng: u64,
}

impl Backoff {
    /// A backoff at its initial delay, with a random jitter seed.
    pub fn new(policy: BackoffPolicy) -> Self {
        // RandomState is seeded from the OS once per process and varied per instance: enough
        // to de-correlate readers without a random-number dependency.
        let seed = RandomState::new().build_hasher().finish();
        Backoff::with_seed(policy, seed)
    }

    /// A backoff at its initial delay with a fixed jitter seed (tests).
    pub fn with_seed(policy: BackoffPolicy, seed: u64) -> Self {
        Backoff {
            nominal: policy.initial,
            policy,
            rng: seed,
        }
    }

    /// The policy in force.
    pub fn policy(&self) -> BackoffPolicy {
        self.policy
    }

    /// The nominal (un-jittered) delay the next [`Backoff::next_delay`] is based on.
    pub fn nominal(&self) -> Duration {
        self.nominal
    }

    /// The delay to wait before the next attempt; the nominal delay then doubles, up to the
    /// policy's maximum.
    pub fn next_delay(&mut self) -> Duration {
        let jitter = self.policy.jitter.clamp(0.0, 1.0);
        let factor = 1.0 - jitter + 2.0 * jitter * self.unit();
        let delay = Duration::try_from_secs_f64(self.nominal.as_secs_f64() * factor)
            .unwrap_or(self.policy.max)
            .min(self.policy.max);
        self.nominal = self.nominal.saturating_mul(2).min(self.policy.max);
        delay
    }

    /// Starts over from the initial delay.
    pub fn reset(&mut self) {
        self.nominal = self.policy.initial;
    }

    /// Tells the backoff how long the connection that just ended stayed open: one that lasted
    /// at least [`BackoffPolicy::healthy_after`] resets it; a short one (a port that opens and
    /// dies at once) keeps the delays growing.
    pub fn connection_ended(&mut self, lasted: Duration) {
        if lasted >= self.policy.healthy_after {
            self.reset();
        }
    }

    /// A uniform draw in `0.0..1.0` (splitmix64).
    fn unit(&mut self) -> f64 {
        self.rng = self.rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(d: Duration) -> u128 {
        d.as_millis()
    }

    #[test]
    fn delays_double_within_jitter_and_cap() {
        for seed in 0..200 {
            let mut b = Backoff::with_seed(BackoffPolicy::default(), seed);
            let mut nominal = 250u128;
            for _ in 0..12 {
                let d = ms(b.next_delay());
                let (lo, hi) = (nominal * 3 / 4, (nominal * 5 / 4).min(30_000));
                assert!(
                    (lo..=hi).contains(&d),
                    "seed {seed}: {d} not in {lo}..={hi}"
                );
                nominal = (nominal * 2).min(30_000);
            }
            assert_eq!(b.nominal(), Duration::from_secs(30));
        }
    }

    #[test]
    fn jitter_spreads_readers_apart() {
        let firsts: std::collections::BTreeSet<u128> = (0..50)
            .map(|seed| ms(Backoff::with_seed(BackoffPolicy::default(), seed).next_delay()))
            .collect();
        assert!(firsts.len() > 20, "{firsts:?}");
        assert!(firsts.iter().all(|d| (187..=312).contains(d)), "{firsts:?}");
    }

    #[test]
    fn only_a_healthy_connection_resets() {
        let mut b = Backoff::with_seed(BackoffPolicy::default(), 9);
        for _ in 0..5 {
            b.next_delay();
        }
        assert_eq!(b.nominal(), Duration::from_secs(8));
        b.connection_ended(Duration::from_secs(59));
        assert_eq!(
            b.nominal(),
            Duration::from_secs(8),
            "a short connection keeps growing"
        );
        b.connection_ended(Duration::from_secs(60));
        assert_eq!(b.nominal(), Duration::from_millis(250));
    }

    #[test]
    fn odd_policies_do_not_panic() {
        let policy = BackoffPolicy {
            initial: Duration::ZERO,
            max: Duration::ZERO,
            healthy_after: Duration::ZERO,
            jitter: 7.0,
        };
        let mut b = Backoff::with_seed(policy, 1);
        assert_eq!(b.next_delay(), Duration::ZERO);
        let mut b = Backoff::with_seed(
            BackoffPolicy {
                initial: Duration::MAX,
                ..BackoffPolicy::default()
            },
            1,
        );
        assert_eq!(b.next_delay(), Duration::from_secs(30));
    }

    /// The schedule in virtual time: sleeping the delays back to back puts attempts where the
    /// policy says, and a paused clock proves it without waiting.
    #[tokio::test(start_paused = true)]
    async fn schedule_in_virtual_time() {
        let start = tokio::time::Instant::now();
        let mut b = Backoff::with_seed(
            BackoffPolicy {
                jitter: 0.0,
                ..BackoffPolicy::default()
            },
            3,
        );
        let mut attempts = Vec::new();
        while start.elapsed() < Duration::from_secs(120) {
            tokio::time::sleep(b.next_delay()).await;
            attempts.push(start.elapsed().as_millis());
        }
        assert_eq!(
            &attempts[..9],
            &[250, 750, 1750, 3750, 7750, 15750, 31750, 61750, 91750]
        );
        assert_eq!(attempts.len(), 10, "{attempts:?}");
    }
}
